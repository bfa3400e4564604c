"""Window functions offloaded, compared with plain Spark under both ANSI settings: ranks, lag/lead,
aggregates over whole partitions, running and sliding frames; NULL, duplicate, NaN and -0.0 keys.

Where Spark's answer depends on an order it does not fix (row_number over ties, ROWS frames,
lag/lead), the queries order by a total key (``id`` last); ranks and RANGE frames take ties.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _hook

from ._fuzz import data, runner, windows
from .conftest import assert_rows_equal, pa, pq, run_both

_D = decimal.Decimal
_LONG_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def w(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``w``: unique ``id``; partition keys ``g`` (int), ``gd`` (double with NaN, ±0.0), ``s``;
    order keys ``o`` (duplicates), ``od`` (NaN, ±0.0, ±inf); values of each type with NULLs;
    ``big``: longs whose sums pass 64 bits; in two files, ids shuffled."""
    rng = random.Random(20261203)
    n = 160
    ids = list(range(n))
    rng.shuffle(ids)
    nan, inf = float("nan"), float("inf")
    columns: dict[str, list[Any]] = {
        "id": ids,
        "g": [rng.choice([None, 1, 2, 2, 3]) for _ in range(n)],
        "gd": [rng.choice([None, nan, -0.0, 0.0, 1.5, inf]) for _ in range(n)],
        "s": [rng.choice([None, "", "a", "é", "日本", "b", "ab"]) for _ in range(n)],
        "o": [rng.choice([None, 0, 1, 2, 3, 4, 5]) for _ in range(n)],
        "od": [rng.choice([None, nan, -0.0, 0.0, -inf, inf, 1.0, 2.5]) for _ in range(n)],
        "x": [rng.choice([None, *range(-20, 21)]) for _ in range(n)],
        "i": [rng.choice([None, -(2**31), 2**31 - 1, *range(-5, 6)]) for _ in range(n)],
        "xd": [
            rng.choice([None, nan, inf, -inf, -0.0, 0.0, round(rng.uniform(-99, 99), 2)])
            for _ in range(n)
        ],
        "dec": [rng.choice([None, _D(rng.randint(-(10**6), 10**6)) / 100]) for _ in range(n)],
        "dec30": [rng.choice([None, _D(rng.randint(-(10**9), 10**9)) / 100]) for _ in range(n)],
        "dt": [
            rng.choice(
                [
                    None,
                    dt.date(1, 1, 1),
                    dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(-999, 999)),
                ]
            )
            for _ in range(n)
        ],
        "big": [rng.choice([None, _LONG_MAX, -_LONG_MAX - 1, 1, -1, 7]) for _ in range(n)],
    }
    schema = pa.schema(
        [
            ("id", pa.int32()),
            ("g", pa.int32()),
            ("gd", pa.float64()),
            ("s", pa.string()),
            ("o", pa.int32()),
            ("od", pa.float64()),
            ("x", pa.int64()),
            ("i", pa.int32()),
            ("xd", pa.float64()),
            ("dec", pa.decimal128(10, 2)),
            ("dec30", pa.decimal128(30, 2)),
            ("dt", pa.date32()),
            ("big", pa.int64()),
        ]
    )
    table = pa.table(columns, schema=schema)
    root = tmp_path_factory.mktemp("windows") / "w"
    root.mkdir()
    pq.write_table(table.slice(0, 70), root / "part-0.parquet", row_group_size=30)
    pq.write_table(table.slice(70), root / "part-1.parquet", row_group_size=40)
    pq.write_table(table.slice(0, 0), root.parent / "empty.parquet")
    spark.read.parquet(str(root)).createOrReplaceTempView("w")
    spark.read.parquet(str(root.parent / "empty.parquet")).createOrReplaceTempView("w_empty")
    return root


_RANKS = [
    "SELECT id, row_number() OVER (PARTITION BY g ORDER BY o, id) AS rn,"
    " rank() OVER (PARTITION BY g ORDER BY o) AS r,"
    " dense_rank() OVER (PARTITION BY g ORDER BY o DESC) AS dr FROM w",
    "SELECT id, rank() OVER (PARTITION BY gd ORDER BY od) AS r,"
    " dense_rank() OVER (PARTITION BY gd ORDER BY od DESC NULLS LAST) AS dr,"
    " row_number() OVER (PARTITION BY gd ORDER BY od NULLS LAST, id DESC) AS rn FROM w",
    "SELECT id, rank() OVER (ORDER BY s) AS r, dense_rank() OVER (PARTITION BY s ORDER BY od, o)"
    " AS dr, rank() OVER (PARTITION BY g, gd ORDER BY s DESC, dt) AS r2 FROM w",
    "SELECT id, row_number() OVER (ORDER BY id DESC) AS rn, dense_rank() OVER (ORDER BY dec) AS dr"
    " FROM w",
]
_OFFSETS = [
    "SELECT id, lag(x) OVER (PARTITION BY g ORDER BY o, id) AS a,"
    " lead(x, 2) OVER (PARTITION BY g ORDER BY o, id) AS b,"
    " lag(xd, 3, CAST(-1 AS DOUBLE)) OVER (PARTITION BY g ORDER BY o, id) AS c FROM w",
    "SELECT id, lead(s, 1, 'zz') OVER (PARTITION BY gd ORDER BY id) AS a,"
    " lag(dec, 1) OVER (PARTITION BY gd ORDER BY id) AS b,"
    " lead(dt, -1) OVER (PARTITION BY gd ORDER BY id) AS c,"
    " lag(x, 2, x) OVER (PARTITION BY gd ORDER BY id) AS d FROM w",
    "SELECT id, lag(od, 0) OVER (ORDER BY id) AS a, lead(i, 5) OVER (ORDER BY id) AS b FROM w",
]
_WHOLE = [
    "SELECT id, sum(x) OVER (PARTITION BY g) AS a, count(x) OVER (PARTITION BY g) AS b,"
    " count(*) OVER (PARTITION BY g) AS c, min(xd) OVER (PARTITION BY g) AS d,"
    " max(xd) OVER (PARTITION BY g) AS e, avg(xd) OVER (PARTITION BY g) AS f FROM w",
    "SELECT id, avg(dec30) OVER (PARTITION BY gd) AS a, sum(dec) OVER (PARTITION BY gd) AS b,"
    " min(s) OVER (PARTITION BY gd) AS c, max(dt) OVER (PARTITION BY gd) AS d,"
    " sum(dec30) OVER (PARTITION BY gd) AS e, avg(i) OVER () AS f, sum(i) OVER () AS g FROM w",
]
_RUNNING = [
    # The default frame with ORDER BY: RANGE ... CURRENT ROW takes the current row's peers.
    "SELECT id, sum(x) OVER (PARTITION BY g ORDER BY o) AS a, count(*) OVER (ORDER BY od) AS b,"
    " min(xd) OVER (PARTITION BY g ORDER BY o) AS c, max(xd) OVER (PARTITION BY g ORDER BY o)"
    " AS d, avg(dec30) OVER (PARTITION BY gd ORDER BY o DESC) AS e FROM w",
    "SELECT id, sum(xd) OVER (PARTITION BY s ORDER BY od) AS a, avg(x) OVER (ORDER BY s) AS b,"
    " count(dec) OVER (PARTITION BY gd ORDER BY od DESC) AS c, min(dt) OVER (ORDER BY o) AS d,"
    " max(dec30) OVER (PARTITION BY g ORDER BY od) AS e FROM w",
    "SELECT id, sum(x) OVER (PARTITION BY g ORDER BY o RANGE BETWEEN CURRENT ROW AND UNBOUNDED"
    " FOLLOWING) AS a, min(xd) OVER (PARTITION BY g ORDER BY od RANGE BETWEEN CURRENT ROW AND"
    " CURRENT ROW) AS b, count(*) OVER (ORDER BY o RANGE BETWEEN UNBOUNDED PRECEDING AND"
    " UNBOUNDED FOLLOWING) AS c, max(s) OVER (PARTITION BY gd ORDER BY o RANGE BETWEEN CURRENT"
    " ROW AND CURRENT ROW) AS d, avg(xd) OVER (ORDER BY od RANGE BETWEEN CURRENT ROW AND"
    " UNBOUNDED FOLLOWING) AS e FROM w",
]
_ROWS = [
    "SELECT id, sum(x) OVER (PARTITION BY g ORDER BY o, id ROWS BETWEEN 2 PRECEDING AND 1"
    " FOLLOWING) AS a, avg(xd) OVER (PARTITION BY g ORDER BY o, id ROWS 3 PRECEDING) AS b,"
    " min(xd) OVER (PARTITION BY g ORDER BY o, id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS c,"
    " max(dec) OVER (PARTITION BY g ORDER BY o, id ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING) AS d,"
    " count(xd) OVER (PARTITION BY g ORDER BY o, id ROWS BETWEEN 5 PRECEDING AND 2 PRECEDING)"
    " AS e FROM w",
    "SELECT id, sum(i) OVER (PARTITION BY gd ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1"
    " PRECEDING) AS a, min(x) OVER (PARTITION BY gd ORDER BY id ROWS BETWEEN 1 FOLLOWING AND"
    " UNBOUNDED FOLLOWING) AS b, sum(xd) OVER (PARTITION BY gd ORDER BY id ROWS BETWEEN CURRENT"
    " ROW AND UNBOUNDED FOLLOWING) AS c, max(xd) OVER (PARTITION BY gd ORDER BY id ROWS BETWEEN"
    " UNBOUNDED PRECEDING AND 2 FOLLOWING) AS d, min(dt) OVER (PARTITION BY gd ORDER BY id ROWS"
    " BETWEEN 3 PRECEDING AND UNBOUNDED FOLLOWING) AS e FROM w",
    "SELECT id, count(*) OVER (ORDER BY id ROWS BETWEEN 100 PRECEDING AND 50 FOLLOWING) AS a,"
    " sum(dec) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 40 PRECEDING AND 40 FOLLOWING) AS b,"
    " avg(dec30) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 3 FOLLOWING AND 60 FOLLOWING) AS c,"
    " sum(xd) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 10 PRECEDING AND 10 FOLLOWING) AS d,"
    " sum(x) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING) AS e"
    " FROM w",
]
_AROUND = [
    # Above an aggregate, below one, under a filter, sort and limit; several Window operators.
    "SELECT g, sum(x) AS s, rank() OVER (ORDER BY sum(x)) AS r FROM w GROUP BY g",
    "SELECT g, sum(rn) AS t, max(c) AS m FROM (SELECT g, row_number() OVER (PARTITION BY g"
    " ORDER BY id) AS rn, count(*) OVER (PARTITION BY o) AS c FROM w) GROUP BY g",
    "SELECT * FROM (SELECT id, g, rank() OVER (PARTITION BY g ORDER BY o) AS r FROM w) WHERE r <= 2",
    "SELECT id, x - lag(x) OVER (ORDER BY id) AS dx FROM w WHERE x IS NOT NULL",
    "SELECT id, sum(x) OVER (PARTITION BY g ORDER BY id) AS a FROM w_empty",
]


@pytest.mark.parametrize("sql", _RANKS + _OFFSETS, ids=lambda s: s[:60])
def test_ranks_and_offsets_as_spark(spark: Any, ansi: bool, w: Path, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize("sql", _WHOLE + _RUNNING + _ROWS, ids=lambda s: s[:60])
def test_aggregates_over_frames_as_spark(spark: Any, ansi: bool, w: Path, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize("sql", _AROUND, ids=lambda s: s[:60])
def test_windows_with_other_operators_as_spark(spark: Any, ansi: bool, w: Path, sql: str) -> None:
    run_both(spark, sql)


def test_ordered_output_as_spark(spark: Any, w: Path) -> None:
    sql = (
        "SELECT id, dense_rank() OVER (PARTITION BY g ORDER BY od) AS r FROM w"
        " ORDER BY g NULLS LAST, r DESC, id LIMIT 50"
    )
    run_both(spark, sql, ordered=True)


def _outcome(df: Any) -> tuple[list[Any] | None, str]:
    try:
        return df.collect(), ""
    except Exception as exc:  # Spark's error is the answer compared
        return None, "ARITHMETIC_OVERFLOW" if "ARITHMETIC_OVERFLOW" in str(exc) else "other"


@pytest.mark.parametrize(
    "frame",
    ["", "ORDER BY id", "ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING"],
)
def test_long_sum_past_64_bits_as_spark(spark: Any, ansi: bool, w: Path, frame: str) -> None:
    """ANSI: the stage fails and Spark raises its own error; otherwise Java's wrap, offloaded."""
    df = spark.sql(f"SELECT id, sum(big) OVER (PARTITION BY g {frame}) AS a FROM w")
    plain, plain_error = _outcome(df)
    spark_plugin.enable(spark)
    try:
        offloaded, offloaded_error = _outcome(df)
    finally:
        spark_plugin.disable(spark)
    assert plain_error == offloaded_error
    if ansi:
        assert plain_error == "ARITHMETIC_OVERFLOW"
        assert not _hook.STATS.last_offloaded
    else:
        assert plain is not None
        assert offloaded is not None
        assert _hook.STATS.last_offloaded
        assert_rows_equal(plain, offloaded, ordered=False)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("ntile(3) OVER (ORDER BY id)", "ntile"),
        ("percent_rank() OVER (ORDER BY o)", "percent_rank"),
        ("cume_dist() OVER (ORDER BY o)", "cume_dist"),
        ("first(x) OVER (ORDER BY id)", "first"),
        ("last(x) OVER (ORDER BY id)", "last"),
        ("nth_value(x, 2) OVER (ORDER BY id)", "nth_value"),
        ("lag(x) IGNORE NULLS OVER (ORDER BY id)", "IGNORE NULLS"),
        ("sum(x) OVER (ORDER BY o RANGE BETWEEN 1 PRECEDING AND CURRENT ROW)", "value offset"),
        ("min(xd) OVER (ORDER BY id ROWS BETWEEN 40 PRECEDING AND CURRENT ROW)", "more than"),
        ("max(s) OVER (ORDER BY id)", "string over a running"),
        # Spark averages a decimal(p <= 11) as a double, cast back: refused as in aggregates.
        ("avg(dec) OVER (PARTITION BY g)", "cast from double to decimal"),
    ],
)
def test_what_is_not_offloaded_says_why(spark: Any, w: Path, sql: str, reason: str) -> None:
    df = spark.sql(f"SELECT id, {sql} AS a FROM w")
    report = spark_plugin.explain(df)
    assert not report.offloaded
    assert any(reason in r and "not offloaded" in r for r in report.reasons), report.reasons
    plain = df.collect()
    spark_plugin.enable(spark)
    try:
        again = df.collect()
    finally:
        spark_plugin.disable(spark)
    assert not _hook.STATS.last_offloaded
    assert_rows_equal(plain, again, ordered=False)


def test_fuzz_batch(spark: Any, tmp_path: Path) -> None:
    """A fixed batch of generated window queries over the fuzz tables (``make fuzz`` runs more)."""
    tally = runner.Tally()
    # As test_fuzz runs: Parquet pushdown trusts statistics without NaN; tiny splits.
    confs = {
        "spark.sql.parquet.filterPushdown": "false",
        "spark.sql.files.maxPartitionBytes": "4k",
        "spark.sql.files.openCostInBytes": "1k",
    }
    for key, value in confs.items():
        spark.conf.set(key, value)
    try:
        _fuzz_seeds(spark, tmp_path, tally)
    finally:
        for key in confs:
            spark.conf.unset(key)
    print(tally.line())
    assert not tally.mismatches, "\n".join(tally.mismatches)
    assert tally.counts["offloaded"] > 0


def _fuzz_seeds(spark: Any, tmp_path: Path, tally: runner.Tally) -> None:
    for seed in (21, 22):
        tables = data.make_tables(seed, tmp_path / f"seed{seed}")
        for table in tables:
            path = str(tmp_path / f"seed{seed}" / table.name)
            spark.read.parquet(path).createOrReplaceTempView(table.name)
        for number in range(8):
            query = windows.query(random.Random(f"windows:{seed}:{number}"), tables)
            runner.run(spark, query, tally, f"windows seed {seed} query {number}")
