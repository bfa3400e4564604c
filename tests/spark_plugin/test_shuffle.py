"""The bytes transport between Python stages (``spark_plugin._shuffle``): exact routing, payloads
that round-trip, and Spark queries through it equal to plain Spark."""

from __future__ import annotations

import decimal
import math
import random
from typing import Any

import pyarrow as pa
import pytest

import spark_plugin
from spark_plugin import _hook, _shuffle

from .conftest import assert_rows_equal


def _normal(value: Any) -> Any:
    """Spark's grouping equality: -0.0 is 0.0, every NaN is one value."""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return 0.0 if value == 0.0 else value
    return value


def _random_table(rng: random.Random, rows: int) -> pa.Table:
    floats = [0.0, -0.0, float("nan"), float("-nan"), math.inf, -math.inf, 1.5, -1.5, 1e308]
    strings = ["", "a", "ab", "é", "日本", "a\x00b", "x" * 70, "ß", "ab "]
    return pa.table(
        {
            "i": pa.array([rng.choice([None, 0, -1, 2**62, -(2**63), 7]) for _ in range(rows)]),
            "f": pa.array([rng.choice([None, *floats]) for _ in range(rows)], pa.float64()),
            "g": pa.array([rng.choice([None, 0.0, -0.0, 2.5]) for _ in range(rows)], pa.float32()),
            "s": pa.array([rng.choice([None, *strings]) for _ in range(rows)], pa.string()),
            "d": pa.array(
                [rng.choice([None, 0, -1, 10**37, -(10**37)]) for _ in range(rows)],
                pa.decimal128(38, 0),
            ),
            "b": pa.array([rng.choice([None, True, False]) for _ in range(rows)]),
            "t": pa.array([rng.choice([None, 0, 19000, -5]) for _ in range(rows)], pa.date32()),
        }
    )


@pytest.mark.parametrize("keys", [("i",), ("f",), ("g",), ("s",), ("d",), ("b", "t"), ("s", "f")])
@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_equal_keys_meet_and_every_row_lands_once(keys: tuple[str, ...], partitions: int) -> None:
    rng = random.Random(len(keys) * 100 + partitions)
    table = _random_table(rng, 400)
    pids = _shuffle.partition_ids(table, keys, partitions)
    assert len(pids) == table.num_rows
    assert ((pids >= 0) & (pids < partitions)).all()
    seen: dict[tuple[Any, ...], int] = {}
    for row, pid in zip(table.select(list(keys)).to_pylist(), pids.tolist(), strict=True):
        key = tuple(_normal(row[k]) for k in keys)
        assert seen.setdefault(key, pid) == pid, f"{key} in partitions {seen[key]} and {pid}"
    if partitions > 1 and len(seen) > 4 * partitions:
        assert len(set(pids.tolist())) > 1, "all keys in one partition"
    # Not a function of how the rows are chunked or sliced.
    chunked = pa.concat_tables([table.slice(0, 150), table.slice(150)])
    assert (_shuffle.partition_ids(chunked, keys, partitions) == pids).all()
    sliced = table.slice(37, 100)
    assert (_shuffle.partition_ids(sliced, keys, partitions) == pids[37:137]).all()


def test_the_hash_is_fixed() -> None:
    """Version-stable: these ids are the contract between driver, workers and retried tasks."""
    table = pa.table(
        {
            "k": pa.array([1, 2, None, 3], pa.int64()),
            "s": pa.array(["a", None, "", "日本"]),
            "f": pa.array([-0.0, float("nan"), None, 1.25]),
        }
    )
    assert _shuffle.partition_ids(table, ("k",), 7).tolist() == [1, 0, 2, 4]
    assert _shuffle.partition_ids(table, ("s", "f"), 7).tolist() == [1, 5, 4, 4]


def test_payloads_round_trip_to_their_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_shuffle, "PAYLOAD_BYTES", 2000)  # many payloads per partition
    table = _random_table(random.Random(5), 3000)
    target = _shuffle.route(("s", "i"), 5)
    batches = list(_shuffle.to_payloads(table, target))
    by_tag = {tag: p for p, tag in enumerate(target.tags)}
    pids = _shuffle.partition_ids(table, ("s", "i"), 5)
    back = []
    for batch in batches:
        for tag, payload in zip(
            batch.column("tag").to_pylist(), batch.column("payload"), strict=True
        ):
            part = pa.ipc.open_stream(payload.as_buffer()).read_all()
            assert (_shuffle.partition_ids(part, ("s", "i"), 5) == by_tag[tag]).all()
            back.append(part)
    assert sum(len(b) for b in batches) > 5
    whole = _shuffle.from_payloads(batches, table.schema)
    assert whole.num_rows == table.num_rows
    assert sorted(map(repr, whole.to_pylist())) == sorted(map(repr, table.to_pylist()))
    assert sorted(pids.tolist()) == sorted(
        p for part in back for p in _shuffle.partition_ids(part, ("s", "i"), 5).tolist()
    )
    empty = list(_shuffle.to_payloads(table.slice(0, 0), target))
    assert _shuffle.from_payloads(empty, table.schema).num_rows == 0


def test_routing_tags_are_where_spark_sends_them(spark: Any) -> None:
    from pyspark.sql import functions as F

    assert [_shuffle.spark_hash_int(v) for v in (0, 1, -1, 42)] == [
        row[0]
        for row in spark.createDataFrame([(0,), (1,), (-1,), (42,)], "v int")
        .select(F.hash("v"))
        .collect()
    ]
    for partitions in (1, 2, 7, 200):
        tags = _shuffle.routing_tags(partitions)
        df = spark.createDataFrame([(t, p) for p, t in enumerate(tags)], "tag int, p int")
        landed = df.repartition(partitions, "tag").rdd.mapPartitionsWithIndex(
            lambda i, rows: [(i, r.p) for r in rows]
        )
        assert sorted(landed.collect()) == [(p, p) for p in range(partitions)]


def _groups_frame(spark: Any, rng: random.Random) -> Any:
    values = [0.0, -0.0, float("nan"), None, 1.0, -1.0, 1e-300, math.inf]
    rows = [
        (
            rng.choice(values),
            rng.choice([None, "", "a", "é", "b"]),
            rng.choice([None, -3, 0, 5, 2**40]),
            decimal.Decimal(rng.randint(-(10**6), 10**6)) / 100,
        )
        for _ in range(600)
    ]
    return spark.createDataFrame(rows, "f double, s string, n long, d decimal(12,2)")


def _compare(spark: Any, df: Any, ordered: bool = False) -> Any:
    plain = df.collect()
    report = spark_plugin.explain(df)
    spark_plugin.enable(spark)
    try:
        offloaded = df.collect()
    finally:
        spark_plugin.disable(spark)
    assert report.offloaded, str(report)
    assert _hook.STATS.last_offloaded
    assert_rows_equal(plain, offloaded, ordered=ordered)
    return report


def test_float_and_null_group_keys_spread_over_partitions(
    spark: Any, tmp_path: Any, ansi: bool
) -> None:
    path = str(tmp_path / "groups")
    _groups_frame(spark, random.Random(1)).repartition(3).write.parquet(path)
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2k")
    try:
        spark.read.parquet(path).createOrReplaceTempView("groups")
        df = spark.sql("SELECT f, s, count(*) c, sum(d) sd, min(n) mn FROM groups GROUP BY f, s")
        report = _compare(spark, df)
        assert "hash-partitioned on the group keys x4" in report.stages, report.stages
        top = spark.sql(
            "SELECT n, s, sum(d) sd FROM groups GROUP BY n, s HAVING count(*) > 2 "
            "ORDER BY sd DESC, n, s NULLS FIRST LIMIT 3"
        )
        report = _compare(spark, top, ordered=True)
        assert "top 3 per partition" in report.stages, report.stages
        first = spark.sql("SELECT f, count(*) c FROM groups GROUP BY f LIMIT 2")
        assert spark_plugin.explain(first).offloaded
        spark_plugin.enable(spark)
        try:
            got = first.collect()
        finally:
            spark_plugin.disable(spark)
        assert len(got) == 2
        assert _hook.STATS.last_offloaded
        everything = {
            (_normal(r.f), r.c)
            for r in spark.sql("SELECT f, count(*) c FROM groups GROUP BY f").collect()
        }
        assert {(_normal(r.f), r.c) for r in got} <= everything
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "2")
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
