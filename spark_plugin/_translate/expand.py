"""Spark's Expand → ``_ir.Expand``, and what an aggregate above one may rely on.

Spark plans an Expand for ROLLUP / CUBE / GROUPING SETS (one projection per grouping set, the
rolled-up keys NULL, ``spark_grouping_id`` a literal) and for several DISTINCT aggregates
(``RewriteDistinctAggregates``: one projection per distinct group and one for the plain
aggregates, told apart by a literal ``gid``).
"""

from __future__ import annotations

from spark_plugin import _ir, _types
from spark_plugin._ir import Call, Col, Expr, Lit, Plan
from spark_plugin._translate.exprs import ExprTranslator
from spark_plugin._translate.nodes import JsonNode, Unsupported, internal_name, tree


def expand_node(tr: ExprTranslator, node: JsonNode, child: Plan | None) -> _ir.Expand | None:
    """The Expand over ``child``; None when ``child`` did not translate (the reasons of this
    node's own expressions are still recorded)."""
    output: list[tuple[str, str]] = []
    for nodes in node["output"]:
        attr = nodes[0]
        dtype = attr["dataType"]
        if not isinstance(dtype, str) or not _types.is_supported(dtype):
            raise tr.fail(f"Expand column {attr['name']} of type {dtype} is not offloaded")
        output.append((internal_name(attr), dtype))
    projections: list[tuple[Expr, ...]] = []
    for projection in node["projections"]:
        exprs: list[Expr] = []
        for nodes, (_, dtype) in zip(projection, output, strict=True):
            try:
                expr = tr.expr(tree(nodes))
            except Unsupported:
                continue  # recorded; the rest still show their reasons
            if isinstance(expr, Lit) and expr.value is None:
                expr = Lit(None, dtype)  # a typed NULL: the projections concatenate
            elif expr.dtype != dtype:
                tr.fail(f"Expand of {expr.dtype} into a {dtype} column is not offloaded")
                continue
            exprs.append(expr)
        projections.append(tuple(exprs))
    if child is None:
        return None
    return _ir.Expand(_distinct_columns(child), tuple(projections), tuple(output))


def _distinct_columns(child: Plan) -> Plan:
    """Spark's Project under an Expand may list a column twice (CUBE of ``x`` with ``sum(x)``);
    the Expand reads it by name, once."""
    if not isinstance(child, _ir.Project):
        return child
    kept: dict[str, Expr] = {}
    for name, expr in child.exprs:
        if kept.setdefault(name, expr) != expr:
            return child  # one name for two expressions: not Spark's duplicate
    return _ir.Project(child.child, tuple(kept.items()))


def one_row_per_group(child: Plan, keys: list[tuple[str, Expr]], condition: Expr | None) -> bool:
    """Whether each group of ``keys`` over ``child`` has at most one row where ``condition``
    holds: Spark's distinct rewrite reads its plain aggregates with ``first(x) IGNORE NULLS
    FILTER (WHERE gid = 0)`` from an Aggregate over the Expand grouped by the outer keys, the
    distinct columns and ``gid``, whose ``gid = 0`` projection sets those distinct columns to
    NULL: one row per outer group, so ``first`` is that row's value whatever the row order."""
    if not (isinstance(condition, Call) and condition.op == "eq"):
        return False
    gid, value = condition.args
    if not isinstance(gid, Col) or not isinstance(value, Lit) or value.value is None:
        return False
    if not isinstance(child, _ir.Project) or not isinstance(child.child, _ir.Aggregate):
        return False
    inner = child.child
    if not isinstance(inner.child, _ir.Expand):
        return False
    expand = inner.child
    passed = dict(child.exprs)  # the Project's names -> columns of the inner aggregate
    inner_keys = dict(inner.keys)
    position = {name: i for i, (name, _) in enumerate(expand.output)}

    def expand_column(outer: Expr) -> str | None:
        """The Expand column an outer column carries as an inner grouping key, unchanged."""
        outer = _plain(outer)
        if not isinstance(outer, Col) or not isinstance(passed.get(outer.name), Col):
            return None
        key = inner_keys.get(passed[outer.name].name)  # type: ignore[union-attr]
        key = None if key is None else _plain(key)
        return key.name if isinstance(key, Col) and key.name in position else None

    gid_column = expand_column(gid)
    if gid_column is None:
        return False
    fixed = {expand_column(e) for _, e in keys} | {gid_column}
    chosen = [
        p
        for p in expand.projections
        if len(p) == len(expand.output) and p[position[gid_column]] == Lit(value.value, gid.dtype)
    ]
    if len(chosen) != 1:
        return False
    for _, key in inner.keys:
        column = _plain(key)
        if not isinstance(column, Col) or column.name not in position:
            return False
        if column.name in fixed:
            continue
        produced = chosen[0][position[column.name]]
        if not (isinstance(produced, Lit) and produced.value is None):
            return False
    return True


def _plain(e: Expr) -> Expr:
    """A grouping key without the -0.0 / NaN normalization of floating point keys."""
    if isinstance(e, Call) and e.op == "normalize":
        return e.args[0]
    return e
