"""Seeded random tables with every supported type and its corner cases, as several Parquet files."""

from __future__ import annotations

import datetime as dt
import decimal
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

#: Spark type name -> Arrow type, for the column types a table may have.
_ARROW = {
    "byte": pa.int8(),
    "short": pa.int16(),
    "integer": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}
#: Decimal types drawn from, near and far from 38 digits.
DECIMALS = ((38, 2), (38, 0), (30, 10), (28, 4), (20, 2), (18, 2), (12, 3), (10, 2), (5, 0))
INTEGRAL = ("byte", "short", "integer", "long")
FRACTIONAL = ("float", "double")
STRINGS = (
    "",
    "a",
    "abc",
    "ABC",
    "a%b",
    "a_b",
    "%",
    "_",
    "héllo",
    "Straße",
    "日本語",
    " x ",
    "x\\y",
)
DATES = (
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(1970, 1, 1),
    dt.date(1969, 12, 31),
    dt.date(2000, 2, 29),
)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    #: (column name, Spark type name) pairs; ``k`` is always the first (an integer join key).
    columns: tuple[tuple[str, str], ...]
    rows: int


def _integral(rng: random.Random, dtype: str) -> Any:
    bits = {"byte": 8, "short": 16, "integer": 32, "long": 64}[dtype]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    roll = rng.random()
    if roll < 0.15:
        return rng.choice([lo, hi, lo + 1, hi - 1, 0, -1, 1])
    return rng.randint(max(lo, -1000), min(hi, 1000))


def _fractional(rng: random.Random) -> Any:
    if rng.random() < 0.3:
        return rng.choice([float("nan"), 0.0, -0.0, float("inf"), float("-inf"), 1.5, -2.25, 1e-30])
    return round(rng.uniform(-1000, 1000), rng.choice([0, 1, 3]))


def _decimal(rng: random.Random, precision: int, scale: int) -> Any:
    top = 10**precision - 1  # the largest unscaled value
    roll = rng.random()
    if roll < 0.2:
        unscaled = rng.choice([top, -top, top // 10, -(top // 7), 0, 1, -1])
    elif roll < 0.35:
        unscaled = rng.randint(-top, top)
    else:
        unscaled = rng.randint(-(10 ** min(precision, 6)), 10 ** min(precision, 6))
    return decimal.Decimal(unscaled).scaleb(-scale, decimal.Context(prec=60))


def _value(rng: random.Random, dtype: str) -> Any:
    if dtype in INTEGRAL:
        return _integral(rng, dtype)
    if dtype in FRACTIONAL:
        return _fractional(rng)
    if dtype.startswith("decimal("):
        precision, scale = (int(x) for x in dtype[8:-1].split(","))
        return _decimal(rng, precision, scale)
    if dtype == "string":
        if rng.random() < 0.7:
            return rng.choice(STRINGS)
        return "".join(rng.choice("abcxyz%_ ") for _ in range(rng.randint(0, 5)))
    if dtype == "boolean":
        return rng.random() < 0.5
    if rng.random() < 0.3:
        return rng.choice(DATES)
    return dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(-20000, 20000))


def _arrow_type(dtype: str) -> pa.DataType:
    if dtype.startswith("decimal("):
        precision, scale = (int(x) for x in dtype[8:-1].split(","))
        return pa.decimal128(precision, scale)
    return _ARROW[dtype]


def _schema(rng: random.Random, prefix: str) -> list[tuple[str, str]]:
    columns = [("k", "integer")]
    types = [t for t in _ARROW if rng.random() < 0.75]
    types += [f"decimal({p},{s})" for p, s in rng.sample(DECIMALS, rng.randint(1, 3))]
    for i, dtype in enumerate(types):
        short = dtype.split("(")[0][:3] if not dtype.startswith("decimal") else "dec"
        columns.append((f"{prefix}{short}{i}", dtype))
    return columns


def make_tables(seed: int, root: Path) -> list[Table]:
    """Three tables (``fz_a`` several files and row groups, ``fz_b`` smaller, ``fz_c`` with zero
    to three rows) under ``root``; the same ``seed`` writes the same data."""
    rng = random.Random(seed)
    out = []
    for name, rows in (
        ("fz_a", rng.randint(150, 400)),
        ("fz_b", rng.randint(20, 80)),
        ("fz_c", rng.randint(0, 3)),
    ):
        columns = _schema(rng, name[-1])
        null_rate = rng.choice([0.05, 0.2, 0.5])
        keys = [None, 0, 1, 2, 3, -1, 7]
        data: dict[str, list[Any]] = {}
        for column, dtype in columns:
            if column == "k":
                data[column] = [rng.choice(keys) for _ in range(rows)]
                continue
            data[column] = [
                None if rng.random() < null_rate else _value(rng, dtype) for _ in range(rows)
            ]
        schema = pa.schema([(c, _arrow_type(t)) for c, t in columns])
        table = pa.table(data, schema=schema)
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        pieces = rng.randint(1, 3) if rows > 10 else 1
        step = -(-rows // pieces) if rows else 0
        for i in range(pieces):
            part = table.slice(i * step, step) if rows else table
            pq.write_table(part, folder / f"part-{i}.parquet", row_group_size=rng.randint(7, 60))
        out.append(Table(name, tuple(columns), rows))
    return out
