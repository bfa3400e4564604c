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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BATCH_ROWS = 1 << 16
#: IPC pieces of one target partition are buffered up to this size before they are emitted.
PIECE_BYTES = 4 << 20
SUMMARY = "part int, rows long, checksum double, rss_start_mb double, rss_peak_mb double"


# -- inside the Python workers ----------------------------------------------------------------


def _rss_reset() -> float:
    """Reset the peak-RSS counter of this process; the current RSS in MiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status("VmRSS")
    except OSError:
        return float("nan")


def _status(field: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_batches(task: int, rows: int, tasks: int, key_mod: int = 0) -> Iterator[Any]:
    """Task ``task``'s share of ``rows`` lineitem-like rows, as 64k-row Arrow batches."""
    import numpy as np
    import pyarrow as pa

    per = -(-rows // tasks)
    start, stop = task * per, min(rows, (task + 1) * per)
    words = pa.array([f"MODE{j:03d}" for j in range(100)])
    for lo in range(start, stop, BATCH_ROWS):
        i = np.arange(lo, min(stop, lo + BATCH_ROWS), dtype=np.int64)
        key = i % key_mod if key_mod else i
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(key),
                pa.array((i * 7) % 1000),
                pa.array(i * 0.5),
                pa.array(np.sin(i.astype(np.float64))),
                words.take(pa.array(i % 100)),
            ],
            names=["k", "k2", "f1", "f2", "s"],
        )


def partition_ids(keys: Any, partitions: int) -> Any:
    """The target partition of each int64 key (a multiplicative hash, the same on both sides)."""
    import numpy as np

    mixed = keys.to_numpy(zero_copy_only=False).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(33)) % np.uint64(partitions)).astype(np.int32)


def to_pieces(batches: Iterator[Any], partitions: int) -> Iterator[tuple[int, bytes]]:
    """Cut each batch by target partition; one Arrow IPC stream per (partition, ~4 MiB)."""
    import numpy as np
    import pyarrow as pa

    pending: dict[int, list[Any]] = {}
    sizes: dict[int, int] = {}

    def flush(pid: int) -> tuple[int, bytes]:
        sink = pa.BufferOutputStream()
        chunks = pending.pop(pid)
        sizes.pop(pid)
        with pa.ipc.new_stream(sink, chunks[0].schema) as writer:
            for chunk in chunks:
                writer.write_batch(chunk)
        return pid, sink.getvalue().to_pybytes()

    for batch in batches:
        pids = partition_ids(batch.column(0), partitions)
        order = np.argsort(pids, kind="stable")
        cut = np.searchsorted(pids[order], np.arange(partitions + 1))
        sorted_batch = batch.take(pa.array(order))
        for pid in range(partitions):
            if cut[pid + 1] > cut[pid]:
                piece = sorted_batch.slice(cut[pid], cut[pid + 1] - cut[pid])
                pending.setdefault(pid, []).append(piece)
                sizes[pid] = sizes.get(pid, 0) + piece.nbytes
                if sizes[pid] >= PIECE_BYTES:
                    yield flush(pid)
    for pid in list(pending):
        yield flush(pid)


def from_pieces(payloads: Iterator[bytes]) -> Any:
    """The rows of IPC streams, as one Arrow table."""
    import pyarrow as pa

    tables = [pa.ipc.open_stream(p).read_all() for p in payloads]
    return pa.concat_tables(tables) if tables else None


def summary(part: int, table: Any, rss_start: float, checksum_column: str = "k") -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = 0 if table is None else table.num_rows
    checksum = 0.0
    if rows:
        checksum = float(pc.sum(table.column(checksum_column).cast(pa.float64())).as_py() or 0.0)
    return pa.RecordBatch.from_pydict(
        {
            "part": pa.array([part], pa.int32()),
            "rows": pa.array([rows], pa.int64()),
            "checksum": [checksum],
            "rss_start_mb": [rss_start],
            "rss_peak_mb": [_status("VmHWM")],
        }
    )


def _task_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def _tasks_of(source: Iterator[Any]) -> Iterator[int]:
    """The producer task numbers this task was given (the ``spark.range`` ids): not the Spark
    partition id, which a ``union`` renumbers."""
    for batch in source:
        yield from batch.column(0).to_pylist()


def producer(rows: int, tasks: int, key_mod: int = 0) -> Callable[[Iterator[Any]], Iterator[Any]]:
    def run(source: Iterator[Any]) -> Iterator[Any]:
        for task in _tasks_of(source):
            yield from make_batches(task, rows, tasks, key_mod)

    return run


def byte_producer(
    rows: int, tasks: int, partitions: int, tags: list[int], key_mod: int = 0, side: int = 0
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    def run(source: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        batches = (b for t in _tasks_of(source) for b in make_batches(t, rows, tasks, key_mod))
        for pid, payload in to_pieces(batches, partitions):
            yield pa.RecordBatch.from_pydict(
                {
                    "tag": pa.array([tags[pid]], pa.int32()),
                    "side": pa.array([side], pa.int8()),
                    "payload": pa.array([payload], pa.binary()),
                }
            )

    return run


def row_consumer(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    start = _rss_reset()
    table = pa.Table.from_batches(list(batches))
    yield summary(_task_id(), table, start)


def byte_consumer(batches: Iterator[Any]) -> Iterator[Any]:
    start = _rss_reset()
    table = from_pieces(p for b in batches for p in b.column("payload").to_pylist())
    yield summary(_task_id(), table, start)


def fused(rows: int, tasks: int) -> Callable[[Iterator[Any]], Iterator[Any]]:
    def run(source: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        start = _rss_reset()
        made = [b for t in _tasks_of(source) for b in make_batches(t, rows, tasks)]
        table = pa.Table.from_batches(made) if made else None
        yield summary(_task_id(), table, start)

    return run


def join_tables(left: Any, right: Any, part: int, start: float) -> Any:
    """Inner join on ``k`` in Polars; the summary's checksum is the sum of the right's ``f1``."""
    import polars as pl

    if left is None or right is None or not left.num_rows or not right.num_rows:
        return summary(part, None, start)
    joined = pl.from_arrow(left).join(
        pl.from_arrow(right).select("k", pl.col("f1").alias("rf1")), on="k"
    )
    return summary(part, joined.to_arrow(), start, "rf1")


def cogroup_rows(left: Any, right: Any) -> Any:
    start = _rss_reset()
    return pa_table(join_tables(left, right, _task_id(), start))


def cogroup_bytes(left: Any, right: Any) -> Any:
    start = _rss_reset()
    lt = from_pieces(iter(left.column("payload").to_pylist()))
    rt = from_pieces(iter(right.column("payload").to_pylist()))
    return pa_table(join_tables(lt, rt, _task_id(), start))


def union_join(batches: Iterator[Any]) -> Iterator[Any]:
    start = _rss_reset()
    sides: dict[int, list[bytes]] = {0: [], 1: []}
    for batch in batches:
        for side, payload in zip(
            batch.column("side").to_pylist(), batch.column("payload").to_pylist(), strict=True
        ):
            sides[side].append(payload)
    left, right = from_pieces(iter(sides[0])), from_pieces(iter(sides[1]))
    yield join_tables(left, right, _task_id(), start)


def broadcast_joiner(
    rows: int, tasks: int, key_mod: int, shared: Any, shared_id: int
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """Each producer task joins its own rows with the broadcast right side: no shuffle."""

    def run(source: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        start = _rss_reset()
        made = [b for t in _tasks_of(source) for b in make_batches(t, rows, tasks, key_mod)]
        left = pa.Table.from_batches(made) if made else None
        yield join_tables(left, _broadcast_table(shared, shared_id), _task_id(), start)

    return run


#: Decoded broadcast tables per Python worker (reused workers decode a broadcast once).
_BROADCAST_CACHE: dict[int, Any] = {}


def _broadcast_table(shared: Any, shared_id: int) -> Any:
    if shared_id not in _BROADCAST_CACHE:
        _BROADCAST_CACHE[shared_id] = from_pieces(iter(shared.value))
    return _BROADCAST_CACHE[shared_id]


def pa_table(batch: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_batches([batch])


def rdd_pieces(rows: int, tasks: int, partitions: int) -> Callable[[Iterator[Any]], Iterator[Any]]:
    def run(source: Iterator[int]) -> Iterator[Any]:
        batches = (b for t in source for b in make_batches(t, rows, tasks))
        yield from to_pieces(batches, partitions)

    return run


def rdd_consumer(pairs: Iterator[tuple[int, bytes]]) -> Iterator[dict[str, float]]:
    start = _rss_reset()
    table = from_pieces(p for _, p in pairs)
    yield summary(_task_id(), table, start).to_pylist()[0]


# -- on the driver ----------------------------------------------------------------------------


def routing_tags(spark: Any, partitions: int) -> list[int]:
    """For each partition p, an int whose Spark ``pmod(hash(tag), partitions)`` is p: a column of
    these makes ``repartition(partitions, tag)`` send each row to the partition chosen in Python."""
    found = (
        spark.range(0, 64 * partitions)
        .selectExpr("cast(id as int) AS tag", f"pmod(hash(cast(id as int)), {partitions}) AS p")
        .groupBy("p")
        .agg({"tag": "min"})
        .collect()
    )
    tags = {int(r[0]): int(r[1]) for r in found}
    assert sorted(tags) == list(range(partitions)), "no tag found for some partition"
    return [tags[p] for p in range(partitions)]


def _source(spark: Any, tasks: int) -> Any:
    return spark.range(0, tasks, numPartitions=tasks)


ROWS_SCHEMA = "k long, k2 long, f1 double, f2 double, s string"
BYTES_SCHEMA = "tag int, side byte, payload binary"


def method_plans(
    spark: Any, rows: int, partitions: int, tasks: int
) -> dict[str, Callable[[], list]]:
    """Each way as a function that runs it once and returns the per-partition summaries."""
    from pyspark.sql import functions as F

    tags = routing_tags(spark, partitions)
    src = _source(spark, tasks)
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
