"""A Python worker killed mid-task in a bytes shuffle: Spark retries it and the rows come out exact.

Prototype for ``docs/design/spark-distribution.md`` (fault tolerance). Usage::

    .venv/bin/python benchmarks/prototypes/fault_retry.py [--master local[2,4]] [--rows 200000]

The consumer of partition 1 kills its own Python worker (SIGKILL) on its first attempt, after
it has read part of its input; Spark's task retry (``local[N,F]``: F attempts; on a cluster
``spark.task.maxFailures``) reruns it. The producers' IPC bytes come from Spark's shuffle
files, so the retry reads the same input; the result must equal the expected rows and sum.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_spark_shuffle as shuffle  # noqa: E402
import spark_shuffle_tasks as tasks  # noqa: E402


def killing_consumer(batches: Iterator[Any]) -> Iterator[Any]:
    """``byte_consumer``, except that attempt 0 of partition 1 dies after its first batch."""
    from pyspark import TaskContext

    context = TaskContext.get()
    assert context is not None
    start = tasks._rss_reset()
    payloads: list[bytes] = []
    for batch in batches:
        payloads.extend(batch.column("payload").to_pylist())
        if context.partitionId() == 1 and context.attemptNumber() == 0:
            os.kill(os.getpid(), signal.SIGKILL)
    table = tasks.from_pieces(iter(payloads))
    yield tasks.summary(context.partitionId(), table, start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--master", default="local[2,4]")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(shuffle)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    spark = shuffle.session(args.master, 4)
    try:
        tags = tasks.routing_tags(spark, 4)
        made = tasks.source(spark, 4).mapInArrow(
            tasks.byte_producer(args.rows, 4, 4, tags), tasks.BYTES_SCHEMA
        )
        out = made.repartition(4, "tag").mapInArrow(killing_consumer, tasks.SUMMARY).collect()
        check = shuffle._check("bytes", out, args.rows)
        print(f"{args.master}: {check}")
        return 0 if check["ok"] else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    raise SystemExit(main())
