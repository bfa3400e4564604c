"""Bit operations on integers (``grouping()`` / ``grouping_id()``) and narrowing integer casts."""

from __future__ import annotations

import polars as pl

from spark_plugin import _numeric as num
from spark_plugin import _types
from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call


@op("shift_right")
def shift_right(c: ExprCompiler, e: Call) -> pl.Expr:
    """Java's ``x >> n`` (the count already masked): the floor of x / 2^n, sign kept."""
    (count,) = e.options
    x = c.expr(e.args[0])
    if count == 0:
        return x
    dtype = num.INT_DTYPES[e.dtype]
    if count == _types.INT_BITS[e.dtype] - 1:
        # 2^(bits-1) does not fit the type: two floor divisions (floor(floor(x/a)/b) = floor(x/ab)).
        half = pl.lit(2 ** (count - 1), dtype=dtype)
        return (x // half) // pl.lit(2, dtype=dtype)
    return x // pl.lit(2**count, dtype=dtype)


@op("bit_and", "bit_or", "bit_xor")
def bitwise(c: ExprCompiler, e: Call) -> pl.Expr:
    x, y = c.expr(e.args[0]), c.expr(e.args[1])
    if e.op == "bit_and":
        return x & y
    if e.op == "bit_or":
        return x | y
    return x ^ y


@op("narrow_int")
def narrow_int(c: ExprCompiler, e: Call) -> pl.Expr:
    """A cast to a narrower integer: the value where it fits; elsewhere the stage fails, and the
    action reruns on Spark (which raises, wraps or answers NULL, as the cast's mode says: the plan
    JSON leaves that mode out)."""
    bits = _types.INT_BITS[e.dtype]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    x = c.let(c.expr(e.args[0]))
    return c.guard(x, (x < lo) | (x > hi), "cast_overflow").cast(num.INT_DTYPES[e.dtype])
