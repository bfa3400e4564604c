"""Spark's numbers in Polars: the dtype of each Spark type, and exact integer arithmetic on
unscaled decimals and wide integers that both Polars engines (CPU and cudf-polars) run.

Unscaled decimals and long arithmetic that may pass 64 bits are ``WIDE``, ``Decimal(38, 0)``:
cudf-polars has no 128-bit integers but runs decimal128, which holds every unscaled Spark
decimal (Polars' own decimal arithmetic at scale keeps the left scale and loses digits Spark
keeps, so the scale is tracked here instead).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import polars as pl

from spark_plugin import _types

INT_DTYPES: dict[str, Any] = {
    "byte": pl.Int8,
    "short": pl.Int16,
    "integer": pl.Int32,
    "long": pl.Int64,
}
#: Integers as decimal128 at scale 0: exact up to 38 digits (Polars raises past them).
WIDE = pl.Decimal(38, 0)
WIDER: dict[str, Any] = {"byte": pl.Int32, "short": pl.Int32, "integer": pl.Int64, "long": WIDE}


def polars_dtype(dtype: str) -> Any:
    if dtype in INT_DTYPES:
        return INT_DTYPES[dtype]
    if _types.is_decimal(dtype):
        return WIDE
    return {
        "double": pl.Float64,
        "float": pl.Float32,
        "string": pl.String,
        "boolean": pl.Boolean,
        "date": pl.Date,
        "timestamp": pl.Datetime("us", "UTC"),
        "null": pl.Null,
    }[dtype]


def wide(k: int) -> pl.Expr:
    return pl.lit(k, dtype=WIDE)


def pow10(k: int) -> pl.Expr:
    return wide(10**k)


def neg(x: pl.Expr) -> pl.Expr:
    return wide(0) - x


def one_if(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(wide(1)).otherwise(wide(0))  # no Boolean -> Decimal cast


def abs_(x: pl.Expr) -> pl.Expr:
    return pl.when(x < 0).then(neg(x)).otherwise(x)


def same(e: pl.Expr) -> pl.Expr:
    return e


def floor_div(x: pl.Expr, y: pl.Expr, let: Callable[[pl.Expr], pl.Expr] = same) -> pl.Expr:
    """floor(x / y) for ``WIDE`` x and y > 0 (a zero y gives any value: callers mask it).

    Decimals have no floor division in Polars or cudf-polars; their division at scale 0 rounds
    (Polars: half up; cuDF: toward zero), so the quotient is off by at most one: fixed from the
    remainder."""
    if not y.meta.is_literal(allow_aliasing=True):
        y = let(pl.when(y == 0).then(wide(1)).otherwise(y))  # a decimal /0 raises
    q = let(x / y)
    r = let(x - q * y)
    return q - one_if(r < 0) + one_if(r >= y)


def div_half_up(num: pl.Expr, den: pl.Expr, let: Callable[[pl.Expr], pl.Expr] = same) -> pl.Expr:
    """Integer division rounding half away from zero (Java's HALF_UP), no overflow."""
    num, den = let(num), let(den)  # each is used about a dozen times below
    a = let(abs_(num))
    b = let(abs_(den))
    q = let(floor_div(a, b, let))
    r = a - q * b
    q = q + one_if(r >= (b - r))
    return pl.when((num < 0) != (den < 0)).then(neg(q)).otherwise(q)


def rescale(
    value: pl.Expr, from_scale: int, to_scale: int, let: Callable[[pl.Expr], pl.Expr] = same
) -> pl.Expr:
    if to_scale == from_scale:
        return value
    if to_scale > from_scale:
        return value * pow10(to_scale - from_scale)
    return div_half_up(value, pow10(from_scale - to_scale), let)


def unscaled(column: pl.Expr, source: pl.DataType) -> pl.Expr:
    """A decimal column as its unscaled values in ``WIDE``. Multiplying by 10^scale is exact
    (Polars keeps the column's scale) and overflows only where precision + scale > 38; the
    physical Int128 would be exact too, but cudf-polars takes no Int128."""
    if isinstance(source, pl.Decimal) and source.scale:
        return (column * pow10(source.scale)).cast(WIDE)
    return column.cast(WIDE)


def _zero_sign(e: pl.Expr) -> float | None:
    """1.0 or -1.0 when ``e`` is a literal zero (a Spark literal or a computed scalar
    subquery), else None."""
    if not e.meta.is_literal(allow_aliasing=True):
        return None
    value = pl.select(e).item()
    if value is None or value != 0:
        return None
    return math.copysign(1.0, value)


def _plus_zero(x: pl.Expr) -> pl.Expr:
    """``x + 0.0`` as IEEE adds it: -0.0 becomes 0.0, everything else stays."""
    return pl.when(x == 0).then(pl.lit(0.0)).otherwise(x)


def float_add_sub(op: str, x: pl.Expr, y: pl.Expr, dtype: str) -> pl.Expr:
    """``x + y`` / ``x - y`` of floats. Polars simplifies ``x + 0.0``, ``0.0 + x`` and
    ``0.0 - x`` away (to ``x`` and ``-x``), which turns Spark's 0.0 into -0.0; with a zero
    literal on either side the answer is spelled out instead."""
    target = polars_dtype(dtype)
    right = _zero_sign(y)
    if right is not None:
        # x + 0.0 and x - (-0.0) add a positive zero; x + (-0.0) and x - 0.0 leave x as it is.
        positive = (right > 0) == (op == "add")
        return _plus_zero(x).cast(target) if positive else x
    left = _zero_sign(x)
    if left is not None:
        other = y if op == "add" else -y
        # 0.0 + y and 0.0 - y add a positive zero to y or -y; -0.0 + y is y, -0.0 - y is -y.
        return _plus_zero(other).cast(target) if left > 0 else other
    return x + y if op == "add" else x - y
