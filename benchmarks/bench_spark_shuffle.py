"""Moving Python-stage output through Spark's shuffle: rows vs Arrow IPC bytes, and joins per partition.

Usage: ``python benchmarks/bench_spark_shuffle.py [--rows 1e6,4e6] [--partitions 4]
[--rounds 2] [--master local[2]]``. Writes ``benchmarks/results/spark_shuffle.{json,md}`` with
date, machine and commit (only from the script; the pytest entry point writes nothing).

A Python stage (``mapInArrow`` over ``spark.range``, like the plugin's split stages) makes N
lineitem-like rows (2 int64, 2 float64, 1 short string) in 64k-row batches; they are
hash-partitioned to P partitions and a Python consumer per partition checks them (row count,
sum of the key) and reports its peak RSS. Ways, each timed from the first task to the collected
per-partition summary:

- ``rows``: the batches as Spark rows, ``repartition(P, key)``, ``mapInArrow`` consumer.
- ``bytes``: the producer hashes the key in Python, cuts each batch by target partition and
  writes each piece as one Arrow IPC stream in a binary column, tagged with a value that
  Spark's own ``pmod(hash(tag), P)`` sends to exactly that partition; ``repartition(P, tag)``
  moves a few large binary values; the consumer deserialises them.
- ``rdd``: ``(partition id, IPC bytes)`` pairs, ``RDD.partitionBy(P, identity)``,
  ``mapPartitions`` consumer (the JVM sees only pickled bytes).
- ``fused``: producer and consumer in one task, nothing shuffled (the Python floor).
- ``jvm``: plain Spark's own rows (``spark.range`` columns), ``repartition(P, key)``, count:
  what a shuffle costs Spark itself.

Joins (left N rows, right N/4 rows with a unique key; the consumer joins in Polars and reports
count and a checksum): ``join_rows_cogroup`` (Spark computes the partition id, rows cross the
shuffle, ``cogroup(...).applyInArrow`` per partition), ``join_bytes_cogroup`` (IPC bytes,
cogroup on the tag), ``join_bytes_union`` (both sides' bytes in one ``union``, one
``repartition(P, tag)``, ``mapInArrow`` joins what each partition holds), ``join_broadcast``
(the right side's IPC bytes collected and sent once with ``sc.broadcast``, each producer task
joins its rows with it, decoded once per Python worker; nothing shuffled), ``join_spark``
(Spark's own sort-merge join of the Python-made rows, broadcast off).

Peak RSS per task: ``/proc/self/clear_refs`` reset at task start, ``VmHWM`` at the end (Linux;
Python workers are reused between tasks, so the start RSS is reported too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "benchmarks") not in sys.path:  # the task module next to this one, under pytest too
    sys.path.insert(0, str(ROOT / "benchmarks"))

import spark_shuffle_tasks  # noqa: E402
from spark_shuffle_tasks import (  # noqa: E402
    BYTES_SCHEMA,
    ROWS_SCHEMA,
    SUMMARY,
    broadcast_joiner,
    byte_consumer,
    byte_producer,
    cogroup_bytes,
    cogroup_rows,
    fused,
    producer,
    rdd_consumer,
    rdd_pieces,
    routing_tags,
    row_consumer,
    source,
    union_join,
)

RESULTS = ROOT / "benchmarks" / "results"


def method_plans(
    spark: Any, rows: int, partitions: int, tasks: int
) -> dict[str, Callable[[], list]]:
    """Each way as a function that runs it once and returns the per-partition summaries."""
    from pyspark.sql import functions as F

    tags = routing_tags(spark, partitions)
    src = source(spark, tasks)
    right_rows = max(1, rows // 4)

    def rows_way() -> list:
        made = src.mapInArrow(producer(rows, tasks), ROWS_SCHEMA)
        return made.repartition(partitions, "k").mapInArrow(row_consumer, SUMMARY).collect()

    def bytes_way() -> list:
        made = src.mapInArrow(byte_producer(rows, tasks, partitions, tags), BYTES_SCHEMA)
        return made.repartition(partitions, "tag").mapInArrow(byte_consumer, SUMMARY).collect()

    def rdd_way() -> list:
        sc = spark.sparkContext
        pairs = sc.parallelize(range(tasks), tasks).mapPartitions(
            rdd_pieces(rows, tasks, partitions)
        )
        return pairs.partitionBy(partitions, lambda pid: pid).mapPartitions(rdd_consumer).collect()

    def fused_way() -> list:
        return src.mapInArrow(fused(rows, tasks), SUMMARY).collect()

    def jvm_way() -> list:
        made = spark.range(0, rows, numPartitions=tasks).selectExpr(
            "id AS k",
            "(id * 7) % 1000 AS k2",
            "id * 0.5 AS f1",
            "sin(id) AS f2",
            "concat('MODE', lpad(cast(id % 100 as string), 3, '0')) AS s",
        )
        shuffled = made.repartition(partitions, "k")
        return shuffled.groupBy(F.spark_partition_id().alias("part")).count().collect()

    def left_right_rows() -> tuple[Any, Any]:
        left = src.mapInArrow(producer(rows, tasks, right_rows), ROWS_SCHEMA)
        right = src.mapInArrow(producer(right_rows, tasks), ROWS_SCHEMA)
        return left, right

    def join_rows_cogroup() -> list:
        left, right = left_right_rows()
        pid = F.pmod(F.hash("k"), F.lit(partitions)).alias("pid")
        grouped = left.select(pid, "*").groupBy("pid")
        other = right.select(pid, "*").groupBy("pid")
        return grouped.cogroup(other).applyInArrow(cogroup_rows, SUMMARY).collect()

    def byte_sides() -> tuple[Any, Any]:
        left = src.mapInArrow(
            byte_producer(rows, tasks, partitions, tags, right_rows, 0), BYTES_SCHEMA
        )
        right = src.mapInArrow(
            byte_producer(right_rows, tasks, partitions, tags, 0, 1), BYTES_SCHEMA
        )
        return left, right

    def join_bytes_cogroup() -> list:
        left, right = byte_sides()
        grouped = left.groupBy("tag").cogroup(right.groupBy("tag"))
        return grouped.applyInArrow(cogroup_bytes, SUMMARY).collect()

    def join_bytes_union() -> list:
        left, right = byte_sides()
        both = left.unionByName(right).repartition(partitions, "tag")
        return both.mapInArrow(union_join, SUMMARY).collect()

    def join_broadcast() -> list:
        # The right side's stage runs as its own job; its IPC bytes come to the driver (as
        # Spark's BroadcastExchange collects) and go out once through sc.broadcast.
        right = src.mapInArrow(
            byte_producer(right_rows, tasks, 1, [0], 0, 1), BYTES_SCHEMA
        ).collect()
        shared = spark.sparkContext.broadcast([bytes(r["payload"]) for r in right])
        try:
            shared_id = int(shared._jbroadcast.id())  # the worker-side object has no id
            joiner = broadcast_joiner(rows, tasks, right_rows, shared, shared_id)
            return src.mapInArrow(joiner, SUMMARY).collect()
        finally:
            shared.unpersist()

    def join_spark() -> list:
        left, right = left_right_rows()
        joined = left.join(right.select("k", F.col("f1").alias("rf1")), "k")
        return [
            joined.agg(F.count(F.lit(1)).alias("rows"), F.sum("rf1").alias("checksum")).collect()
        ]

    return {
        "rows": rows_way,
        "bytes": bytes_way,
        "rdd": rdd_way,
        "fused": fused_way,
        "jvm": jvm_way,
        "join_rows_cogroup": join_rows_cogroup,
        "join_bytes_cogroup": join_bytes_cogroup,
        "join_bytes_union": join_bytes_union,
        "join_broadcast": join_broadcast,
        "join_spark": join_spark,
    }


def _check(name: str, result: list, rows: int) -> dict[str, Any]:
    """Rows and checksum against the expected totals; per-task peak RSS."""
    if name == "jvm":
        total = sum(int(r["count"]) for r in result)
        return {"rows": total, "ok": total == rows}
    if name == "join_spark":
        row = result[0][0]
        right_rows = max(1, rows // 4)
        return {"rows": int(row["rows"]), "ok": int(row["rows"]) == rows, "right": right_rows}
    records = [r.asDict() if hasattr(r, "asDict") else r for r in result]
    total = sum(int(r["rows"]) for r in records)
    checksum = sum(float(r["checksum"]) for r in records)
    if name.startswith("join"):
        right_rows = max(1, rows // 4)
        # left key k = i % right_rows matches the right row i (f1 = i * 0.5), once per left row.
        per = sum(i * 0.5 for i in range(min(right_rows, rows)))
        expected = per * (rows // right_rows) + sum(i * 0.5 for i in range(rows % right_rows))
    else:
        expected = float(rows) * (rows - 1) / 2
    return {
        "rows": total,
        "ok": total == rows and abs(checksum - expected) <= 1e-9 * max(1.0, abs(expected)),
        "partitions": len(records),
        "rss_peak_mb": round(max(float(r["rss_peak_mb"]) for r in records), 1),
        "rss_start_mb": round(max(float(r["rss_start_mb"]) for r in records), 1),
    }


def session(master: str, partitions: int) -> Any:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.shuffle.partitions", str(partitions))
        # The same P partitions for every way (cogroup's shuffle would otherwise be coalesced).
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
        .config("spark.sql.autoBroadcastJoinThreshold", "-1")
        .config("spark.sql.session.timeZone", "UTC")
    )
    if master.startswith("local-cluster"):
        builder = builder.config("spark.executor.memory", "768m")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def measure(
    sizes: list[int],
    partitions: int,
    rounds: int,
    master: str,
    names: list[str] | None = None,
) -> dict[str, Any]:
    """Best of ``rounds`` alternating rounds per way and size, in one Spark session."""
    from pyspark import cloudpickle

    # By value: under pytest this module is not importable in the Python workers.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cloudpickle.register_pickle_by_value(spark_shuffle_tasks)
    spark = session(master, partitions)
    tasks = 4
    results: list[dict[str, Any]] = []
    try:
        warm = method_plans(spark, 1000, partitions, tasks)
        for name in names or list(warm):
            warm[name]()  # Python workers and JVM code paths
        for rows in sizes:
            plans = method_plans(spark, rows, partitions, tasks)
            chosen = names or list(plans)
            best = {n: float("inf") for n in chosen}
            checks: dict[str, dict[str, Any]] = {}
            for _ in range(rounds):
                for name in chosen:
                    t0 = time.perf_counter()
                    out = plans[name]()
                    best[name] = min(best[name], time.perf_counter() - t0)
                    checks[name] = _check(name, out, rows)
            for name in chosen:
                row = {"way": name, "rows": rows, "seconds": round(best[name], 3), **checks[name]}
                row["mrows_per_s"] = round(rows / best[name] / 1e6, 2)
                base = "join_rows_cogroup" if name.startswith("join") else "rows"
                if base in best:
                    row["vs_rows"] = round(best[base] / best[name], 2)
                results.append(row)
                print(json.dumps(row), flush=True)
    finally:
        spark.stop()
    return {
        "meta": {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": _machine(),
            "commit": _commit(),
            "spark": f"pyspark {_pyspark_version()}, {master}, P={partitions}, 4 producer tasks",
            "method": f"best of {rounds} alternating rounds per way and size, one session",
        },
        "rows": results,
    }


def _pyspark_version() -> str:
    import pyspark

    return str(pyspark.__version__)


def _machine() -> str:
    return (
        f"{platform.node()} ({os.cpu_count()} CPUs, {platform.machine()}, shared with other work)"
    )


def _commit() -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from provenance import commit

    return commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="1e6,4e6")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--ways", default="", help="comma-separated subset of the ways")
    parser.add_argument("--out", default="spark_shuffle")
    args = parser.parse_args(argv)
    sizes = [int(float(x)) for x in args.rows.split(",")]
    names = [n for n in args.ways.split(",") if n] or None
    report = measure(sizes, args.partitions, args.rounds, args.master, names)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=1))
    lines = [f"# Spark shuffle of Python-stage output ({args.master})", ""]
    lines += [f"- {k}: {v}" for k, v in report["meta"].items()]
    lines += [
        "",
        "| way | rows | seconds | M rows/s | vs rows | peak RSS/task (MiB) | ok |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['way']} | {r['rows']:,} | {r['seconds']:.2f} | {r['mrows_per_s']} | "
            f"{r.get('vs_rows', '')} | {r.get('rss_peak_mb', '')} | {'yes' if r['ok'] else 'NO'} |"
        )
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["ok"] for r in report["rows"]) else 1


@pytest.mark.benchmark(group="spark-shuffle")
def test_shuffle_rows_vs_bytes(benchmark) -> None:  # type: ignore[no-untyped-def]
    """``make bench``: every way at ``BENCH_SHUFFLE_ROWS`` (default 1e6) on ``local[2]``."""
    sizes = [int(float(x)) for x in os.environ.get("BENCH_SHUFFLE_ROWS", "1e6").split(",")]
    report = benchmark.pedantic(measure, args=(sizes, 4, 2, "local[2]"), rounds=1, iterations=1)
    benchmark.extra_info.update(report["meta"])
    benchmark.extra_info["vs_rows"] = {
        f"{r['way']}@{r['rows']}": r.get("vs_rows") for r in report["rows"]
    }
    wrong = [f"{r['way']}@{r['rows']}" for r in report["rows"] if not r["ok"]]
    assert not wrong, f"ways whose rows or checksum are wrong: {wrong}"


if __name__ == "__main__":
    raise SystemExit(main())
