"""Read Spark's physical plan (with AQE's final plan) through py4j and print the stage cuts it implies.

Prototype for ``docs/design/spark-distribution.md``. Usage::

    .venv/bin/python benchmarks/prototypes/physical_plan.py [--sf 0.01] [--queries 3,18]
        [--broadcast-threshold 10m] [--master local[2]]

For each query it prints the initial plan (``executedPlan`` before the action is an
``AdaptiveSparkPlanExec``; its ``initialPlan`` is Spark's static choice with the exchanges
inserted, while its ``inputPlan`` is the plan before ``EnsureRequirements``, without them), runs the query, then
prints AQE's final plan (the same object's ``executedPlan`` after execution, with the query
stages it materialised) and the stages: every ``ShuffleExchangeExec`` ends a map stage and
starts a reduce stage; every ``BroadcastExchangeExec`` is a separate job whose result the
driver collects and broadcasts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Node:
    """One physical operator, with what decides distribution pulled out of the JVM object."""

    name: str
    detail: str
    children: list[Node] = field(default_factory=list)


def _seq(scala_seq: Any) -> list[Any]:
    return [scala_seq.apply(i) for i in range(scala_seq.size())]


def _exprs(scala_seq: Any) -> str:
    return ", ".join(str(e.sql()) if hasattr(e, "sql") else str(e) for e in _seq(scala_seq))


def _detail(plan: Any, cls: str) -> str:
    """The facts about ``plan`` that decide the stage cut, read through its Scala accessors."""
    if cls == "ShuffleExchangeExec":
        part = plan.outputPartitioning()
        kind = part.getClass().getSimpleName()
        if kind == "HashPartitioning":
            return f"hashpartitioning({_exprs(part.expressions())}, {part.numPartitions()})"
        if kind == "RangePartitioning":
            return f"rangepartitioning({_exprs(part.ordering())}, {part.numPartitions()})"
        return f"{kind} ({part.numPartitions()})"
    if cls == "BroadcastExchangeExec":
        return f"mode={plan.mode().getClass().getSimpleName().rstrip('$')}"
    if cls in ("BroadcastHashJoinExec", "ShuffledHashJoinExec", "SortMergeJoinExec"):
        build = ""
        if cls != "SortMergeJoinExec":
            build = f" build={plan.buildSide().toString()}"
        return (
            f"{plan.joinType().toString()} on [{_exprs(plan.leftKeys())}] = "
            f"[{_exprs(plan.rightKeys())}]{build}"
        )
    if cls in ("HashAggregateExec", "ObjectHashAggregateExec", "SortAggregateExec"):
        aggs = _seq(plan.aggregateExpressions())
        modes = sorted({a.mode().toString() for a in aggs}) or ["(keys only)"]
        return f"mode={'/'.join(modes)} keys=[{_exprs(plan.groupingExpressions())}]"
    if cls == "TakeOrderedAndProjectExec":
        return f"limit={plan.limit()} order=[{_exprs(plan.sortOrder())}]"
    if cls == "SortExec":
        return f"global={getattr(plan, 'global')()} [{_exprs(plan.sortOrder())}]"
    if cls in ("ShuffleQueryStageExec", "BroadcastQueryStageExec"):
        stats = plan.getRuntimeStatistics()
        rows = stats.rowCount()
        rows = rows.get() if rows.isDefined() else "?"
        return f"id={plan.id()} bytes={stats.sizeInBytes()} rows={rows}"
    if cls == "AQEShuffleReadExec":
        return f"{len(_seq(plan.partitionSpecs()))} partitions after AQE"
    if cls == "FileSourceScanExec":
        files = plan.relation().location().inputFiles()
        return ", ".join(Path(str(f)).name for f in files)[:80]
    return ""


def _children(plan: Any, cls: str) -> list[Any]:
    if cls == "AdaptiveSparkPlanExec":
        return [plan.executedPlan()]
    if cls.endswith("QueryStageExec"):  # Shuffle/Broadcast/Result (4.x) query stages
        return [plan.plan()]
    if cls == "ReusedExchangeExec":
        return [plan.child()]
    return _seq(plan.children())


def tree(plan: Any) -> Node:
    cls = plan.getClass().getSimpleName()
    kids = [
        tree(c)
        for c in _children(plan, cls)
        # WholeStageCodegen / InputAdapter are codegen wrappers: show what they hold.
    ]
    node = Node(cls, _detail(plan, cls), kids)
    if cls in ("WholeStageCodegenExec", "InputAdapter") and len(kids) == 1:
        return kids[0]
    return node


def render(node: Node, depth: int = 0, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    out.append(f"{'  ' * depth}{node.name} {node.detail}".rstrip())
    for child in node.children:
        render(child, depth + 1, out)
    return out


def stages(node: Node) -> list[str]:
    """One line per stage the exchanges cut the plan into (top stage first)."""
    lines: list[str] = []

    def ops(n: Node, acc: list[str], pending: list[tuple[str, Node]]) -> None:
        if n.name == "ReusedExchangeExec":  # the exchange below ran once, listed elsewhere
            acc.append("<reused exchange read>")
            return
        if n.name in ("ShuffleExchangeExec", "BroadcastExchangeExec"):
            pending.append((n.name, n))
            acc.append(f"<{'shuffle' if n.name.startswith('Shuffle') else 'broadcast'} read>")
            return
        if n.name not in (
            "AdaptiveSparkPlanExec",
            "ShuffleQueryStageExec",
            "BroadcastQueryStageExec",
            "ResultQueryStageExec",
            "ReusedExchangeExec",
            "ColumnarToRowExec",
            "ProjectExec",
            "FilterExec",
        ):
            acc.append(f"{n.name.removesuffix('Exec')}({n.detail[:50]})" if n.detail else n.name)
        for c in n.children:
            ops(c, acc, pending)

    queue: list[tuple[str, Node]] = [("result", node)]
    while queue:
        kind, top = queue.pop(0)
        acc: list[str] = []
        pending: list[tuple[str, Node]] = []
        for c in top.children if kind != "result" else [top]:
            ops(c, acc, pending)
        label = {"result": "result stage", "ShuffleExchangeExec": "shuffle map stage"}.get(
            kind, "broadcast job"
        )
        target = f" -> {top.detail}" if kind != "result" else ""
        lines.append(f"{label}{target}: {' | '.join(acc)}")
        queue.extend(pending)
    return lines


def _tpch() -> Any:
    spec = importlib.util.spec_from_file_location("tpch", ROOT / "benchmarks/tpch/generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=0.01)
    parser.add_argument("--queries", default="3,18")
    parser.add_argument("--broadcast-threshold", default="10m")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    tpch = _tpch()
    data = tpch.generate(args.sf, ROOT / "benchmarks" / ".data" / f"tpch_sf{args.sf:g}")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(args.master)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.autoBroadcastJoinThreshold", args.broadcast_threshold)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for table in tpch.TABLES:
            spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)
        for q in (int(x) for x in args.queries.split(",")):
            df = spark.sql(tpch.query(q))
            adaptive = df._jdf.queryExecution().executedPlan()
            print(f"== q{q} SF{args.sf:g} threshold={args.broadcast_threshold}: initial plan ==")
            print("\n".join(render(tree(adaptive.initialPlan()))))
            print("-- stages (static) --")
            print("\n".join(stages(tree(adaptive.initialPlan()))))
            df.collect()
            print(f"== q{q}: AQE final plan (isFinalPlan={adaptive.isFinalPlan()}) ==")
            final = tree(adaptive)
            print("\n".join(render(final)))
            print("-- stages (final) --")
            print("\n".join(stages(final)))
            print()
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
