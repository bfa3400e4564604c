"""The py4j side of planning: where each LogicalRelation of the live JVM plan keeps its files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Relation:
    """What the py4j walk found about one LogicalRelation (keyed by its first output exprId)."""

    table: str
    files: tuple[str, ...]
    total_bytes: int
    #: Why we cannot read it ourselves ("" when we can).
    problem: str = ""


def local_path(uri: str) -> str | None:
    if uri.startswith("file:"):
        path = uri[len("file:") :]
        while path.startswith("//"):
            path = path[1:]
        return path
    if "://" in uri:
        return None
    return uri


def find_relations(jplan: Any) -> dict[int, Relation]:
    """The LogicalRelations of the live JVM plan and of all its (nested) subqueries.

    Leaves come in one py4j call per plan (``collectLeaves``) instead of a walk of several calls
    per node: planning TPC-H q18 walked 29 nodes in ~50 ms.
    """
    found: dict[int, Relation] = {}
    subqueries = jplan.subqueriesAll()
    plans = [jplan, *(subqueries.apply(i) for i in range(subqueries.size()))]
    for plan in plans:
        leaves = plan.collectLeaves()
        for i in range(leaves.size()):
            leaf = leaves.apply(i)
            if leaf.nodeName() != "LogicalRelation":
                continue
            output = leaf.output()
            if output.size() > 0:
                found[int(output.apply(0).exprId().id())] = _describe_relation(leaf)
    return found


def _describe_relation(jplan: Any) -> Relation:
    relation = jplan.relation()
    kind = relation.getClass().getSimpleName()
    if kind != "HadoopFsRelation":
        return Relation(kind, (), 0, f"relation {kind} is not a file source")
    file_format = relation.fileFormat().getClass().getSimpleName()
    if file_format != "ParquetFileFormat":
        return Relation(file_format, (), 0, f"{file_format} files are not read by the plugin")
    if relation.partitionSchema().length() > 0:
        return Relation("parquet", (), 0, "partitioned Parquet tables are not offloaded yet")
    options = relation.options()
    for option in ("mergeSchema", "datetimeRebaseMode", "int96RebaseMode"):
        if options.contains(option):
            return Relation("parquet", (), 0, f"Parquet option {option} is not offloaded")
    uris = list(relation.location().inputFiles())
    files = []
    for uri in uris:
        path = local_path(str(uri))
        if path is None:
            return Relation("parquet", (), 0, f"{uri} is not on a local file system")
        files.append(path)
    files.sort()
    table = os.path.splitext(os.path.basename(files[0]))[0] if files else "empty"
    if len(files) > 1:
        table = os.path.basename(os.path.dirname(files[0])) or table
    total = sum(os.path.getsize(f) for f in files)
    return Relation(table, tuple(files), total)
