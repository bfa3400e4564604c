"""Random string casts and string functions over a table of number-, boolean- and date-like
strings (``fz_str``: whitespace of every kind, signs, exponents, huge numbers, invalid forms)."""

from __future__ import annotations

import random
from pathlib import Path

from . import data, queries

#: Characters around the strings: the ones Spark trims for some targets, and Unicode spaces it
#: never trims.
_SPACES = (" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x00", "\x1f", "\x7f", "\u00a0", "\u3000", "")
_WORDS = (
    "NaN", "nan", "-NaN", "Infinity", "-Infinity", "+inf", "INF", "-infinity", "+nan",
    "t", "TRUE", "yes", "Y", "1", "0", "f", "False", "NO", "n", "on", "yess", "",
    "+", "-", ".", "-.", "1e", "0x1p3", "1d", "1.5f", "1,000", "١٢", "\uff11\uff12", "--1",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648",
    "-129", "32768", "00000000000000000000000000000000000000000012", "-0", "0.0",
    "1.8e308", "4.9e-324", "1e-400", "9.995", "99.995", "-0.005", "99999999.995",
    "2024", "2024-01", "2024-1-5", "2024-01-05 12:00", "2024-01-05T1", "2024-02-30",
    "2024-13-01", "0000-01-01", "10000-01-01", "+2024-01-05", "2024-", "2024-01-05x",
    "2024-1-5 a\nb", "20240105", "2023-02-29", "héllo", "Straße",
)  # fmt: skip
_TARGETS = (
    "INT", "BIGINT", "TINYINT", "SMALLINT", "DOUBLE", "DECIMAL(10,2)", "DECIMAL(38,0)",
    "DECIMAL(5,5)", "DECIMAL(20,4)", "BOOLEAN", "DATE",
)  # fmt: skip
_TABLE = "fz_str"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _string(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.4:
        core = rng.choice(_WORDS)
    elif roll < 0.6:
        core = rng.choice(("", "+", "-")) + _digits(rng, rng.choice((1, 3, 10, 19, 20, 39)))
    elif roll < 0.8:
        core = f"{rng.choice(('', '-'))}{_digits(rng, rng.randint(0, 9))}.{_digits(rng, rng.randint(0, 9))}"
        if rng.random() < 0.2:
            core += rng.choice("eE") + rng.choice(("", "-")) + _digits(rng, rng.randint(1, 3))
    else:
        core = f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13)}-{rng.randint(0, 32)}"
    if rng.random() < 0.4:
        core = rng.choice(_SPACES) + core + rng.choice(_SPACES)
    return core


def make_table(seed: int, root: Path) -> data.Table:
    """``fz_str`` (``k`` int, ``s`` string) under ``root``; the same seed writes the same rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(f"strings:{seed}")
    rows = rng.randint(80, 300)
    keys = [rng.choice((None, 0, 1, 2, 3)) for _ in range(rows)]
    strings = [_string(rng) for _ in range(rows)]
    table = pa.table({"k": pa.array(keys, pa.int32()), "s": pa.array(strings, pa.string())})
    (root / _TABLE).mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / _TABLE / "part-0.parquet", row_group_size=64)
    return data.Table(_TABLE, (("k", "integer"), ("s", "string")), rows)


def _expr(rng: random.Random, s: str) -> str:
    roll = rng.random()
    target = rng.choice(_TARGETS)
    if roll < 0.45:
        return f"CAST({s} AS {target})"
    if roll < 0.6:
        return f"CAST(CAST({s} AS {target}) AS STRING)"
    text = queries.quote(rng.choice(("", " ", "0", "x", "é", "-1", "ab")))
    n = rng.choice((-1, 0, 2, 5, 12))
    return rng.choice(
        (
            f"trim({s})",
            f"ltrim({s})",
            f"rtrim({s})",
            f"trim(BOTH {text} FROM {s})",
            f"trim(LEADING {text} FROM {s})",
            f"replace({s}, {text}, {queries.quote(rng.choice(('', 'Z', 'yy')))})",
            f"lpad({s}, {n}, {queries.quote(rng.choice(('', '*', 'é', ' ')))})",
            f"rpad({s}, {n})",
            f"CAST(trim({s}) AS {target})",
        )
    )


def query(rng: random.Random, tables: list[data.Table]) -> queries.Query:
    """One query over ``fz_str`` (or, without it, over the first table's ``s`` column)."""
    table = next((t for t in tables if t.name == _TABLE), tables[0])
    columns = [name for name, dtype in table.columns if dtype == "string"] or ["s"]
    s = rng.choice(columns)
    exprs = ", ".join(f"{_expr(rng, s)} AS v{i}" for i in range(rng.randint(1, 3)))
    roll = rng.random()
    if roll < 0.2:
        target = rng.choice(("INT", "BIGINT", "DECIMAL(20,4)"))
        sql = f"SELECT k, sum(CAST({s} AS {target})) AS total FROM {table.name} GROUP BY k"
        return queries.Query(sql, ordered=False, zero_sign_free=True)
    where = f" WHERE k = {rng.randint(0, 3)}" if roll < 0.5 else ""
    sql = f"SELECT k, {s}, {exprs} FROM {table.name}{where}"
    return queries.Query(sql, ordered=False, zero_sign_free=False)
