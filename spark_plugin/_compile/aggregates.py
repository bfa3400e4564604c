"""Aggregates in Polars: one step (complete), per-partition states (partial) and their merge (final).

The states themselves (which aggregation computes each) are in ``_aggstates``; this module
runs them in a ``group_by`` (or a global ``select``) and turns states into Spark's results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from spark_plugin import _aggstates as states
from spark_plugin import _ir, _types
from spark_plugin import _numeric as num
from spark_plugin._ir import AggCall, Col, Expr

if TYPE_CHECKING:
    from spark_plugin._compile.exprs import ExprCompiler


def aggregate(c: ExprCompiler, p: _ir.Aggregate, child: pl.LazyFrame, mode: str) -> pl.LazyFrame:
    """``mode``: complete (one step), partial (emit states) or final (merge states)."""
    key_names = [n for n, _ in p.keys]
    if mode == "final":
        # The states arrive as one struct per aggregate; cudf-polars aggregates no struct
        # fields, so they become plain columns first (128-bit sums rebuilt from two longs).
        keyed = child.with_columns(
            [e for name, call in p.aggs for e in states.unpacked_states(name, call)]
        )
    else:
        p, keyed = _arguments_as_columns(c, p, child)
    exprs: list[pl.Expr] = []
    for name, call in p.aggs:
        if mode == "final":
            found = states.merge_states(name, call)
        else:
            found = states.partial_states(name, call, c)
        exprs.extend(e.alias(states.state_column(name, f)) for f, e in found)
    out = keyed.group_by(key_names).agg(exprs) if key_names else keyed.select(exprs)
    # States made of several plain aggregations are combined after the aggregation, row by
    # row: Polars' common-subexpression elimination hoists an aggregation nested inside a
    # when/then of a global select into a broadcast column, which gave one row per input row.
    combined = [e for name, call in p.aggs for e in states.combine_states(name, call)]
    if combined:
        out = out.with_columns(combined)
    if mode == "partial":
        packed, structs, _ = c._on(
            out, lambda: [_packed_states(c, n, a).alias(n) for n, a in p.aggs]
        )
        return packed.select([pl.col(n) for n in key_names] + structs)
    finished, results, _ = c._on(out, lambda: [_finish(c, n, a) for n, a in p.aggs])
    return finished.select([pl.col(n) for n in key_names] + results)


def _arguments_as_columns(
    c: ExprCompiler, p: _ir.Aggregate, child: pl.LazyFrame
) -> tuple[_ir.Aggregate, pl.LazyFrame]:
    """Aggregate arguments become columns first: Polars deduplicates common subexpressions in
    with_columns, not inside group_by().agg()."""
    arg_exprs: list[tuple[str, Expr]] = []
    calls = []
    for i, (name, call) in enumerate(p.aggs):
        new_args: list[Expr] = []
        for j, arg in enumerate(call.args):
            if isinstance(arg, Col):
                new_args.append(arg)
                continue
            # A literal too: aggregated as a scalar, it would count rows an empty input lacks.
            column = f"__arg{i}_{j}"
            arg_exprs.append((column, arg))
            new_args.append(Col(column, arg.dtype))
        calls.append((name, AggCall(call.func, tuple(new_args), call.dtype, call.distinct)))
    p = _ir.Aggregate(p.child, p.keys, tuple(calls))
    keyed, columns, _ = c._on(child, lambda: [c.expr(e).alias(n) for n, e in (*p.keys, *arg_exprs)])
    return p, keyed.with_columns(columns)


def _packed_states(c: ExprCompiler, name: str, call: AggCall) -> pl.Expr:
    """The states of one aggregate as the struct that crosses Spark's shuffle (a 128-bit sum
    as two longs: Spark converts decimal(38,0) through BigDecimal per value, measured ~35%
    slower end to end)."""
    if call.distinct:
        raise NotImplementedError("DISTINCT aggregates have no partial states")
    fields = []
    for field_name, _ in states.partial_state_fields(call):
        if field_name in ("s_hi", "s_lo"):
            continue
        fields.append(pl.col(states.state_column(name, field_name)).alias(field_name))
    if any(f == "s_hi" for f, _ in states.partial_state_fields(call)):
        hi, lo = states.split_wide_sum(pl.col(states.state_column(name, "s")), c.let)
        fields[:0] = [hi.alias("s_hi"), lo.alias("s_lo")]
    return pl.struct(fields)


def _finish(c: ExprCompiler, name: str, call: AggCall) -> pl.Expr:
    f = call.func
    if f == "count" and call.distinct and len(call.args) == 1:
        distinct = pl.col(states.state_column(name, "c"))
        nulls = pl.col(states.state_column(name, "nulls"))
        return (distinct - pl.when(nulls > 0).then(1).otherwise(0)).cast(pl.Int64).alias(name)
    if f == "count_star" and call.distinct:
        rows = pl.col(states.state_column(name, "c"))
        return pl.when(rows > 0).then(1).otherwise(0).cast(pl.Int64).alias(name)
    if f in ("count", "count_star"):
        return pl.col(states.state_column(name, "c")).cast(pl.Int64).alias(name)
    if f in ("min", "max"):
        return pl.col(states.state_column(name, "v")).alias(name)
    total = pl.col(states.state_column(name, "s"))
    count = pl.col(states.state_column(name, "c"))
    if states.needs_abs_guard(call):
        total = _guard_abs_sum(c, total, pl.col(states.state_column(name, "a")))
    arg_type = call.args[0].dtype
    if f == "sum":
        if _types.is_decimal(call.dtype):
            value = pl.when(count > 0).then(total)
            return c._check_precision(value, call.dtype).alias(name)
        if call.dtype == "long":
            return pl.when(count > 0).then(c._narrow(total, "long")).alias(name)
        # Spark's double sum starts at 0.0, so it is never -0.0 (Polars keeps -0.0 + -0.0).
        total = c.let(total)
        return pl.when(count > 0).then(pl.when(total == 0).then(0.0).otherwise(total)).alias(name)
    if f == "avg":
        if _types.is_decimal(call.dtype):
            # Spark: Divide(sum as decimal(p+10,s), count as decimal(20,0)) then a cast to
            # decimal(p+4,s+4); both round HALF_UP, so we round twice the same way.
            sum_type = _types.sum_type(arg_type)
            _, s_sum = _types.decimal_ps(sum_type)
            div_type = _types.decimal_result("div", sum_type, "decimal(20,0)")
            _, s_div = _types.decimal_ps(div_type)
            _, s_out = _types.decimal_ps(call.dtype)
            quotient = num.div_half_up(
                total * num.pow10(s_div - s_sum), count.cast(num.WIDE), c.let
            )
            value = pl.when(count > 0).then(num.rescale(quotient, s_div, s_out, c.let))
            p_arg, s_arg = _types.decimal_ps(arg_type)
            p_out, _ = _types.decimal_ps(call.dtype)
            if p_out - s_out >= p_arg - s_arg:
                # |avg| <= the largest |x|, rounded at a scale >= x's: it always fits (and an
                # aggregate with no check may read only the groups a join keeps, see _compile).
                return value.alias(name)
            return c._check_precision(value, call.dtype).alias(name)
        mean = c.let(total.cast(pl.Float64) / count.cast(pl.Float64))
        return pl.when(count > 0).then(pl.when(mean == 0).then(0.0).otherwise(mean)).alias(name)
    raise NotImplementedError(f)


#: Sum of |unscaled values| (a float estimate, relative error far below 10%) under which no
#: partial sum, in any order, reaches 10^38.
_ABS_SUM_SAFE = 0.9e38


def _guard_abs_sum(c: ExprCompiler, total: pl.Expr, abs_sum: pl.Expr) -> pl.Expr:
    """``total``, or a failure that hands the action back to Spark where a partial sum of the
    rows could pass 38 digits (Spark then answers NULL or raises, depending on row order)."""
    return c.guard(c.let(total), abs_sum >= _ABS_SUM_SAFE, "decimal_sum_may_overflow")
