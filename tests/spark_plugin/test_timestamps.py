"""Timestamps, the session time zone and date arithmetic, each against plain Spark (issue 11).

The table is the timestamp fuzz table (``_fuzz/timestamps.py``): the ends of Spark's range, the
1582 calendar switch, the epoch, both DST transitions of New York and Berlin. Results that
Python cannot hold (years 0 and 10000 in some zones) are read as numbers.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from spark_plugin import _plan

from ._fuzz import runner
from ._fuzz import timestamps as ts_fuzz
from .conftest import pa, pq, run_both

ZONES = ("UTC", "America/New_York", "Europe/Berlin", "+05:30", "Australia/Lord_Howe")


@pytest.fixture(scope="module")
def ts_table(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("timestamps")
    ts_fuzz.make_table(7, root)
    spark.read.parquet(str(root / ts_fuzz.NAME)).createOrReplaceTempView(ts_fuzz.NAME)
    return root


@pytest.fixture(params=ZONES)
def zone(request: pytest.FixtureRequest, spark: Any, ts_table: Path) -> Any:
    spark.conf.set("spark.sql.session.timeZone", request.param)
    yield request.param
    spark.conf.set("spark.sql.session.timeZone", "UTC")


# Every value as a number or a timestamp inside years 0001-9999 in any of the zones.
_SAFE = (
    "WHERE t1 BETWEEN TIMESTAMP'0001-01-03 00:00:00' AND TIMESTAMP'9999-12-29 00:00:00'"
    " AND t2 BETWEEN TIMESTAMP'0001-01-03 00:00:00' AND TIMESTAMP'9999-12-29 00:00:00'"
)
_QUERIES = [
    f"SELECT k, t1, t2, hour(t1), minute(t1), second(t1) FROM fz_ts {_SAFE}",
    "SELECT k, hour(t1), minute(t2), second(t1), year(t1), month(t1), dayofmonth(t2) FROM fz_ts",
    "SELECT k, quarter(t1), dayofweek(t1), weekday(t2), dayofyear(t1), weekofyear(t2) FROM fz_ts",
    "SELECT k, unix_timestamp(t1), to_unix_timestamp(t2), CAST(t1 AS LONG), CAST(t2 AS DOUBLE) "
    "FROM fz_ts",
    f"SELECT k, to_date(t1), CAST(d1 AS TIMESTAMP), unix_timestamp(d2) FROM fz_ts {_SAFE} "
    "AND d1 > DATE'0001-01-02' AND d1 < DATE'9999-12-30'",
    "SELECT k, unix_timestamp(date_trunc('HOUR', t1)), unix_timestamp(date_trunc('DAY', t1)),"
    " unix_timestamp(date_trunc('MINUTE', t2)), unix_timestamp(date_trunc('SECOND', t1)) FROM fz_ts",
    f"SELECT k, date_trunc('YEAR', t1), date_trunc('QUARTER', t2), date_trunc('MONTH', t1),"
    f" date_trunc('WEEK', t1), date_trunc('MILLISECOND', t2), date_trunc('bogus', t1) FROM fz_ts"
    f" {_SAFE} AND t2 > TIMESTAMP'0001-01-10 00:00:00'",
    "SELECT k, trunc(d1, 'YEAR'), trunc(d1, 'MM'), trunc(d2, 'QUARTER'), trunc(d2, 'WEEK'),"
    " trunc(d1, 'DAY') FROM fz_ts WHERE d1 > DATE'0001-01-02' AND d2 > DATE'0001-01-02'",
    "SELECT k, date_add(d1, n), date_sub(d2, n), datediff(d1, d2), add_months(d1, n),"
    " last_day(d2) FROM fz_ts WHERE d1 BETWEEN DATE'1000-01-01' AND DATE'9000-01-01'"
    " AND d2 BETWEEN DATE'1000-01-01' AND DATE'9000-01-01' AND abs(n) <= 400",
    "SELECT k, t1 < t2, t1 = t2, t1 <=> t2, t1 >= TIMESTAMP'2021-03-14 03:30:00' FROM fz_ts",
    "SELECT k, min(t1), max(t2), count(t1) FROM fz_ts "
    "WHERE t1 > TIMESTAMP'1000-01-01 00:00:00' AND t2 > TIMESTAMP'1000-01-01 00:00:00' GROUP BY k",
    "SELECT hour(t1) AS h, count(*), min(d1) FROM fz_ts GROUP BY hour(t1)",
    "SELECT k, t1 IN (TIMESTAMP'1970-01-01 00:00:00', TIMESTAMP'2021-03-14 03:30:00', NULL),"
    " coalesce(t1, t2), CASE WHEN k > 1 THEN t1 ELSE t2 END FROM fz_ts " + _SAFE,
    "SELECT a.k, a.t1, b.d1 FROM fz_ts a JOIN fz_ts b ON a.t1 = b.t2 "
    "WHERE a.t1 > TIMESTAMP'1000-01-01 00:00:00'",
]


@pytest.mark.parametrize("sql", _QUERIES)
def test_timestamps_equal_spark(spark: Any, ansi: bool, zone: str, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT k, min(t1), max(to_date(t2)), count(*) FROM fz_ts {_SAFE} GROUP BY k",
        f"SELECT date_trunc('HOUR', t1) AS h, count(*) FROM fz_ts {_SAFE} GROUP BY 1",
        "SELECT a.k, a.t1, b.t2 FROM fz_ts a JOIN fz_ts b ON a.k = b.k "
        "WHERE a.t1 > TIMESTAMP'2021-01-01 00:00:00' AND a.t1 < TIMESTAMP'2099-01-01 00:00:00' "
        "AND b.t2 BETWEEN TIMESTAMP'1000-01-01 00:00:00' AND TIMESTAMP'2021-01-01 00:00:00'",
    ],
)
def test_timestamps_across_tasks(spark: Any, zone: str, sql: str) -> None:
    """Several splits: timestamps cross stages (partial aggregate states, shuffles)."""
    confs = {"spark.sql.files.maxPartitionBytes": "2k", "spark.sql.files.openCostInBytes": "1k"}
    for key, value in confs.items():
        spark.conf.set(key, value)
    try:
        run_both(spark, sql)
    finally:
        for key in confs:
            spark.conf.unset(key)


def test_ambiguous_literal_is_refused(spark: Any, ts_table: Path) -> None:
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        df = spark.sql("SELECT k FROM fz_ts WHERE t1 > TIMESTAMP'2021-11-07 01:30:00'")
        report = _plan.decide(df)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert not report.offloaded
    assert any("ambiguous" in r for r in report.reasons), report.reasons


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT CAST(t1 AS STRING) FROM fz_ts", "cast from timestamp to string"),
        ("SELECT t1 - t2 FROM fz_ts", "SubtractTimestamps"),
        ("SELECT t1 + INTERVAL 2 HOURS FROM fz_ts", "interval"),
        ("SELECT months_between(t1, t2) FROM fz_ts", "MonthsBetween"),
        ("SELECT from_unixtime(n) FROM fz_ts", "FromUnixTime"),
        ("SELECT date_trunc(CAST(k AS STRING), t1) FROM fz_ts", "not a literal"),
    ],
)
def test_not_offloaded(spark: Any, ts_table: Path, sql: str, reason: str) -> None:
    report = _plan.decide(spark.sql(sql))
    assert not report.offloaded
    assert any(reason in r for r in report.reasons), report.reasons


def test_unknown_zone_is_refused(spark: Any, ts_table: Path) -> None:
    spark.conf.set("spark.sql.session.timeZone", "PST")  # Java maps it to Los Angeles' rules
    try:
        report = _plan.decide(spark.sql("SELECT hour(t1) FROM fz_ts"))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert not report.offloaded
    assert any("time zone PST" in r for r in report.reasons), report.reasons


def test_spark_written_timestamps(spark: Any, ts_table: Path, tmp_path: Path) -> None:
    """Spark's default INT96 is refused (read through nanoseconds it cannot hold year 1);
    TIMESTAMP_MICROS is read as Spark reads it."""
    source = spark.table(ts_fuzz.NAME).select("k", "t1", "t2")
    source.write.parquet(str(tmp_path / "int96"))
    report = _plan.decide(spark.read.parquet(str(tmp_path / "int96")))
    assert not report.offloaded
    assert any("timestamp[ns]" in r for r in report.reasons), report.reasons
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    try:
        source.write.parquet(str(tmp_path / "micros"))
    finally:
        spark.conf.unset("spark.sql.parquet.outputTimestampType")
    spark.read.parquet(str(tmp_path / "micros")).createOrReplaceTempView("ts_micros")
    run_both(spark, "SELECT k, t1, hour(t2), to_date(t2) FROM ts_micros " + _SAFE)


def test_legacy_calendar_files_are_refused(spark: Any, ts_table: Path, tmp_path: Path) -> None:
    """Spark rebases files written in its legacy (hybrid Julian) calendar as it reads them, and
    every file without a Spark version under datetimeRebaseModeInRead=LEGACY."""
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", "LEGACY")
    try:
        spark.table(ts_fuzz.NAME).select("k", "d1").write.parquet(str(tmp_path / "legacy"))
    finally:
        spark.conf.unset("spark.sql.parquet.datetimeRebaseModeInWrite")
    report = _plan.decide(spark.read.parquet(str(tmp_path / "legacy")))
    assert not report.offloaded
    assert any("legacy calendar" in r for r in report.reasons), report.reasons
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInRead", "LEGACY")
    try:
        report = _plan.decide(spark.sql("SELECT d1 FROM fz_ts"))
    finally:
        spark.conf.unset("spark.sql.parquet.datetimeRebaseModeInRead")
    assert not report.offloaded
    assert any("datetimeRebaseModeInRead" in r for r in report.reasons), report.reasons


def test_local_timestamp_file_is_refused(spark: Any, tmp_path: Path) -> None:
    """A file of local times (no UTC adjustment) is Spark's timestamp_ntz: not offloaded."""
    table = pa.table({"t": pa.array([0, None], pa.timestamp("us"))})
    pq.write_table(table, tmp_path / "ntz.parquet")
    report = _plan.decide(spark.read.parquet(str(tmp_path / "ntz.parquet")))
    assert not report.offloaded


#: Fixed-seed batch: data seeds, queries per seed and zone (~60 s here).
BATCH_SEEDS = (21,)
BATCH_QUERIES = 5


def test_timestamp_fuzz_batch(spark: Any, tmp_path: Path) -> None:
    tally = runner.Tally()
    started = time.monotonic()
    for seed in BATCH_SEEDS:
        table = ts_fuzz.make_table(seed, tmp_path / f"seed{seed}")
        spark.read.parquet(str(tmp_path / f"seed{seed}" / ts_fuzz.NAME)).createOrReplaceTempView(
            ts_fuzz.NAME
        )
        for zone in ts_fuzz.ZONES:
            spark.conf.set("spark.sql.session.timeZone", zone)
            try:
                for number in range(BATCH_QUERIES):
                    query = ts_fuzz.query(random.Random(f"{seed}:{zone}:{number}"), [table])
                    runner.run(spark, query, tally, f"seed {seed} zone {zone} query {number}")
            finally:
                spark.conf.set("spark.sql.session.timeZone", "UTC")
    print(tally.line(), f"({time.monotonic() - started:.0f} s)")
    assert tally.counts["offloaded"] > 0, tally.line()
    assert not tally.mismatches, "\n".join(tally.mismatches)
