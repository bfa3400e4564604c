"""Aggregate states: per-partition (partial), merged (final), and how they cross the shuffle.

Inside a stage each state is a plain column (``state_column``): cudf-polars aggregates no
struct inside ``group_by().agg()``. Only what crosses Spark's shuffle is one struct per
aggregate (a 128-bit sum as two longs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from spark_plugin import _types
from spark_plugin._ir import AggCall
from spark_plugin._numeric import WIDE, floor_div, polars_dtype, wide


def _float_min_max_parts(func: str, x: pl.Expr) -> list[tuple[str, pl.Expr]]:
    """Spark: NaN is the largest value; min skips NaN unless nothing else is there. Plain
    aggregations (a cudf-polars group_by takes no ``filter`` or ``any`` inside it), combined
    into the state ``v`` afterwards by :func:`combine_states`."""
    not_nan = pl.when(~x.is_nan()).then(x)
    parts = [
        ("v_m", not_nan.min() if func == "min" else not_nan.max()),
        ("v_nan", x.is_nan().sum().cast(pl.Int64)),
    ]
    if func == "min":
        parts.append(("v_n", not_nan.count().cast(pl.Int64)))
    return parts


def _float_min_max_combined(name: str, func: str, dtype: str) -> pl.Expr:
    best = pl.col(state_column(name, "v_m"))
    nan = pl.lit(float("nan"), dtype=polars_dtype(dtype))
    has_nan = pl.col(state_column(name, "v_nan")) > 0
    if func == "max":
        return pl.when(has_nan).then(nan).otherwise(best)
    has_other = pl.col(state_column(name, "v_n")) > 0
    return pl.when(has_other).then(best).when(has_nan).then(nan).otherwise(None)


def combine_states(name: str, call: AggCall) -> list[pl.Expr]:
    """Row-wise expressions, after the aggregation, that build states from several parts."""
    if call.func in ("min", "max") and call.args[0].dtype in _types.FLOATING:
        combined = _float_min_max_combined(name, call.func, call.args[0].dtype)
        return [combined.cast(polars_dtype(call.args[0].dtype)).alias(state_column(name, "v"))]
    return []


def needs_abs_guard(call: AggCall) -> bool:
    """A decimal sum (or average) whose buffer is decimal(38, s): Spark checks each addition
    for overflow, so its answer depends on the order of the rows once a partial sum can pass
    38 digits. We give the exact sum only where the sum of |x| proves no order overflows."""
    if call.func not in ("sum", "avg") or not _types.is_decimal(call.args[0].dtype):
        return False
    precision, _ = _types.decimal_ps(_types.sum_type(call.args[0].dtype))
    return precision >= _types.MAX_PRECISION


_TWO_64 = 2**64
_TWO_63 = 2**63


def state_column(name: str, field: str) -> str:
    """The column holding state ``field`` of aggregate ``name`` inside a stage."""
    return f"{name}.{field}"


def partial_states(name: str, call: AggCall, compiler: Any) -> list[tuple[str, pl.Expr]]:
    """Per-partition states of one aggregate, as (state field, aggregation) pairs."""
    f = call.func
    if f == "count_star":
        return [("c", pl.len().cast(pl.Int64))]
    args = [compiler.expr(a) for a in call.args]
    if f == "count":
        valid = pl.all_horizontal([a.is_not_null() for a in args])
        if call.distinct and len(args) == 1:
            # Distinct non-null values: n_unique counts NULL as one (no filter, has_nulls or
            # struct in a cudf-polars group_by).
            # _finish takes one off where "nulls" > 0.
            (x,) = args
            return [("c", x.n_unique().cast(pl.Int64)), ("nulls", x.null_count().cast(pl.Int64))]
        if call.distinct:
            return [("c", pl.struct(args).filter(valid).n_unique().cast(pl.Int64))]
        return [("c", valid.sum().cast(pl.Int64))]
    (x,) = args
    arg_type = call.args[0].dtype
    if f in ("min", "max"):
        if arg_type in _types.FLOATING:
            return _float_min_max_parts(f, x)
        return [("v", x.min() if f == "min" else x.max())]
    if call.distinct:
        x = x.drop_nulls().unique()
    count = x.count().cast(pl.Int64)
    if arg_type in _types.FLOATING:
        return [("s", x.cast(pl.Float64).sum()), ("c", count)]
    guard = [("a", x.cast(pl.Float64).abs().sum())] if needs_abs_guard(call) else []
    return [("s", x.cast(WIDE).sum()), ("c", count), *guard]


def split_wide_sum(total: pl.Expr, let: Callable[[pl.Expr], pl.Expr]) -> tuple[pl.Expr, pl.Expr]:
    """total = hi * 2^64 + lo, 0 <= lo < 2^64 (floor division), lo shifted into a signed long."""
    total = let(total)
    hi = let(floor_div(total, wide(_TWO_64), let))
    lo = total - hi * wide(_TWO_64) - wide(_TWO_63)
    return hi.cast(pl.Int64), lo.cast(pl.Int64)


def unpacked_states(name: str, call: AggCall) -> list[pl.Expr]:
    """The struct of partial states that crossed the shuffle, as plain state columns."""
    state = pl.col(name)
    fields = [f for f, _ in partial_state_fields(call)]
    out = [state.struct.field(f).alias(state_column(name, f)) for f in fields if f[:2] != "s_"]
    if "s_hi" in fields:
        hi = state.struct.field("s_hi").cast(WIDE)
        lo = state.struct.field("s_lo").cast(WIDE)
        out.append((hi * wide(_TWO_64) + lo + wide(_TWO_63)).alias(state_column(name, "s")))
    return out


def merge_states(name: str, call: AggCall) -> list[tuple[str, pl.Expr]]:
    f = call.func
    if f in ("count", "count_star"):
        return [("c", pl.col(state_column(name, "c")).sum().cast(pl.Int64))]
    if f in ("min", "max"):
        v = pl.col(state_column(name, "v"))
        if call.args[0].dtype in _types.FLOATING:
            return _float_min_max_parts(f, v)
        return [("v", v.min() if f == "min" else v.max())]
    count = pl.col(state_column(name, "c")).sum().cast(pl.Int64)
    guard = [("a", pl.col(state_column(name, "a")).sum())] if needs_abs_guard(call) else []
    return [("s", pl.col(state_column(name, "s")).sum()), ("c", count), *guard]


def partial_state_fields(call: AggCall) -> list[tuple[str, str]]:
    """The Spark types that carry each state through Spark's shuffle."""
    f = call.func
    if f in ("count", "count_star"):
        return [("c", "long")]
    arg_type = call.args[0].dtype
    if f in ("min", "max"):
        return [("v", transport_type(arg_type))]
    if arg_type in _types.FLOATING:
        return [("s", "double"), ("c", "long")]
    guard = [("a", "double")] if needs_abs_guard(call) else []
    return [("s_hi", "long"), ("s_lo", "long"), ("c", "long"), *guard]


def transport_type(dtype: str) -> str:
    """How a column of Spark type ``dtype`` travels between stages (decimals: unscaled)."""
    return "decimal(38,0)" if _types.is_decimal(dtype) else dtype
