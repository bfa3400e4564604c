"""The task side of bench_spark_shuffle.py: what runs inside Spark's Python workers.

Producers make lineitem-like batches and cut them by target partition (as rows, or as Arrow IPC
pieces tagged for Spark's own ``pmod(hash(tag), P)``); consumers decode, join and summarise one
partition with its peak RSS. The benchmark pickles this module by value (the workers cannot
import it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def source(spark: Any, tasks: int) -> Any:
    return spark.range(0, tasks, numPartitions=tasks)


ROWS_SCHEMA = "k long, k2 long, f1 double, f2 double, s string"
BYTES_SCHEMA = "tag int, side byte, payload binary"
