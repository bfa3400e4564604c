"""Aggregates that run complete in the split tasks, with no shuffle: one split, or splits whose
Parquet statistics prove that no group key value occurs in two of them.

Data: ``sk`` is written sorted by ``o`` with three rows per key and row groups of ten rows, so
most row groups share their first key with the previous one's last (a group crosses the
boundary); ``sk_shuffled`` holds the same rows in random order; ``sk_nulls`` is sorted but has
null keys at both ends.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import spark_plugin
from spark_plugin import _execute, _ir, _stages, _worker

from .conftest import run_both

ROWS = 300


def _sorted_table() -> pa.Table:
    keys = [i // 3 for i in range(ROWS)]
    return pa.table(
        {
            "o": pa.array(keys, pa.int64()),
            "d": pa.array([i % 7 for i in range(ROWS)], pa.int32()),
            "v": pa.array([(i * 37) % 101 - 50 for i in range(ROWS)], pa.int64()),
            "day": pa.array([k // 5 for k in keys], pa.int32()).cast(pa.date32()),
        }
    )


@pytest.fixture(scope="module")
def range_tables(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ranges")
    table = _sorted_table()
    pq.write_table(table, root / "sk.parquet", row_group_size=10)
    order = list(range(ROWS))
    random.Random(7).shuffle(order)
    pq.write_table(table.take(order), root / "sk_shuffled.parquet", row_group_size=10)
    nulls = pa.table(
        {
            "o": pa.array([None] * 5 + table["o"].to_pylist() + [None] * 5, pa.int64()),
            "d": pa.array([1] * 5 + table["d"].to_pylist() + [2] * 5, pa.int32()),
            "v": pa.array([3] * 5 + table["v"].to_pylist() + [4] * 5, pa.int64()),
            "day": pa.array([None] * 5 + table["day"].to_pylist() + [None] * 5, pa.date32()),
        }
    )
    pq.write_table(nulls, root / "sk_nulls.parquet", row_group_size=10)
    dim = pa.table({"dk": pa.array(range(7), pa.int32()), "name": [f"n{i % 3}" for i in range(7)]})
    pq.write_table(dim, root / "dim.parquet")
    for name in ("sk", "sk_shuffled", "sk_nulls", "dim"):
        spark.read.parquet(str(root / f"{name}.parquet")).createOrReplaceTempView(name)
    return root


@pytest.fixture
def many_splits(spark: Any):
    spark.conf.set("spark.sql.files.maxPartitionBytes", "1k")
    spark.conf.set("spark.sql.files.openCostInBytes", "1")
    yield
    spark.conf.unset("spark.sql.files.maxPartitionBytes")
    spark.conf.unset("spark.sql.files.openCostInBytes")


def _scan(path: Path, total: int = 10_000) -> _ir.Scan:
    return _ir.Scan("sk", (str(path),), (("o", "_1", "long"), ("v", "_2", "long")), total)


# -- splits from Parquet statistics ---------------------------------------------------------


def _keys_per_split(splits: Any) -> list[set[int]]:
    out = []
    for split in splits:
        keys: set[int] = set()
        for path, first, rows in split:
            keys.update(pq.read_table(path, columns=["o"]).slice(first, rows)["o"].to_pylist())
        out.append(keys)
    return out


def test_range_splits_cut_only_where_no_key_crosses(range_tables: Path) -> None:
    path = range_tables / "sk.parquet"
    plain = _execute.compute_splits(_scan(path), 1200, 1, 2)
    ranged = _execute.range_splits(_scan(path), "o", 1200, 1, 2)
    assert ranged is not None
    # Clean cuts come every third row group here: 10 splits where plain sizing makes 12.
    assert len(plain) == 12
    assert len(ranged) == 10
    keys = _keys_per_split(ranged)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not a & b
    assert sum(rows for split in ranged for _, _, rows in split) == ROWS
    # Cutting where plain sizing does puts some order in two splits: that is what ranges avoid.
    plain_keys = _keys_per_split(plain)
    assert any(plain_keys[i] & plain_keys[i + 1] for i in range(len(plain_keys) - 1))


def test_range_splits_refuse_unsorted_and_null_keys(range_tables: Path) -> None:
    assert (
        _execute.range_splits(_scan(range_tables / "sk_shuffled.parquet"), "o", 1200, 1, 2) is None
    )
    assert _execute.range_splits(_scan(range_tables / "sk_nulls.parquet"), "o", 1200, 1, 2) is None


def test_range_splits_refuse_when_every_row_group_shares_its_first_key(tmp_path: Path) -> None:
    # One key value spans all row groups: no cut is possible without splitting that group.
    path = tmp_path / "one_key.parquet"
    pq.write_table(pa.table({"o": [5] * 100, "v": list(range(100))}), path, row_group_size=10)
    assert _execute.range_splits(_scan(path), "o", 300, 1, 2) is None


def test_passthrough_column_follows_renames_and_preserved_join_sides() -> None:
    big = _ir.Scan("big", ("b",), (("o", "_1", "long"), ("x", "_2", "long")), 10_000)
    small = _ir.Scan("small", ("s",), (("k", "_3", "long"),), 10)
    renamed = _ir.Project(big, (("_9", _ir.Col("_1", "long")), ("_2", _ir.Col("_2", "long"))))
    computed = _ir.Project(
        big, (("_9", _ir.Call("add", (_ir.Col("_1", "long"), _ir.Lit(1, "long")), "long")),)
    )
    key_b, key_s = _ir.Col("_2", "long"), _ir.Col("_3", "long")
    assert _stages.passthrough_column(renamed, "_9", big) == "o"
    assert _stages.passthrough_column(computed, "_9", big) is None
    inner = _ir.Join(small, renamed, "inner", (key_s,), (key_b,))
    assert _stages.passthrough_column(inner, "_9", big) == "o"
    assert _stages.passthrough_column(inner, "_3", big) is None  # the other table's column
    left = _ir.Join(small, renamed, "left", (key_s,), (key_b,))
    assert _stages.passthrough_column(left, "_9", big) is None  # null-padded side
    right = _ir.Join(small, renamed, "right", (key_s,), (key_b,))
    assert _stages.passthrough_column(right, "_9", big) == "o"


def test_a_table_with_no_row_groups_reads_as_empty() -> None:
    scan = _ir.Scan("nothing", (), (("o", "_1", "long"),), 0)
    agg = _ir.Aggregate(scan, (("_1", _ir.Col("_1", "long")),), ())
    stage = _worker.Stage(
        _ir.Settings(),
        "cpu",
        plan=scan,
        split=scan,
        splits=(),
        aggregate=agg,
        aggregate_mode="local",
        output_fields=(("_1", "long"),),
        output_columns=("_1",),
    )
    batches = list(_worker.read_split(stage, 0))
    assert sum(b.num_rows for b in batches) == 0


# -- against plain Spark --------------------------------------------------------------------

QUERIES = {
    "group_having": "SELECT o, sum(v), count(*), min(d) FROM {t} GROUP BY o HAVING sum(v) > 10",
    "two_keys": "SELECT o, d, sum(v) FROM {t} GROUP BY o, d",
    "renamed_key": "SELECT k2, avg(v) FROM (SELECT o AS k2, v FROM {t} WHERE v > -40) GROUP BY k2",
    "join_then_group": (
        "SELECT o, name, sum(v) FROM {t} JOIN dim ON d = dk GROUP BY o, name ORDER BY o, name"
    ),
    "distinct": "SELECT o, count(DISTINCT d), max(v) FROM {t} GROUP BY o",
    "date_key": "SELECT day, count(*), max(v) FROM {t} GROUP BY day",
    "upper_after": "SELECT o, sum(v) AS s FROM {t} GROUP BY o ORDER BY s DESC, o LIMIT 7",
}


@pytest.mark.parametrize("sql", QUERIES.values(), ids=QUERIES.keys())
@pytest.mark.parametrize("table", ["sk", "sk_shuffled", "sk_nulls"])
def test_matches_spark_with_and_without_ranges(
    spark: Any, range_tables: Path, many_splits: None, ansi: bool, sql: str, table: str
) -> None:
    query = sql.format(t=table)
    report = spark_plugin.explain(spark.sql(query))
    assert report.stage_plan is not None
    assert report.stage_plan.splits is not None
    assert len(report.stage_plan.splits) > 2
    local = report.stage_plan.local_aggregate is not None
    assert local == (table == "sk"), str(report)
    if local:
        assert "no shuffle" in str(report)
    run_both(spark, query, ordered="ORDER BY" in query)


def test_one_split_aggregates_in_that_task(spark: Any, range_tables: Path) -> None:
    query = "SELECT count(*), sum(v), count(DISTINCT d) FROM sk_shuffled"
    report = spark_plugin.explain(spark.sql(query))
    assert report.stage_plan is not None
    assert report.stage_plan.local_aggregate == "one split"
    assert "no shuffle (one split)" in str(report)
    run_both(spark, query)
