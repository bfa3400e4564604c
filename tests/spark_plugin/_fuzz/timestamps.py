"""Random timestamp and date-arithmetic queries over an extra table, ``fz_ts``, written here.

The table holds two timestamp columns (Parquet ``TIMESTAMP(MICROS, UTC)``, as Spark reads them),
two dates and small integers for day and month counts: instants at the ends of Spark's range,
the 1582 calendar switch, the epoch, and both DST transitions of New York and Berlin (a
microsecond and an hour either side), plus NULLs and random ones.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import data, queries

NAME = "fz_ts"
COLUMNS = (
    ("k", "integer"),
    ("t1", "timestamp"),
    ("t2", "timestamp"),
    ("d1", "date"),
    ("d2", "date"),
    ("n", "integer"),
)
#: Session time zones the batch runs under: DST in both hemispheres' ways, a half-hour offset.
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "+05:30", "Australia/Lord_Howe")

_UTC = dt.UTC
_US = dt.timedelta(microseconds=1)
_HOUR = dt.timedelta(hours=1)
#: DST transitions as UTC instants: New York 2021-03-14 07:00Z and 2021-11-07 06:00Z, Berlin
#: 2021-03-28 01:00Z and 2021-10-31 01:00Z.
_TRANSITIONS = [
    dt.datetime(2021, 3, 14, 7, tzinfo=_UTC),
    dt.datetime(2021, 11, 7, 6, tzinfo=_UTC),
    dt.datetime(2021, 3, 28, 1, tzinfo=_UTC),
    dt.datetime(2021, 10, 31, 1, tzinfo=_UTC),
]
_CORNERS = [
    dt.datetime(1, 1, 1, tzinfo=_UTC),
    dt.datetime(1, 1, 2, 12, 30, 15, 5, tzinfo=_UTC),
    dt.datetime(1582, 10, 4, 23, 59, 59, tzinfo=_UTC),
    dt.datetime(1582, 10, 15, tzinfo=_UTC),
    dt.datetime(1900, 1, 1, tzinfo=_UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=_UTC),
    dt.datetime(1970, 1, 1, tzinfo=_UTC),
    dt.datetime(2000, 2, 29, 23, 0, tzinfo=_UTC),
    dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=_UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=_UTC),
] + [t + delta for t in _TRANSITIONS for delta in (-_HOUR, -_US, dt.timedelta(0), _US, _HOUR)]
_DATES = [
    dt.date(1, 1, 1),
    dt.date(1582, 10, 4),
    dt.date(1582, 10, 15),
    dt.date(1900, 2, 28),
    dt.date(1969, 12, 31),
    dt.date(1970, 1, 1),
    dt.date(2000, 2, 29),
    dt.date(2021, 1, 31),
    dt.date(2021, 3, 14),
    dt.date(2021, 3, 28),
    dt.date(2021, 10, 31),
    dt.date(2021, 11, 7),
    dt.date(9999, 12, 31),
]


def _timestamp(rng: random.Random) -> dt.datetime | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.5:
        return rng.choice(_CORNERS)
    if roll < 0.75:  # near a DST transition, on whole minutes and odd microseconds
        return rng.choice(_TRANSITIONS) + dt.timedelta(minutes=rng.randint(-1500, 1500))
    seconds = rng.randint(-2_000_000_000, 4_000_000_000)
    return dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(
        seconds=seconds, microseconds=rng.randint(0, 999_999)
    )


def _date(rng: random.Random) -> dt.date | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.45:
        return rng.choice(_DATES)
    return dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(-200_000, 200_000))


def make_table(seed: int, root: Path) -> data.Table:
    """``fz_ts`` under ``root / "fz_ts"`` (two files); the same ``seed`` writes the same data."""
    rng = random.Random(f"timestamps:{seed}")
    rows = rng.randint(80, 160)
    values: dict[str, list[Any]] = {
        "k": [rng.choice([None, 0, 1, 2, 3]) for _ in range(rows)],
        "t1": [_timestamp(rng) for _ in range(rows)],
        "t2": [_timestamp(rng) for _ in range(rows)],
        "d1": [_date(rng) for _ in range(rows)],
        "d2": [_date(rng) for _ in range(rows)],
        "n": [rng.choice([None, 0, 1, -1, 12, -13, 400, 100_000]) for _ in range(rows)],
    }
    schema = pa.schema(
        [
            ("k", pa.int32()),
            ("t1", pa.timestamp("us", tz="UTC")),
            ("t2", pa.timestamp("us", tz="UTC")),
            ("d1", pa.date32()),
            ("d2", pa.date32()),
            ("n", pa.int32()),
        ]
    )
    table = pa.table(values, schema=schema)
    folder = root / NAME
    folder.mkdir(parents=True, exist_ok=True)
    half = rows // 2
    pq.write_table(table.slice(0, half), folder / "part-0.parquet", row_group_size=30)
    pq.write_table(table.slice(half), folder / "part-1.parquet", row_group_size=30)
    return data.Table(NAME, COLUMNS, rows)


_TS_LEVELS = ("YEAR", "QUARTER", "MONTH", "MM", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND")
_TS_LEVELS += ("MILLISECOND", "MICROSECOND", "yy", "bogus")
_DATE_LEVELS = ("YEAR", "yyyy", "QUARTER", "MONTH", "MON", "WEEK", "DAY", "bogus")
_LITERALS = (
    "TIMESTAMP'2021-03-14 03:30:00'",
    "TIMESTAMP'2021-11-07 00:59:59.999999'",
    "TIMESTAMP'1970-01-01 00:00:00'",
    "TIMESTAMP'0001-01-01 12:00:00'",
    "TIMESTAMP'2021-10-31 03:00:00.5'",
)


def _ts(rng: random.Random) -> str:
    return rng.choice(
        [
            "t1",
            "t2",
            "CAST(d1 AS TIMESTAMP)",
            f"date_trunc('{rng.choice(_TS_LEVELS)}', t1)",
            rng.choice(_LITERALS),
        ]
    )


def _date_expr(rng: random.Random) -> str:
    return rng.choice(
        [
            "d1",
            "d2",
            f"to_date({_ts(rng)})",
            f"date_add(d1, {rng.choice(['n', '1', '-1', '366'])})",
            f"date_sub(d2, {rng.choice(['n', '30'])})",
            f"add_months(d1, {rng.choice(['n', '1', '-1', '12'])})",
            "last_day(d2)",
            f"trunc(d1, '{rng.choice(_DATE_LEVELS)}')",
        ]
    )


def _value(rng: random.Random) -> str:
    ts, date = _ts(rng), _date_expr(rng)
    return rng.choice(
        [
            ts,
            date,
            f"hour({ts})",
            f"minute({ts})",
            f"second({ts})",
            f"year({ts})",
            f"month({date})",
            f"dayofmonth({ts})",
            f"dayofweek({date})",
            f"weekday({date})",
            f"dayofyear({date})",
            f"weekofyear({date})",
            f"quarter({ts})",
            f"datediff({date}, {_date_expr(rng)})",
            f"unix_timestamp({ts})",
            f"to_unix_timestamp({date})",
            f"CAST({ts} AS LONG)",
            f"CAST({ts} AS DOUBLE)",
        ]
    )


def _condition(rng: random.Random) -> str:
    op = rng.choice(["=", "<", "<=", ">", ">=", "<=>", "<>"])
    if rng.random() < 0.5:
        return f"{_ts(rng)} {op} {_ts(rng)}"
    return f"{_date_expr(rng)} {op} {_date_expr(rng)}"


def query(rng: random.Random, tables: list[data.Table]) -> queries.Query:
    """One query over ``fz_ts`` (which must be among ``tables``)."""
    assert any(t.name == NAME for t in tables), f"{NAME} is written by make_table"
    shape = rng.random()
    if shape < 0.6:
        values = ", ".join(_value(rng) for _ in range(rng.randint(1, 3)))
        where = f" WHERE {_condition(rng)}" if rng.random() < 0.5 else ""
        return queries.Query(f"SELECT k, {values} FROM {NAME}{where}", False, False)
    if shape < 0.85:
        key, value = _value(rng), _ts(rng) if rng.random() < 0.5 else _date_expr(rng)
        aggregate = rng.choice(["min", "max", "count"])
        sql = f"SELECT {key} AS g, {aggregate}({value}) FROM {NAME} GROUP BY {key}"
        return queries.Query(sql, False, True)
    value = _ts(rng)
    sql = f"SELECT k, {value} AS v FROM {NAME} ORDER BY v, k NULLS FIRST LIMIT 20"
    return queries.Query(sql, False, True)
