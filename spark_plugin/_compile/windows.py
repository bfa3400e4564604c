"""Spark's Window in Polars: sort by partition and order keys, number partitions and peers, then
each function as prefix, suffix or shifted columns over the partitions.

Partitions and peers (rows with equal order keys: rank's ties, the rows a RANGE frame's CURRENT
ROW takes in) are decided here, not by Polars' grouping: NULLs equal, NaN equals NaN and -0.0
equals 0.0, as Spark compares window keys. Aggregates reuse the states of ``_aggstates`` and
Spark's finishing rules of ``aggregates``: each state is summed (or min/max'ed) over the frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from spark_plugin import _aggstates as states
from spark_plugin import _ir, _types
from spark_plugin import _numeric as num
from spark_plugin._compile import aggregates
from spark_plugin._ir import AggCall, WindowCall, WindowFrame

if TYPE_CHECKING:
    from spark_plugin._compile.exprs import ExprCompiler

_PART, _PEER, _POS, _SIZE, _ROW = "__wpart", "__wpeer", "__wpos", "__wsize", "__wrow"
_LONG_MAX = 2**63 - 1


class _Columns:
    """The frame being built, adding one helper column at a time (Polars cannot nest ``over``)."""

    def __init__(self, frame: pl.LazyFrame) -> None:
        self.frame = frame
        self.count = 0

    def add(self, e: pl.Expr) -> pl.Expr:
        name = f"__wt{self.count}"
        self.count += 1
        self.frame = self.frame.with_columns(e.alias(name))
        return pl.col(name)


def window(c: ExprCompiler, p: _ir.Window, child: pl.LazyFrame) -> pl.LazyFrame:
    part_names = [f"__wp{i}" for i in range(len(p.partition))]
    order_names = [f"__wo{i}" for i in range(len(p.order))]
    inputs: list[tuple[str, _ir.Expr]] = [
        *zip(part_names, p.partition, strict=True),
        *zip(order_names, (k.expr for k in p.order), strict=True),
    ]
    calls: list[tuple[str, WindowCall]] = []
    for i, (name, call) in enumerate(p.calls):
        if call.agg is not None:
            args = []
            for j, arg in enumerate(call.agg.args):
                inputs.append((f"__wa{i}_{j}", arg))
                args.append(_ir.Col(f"__wa{i}_{j}", arg.dtype))
            agg = AggCall(call.agg.func, tuple(args), call.agg.dtype, call.agg.distinct)
            call = WindowCall(call.func, call.dtype, call.frame, agg=agg)
        elif call.input is not None:
            inputs.append((f"__wi{i}", call.input))
            if call.default is not None:
                inputs.append((f"__wd{i}", call.default))
        calls.append((name, call))
    keys = set(part_names + order_names)

    def build() -> list[pl.Expr]:
        return [(_key(c.expr(e), e.dtype) if n in keys else c.expr(e)).alias(n) for n, e in inputs]

    frame, exprs, _ = c._on(child, build)
    frame = frame.with_columns(exprs)
    if part_names or order_names:
        frame = frame.sort(
            part_names + order_names,
            descending=[False] * len(part_names) + [not k.ascending for k in p.order],
            nulls_last=[False] * len(part_names) + [not k.nulls_first for k in p.order],
            maintain_order=True,
        )
    # Row numbers by with_row_index (cudf-polars takes no int_range).
    frame = frame.with_row_index(_ROW)
    first = pl.col(_ROW) == 0
    new_part = pl.any_horizontal(
        [first, *(_differs(n, e) for n, e in zip(part_names, p.partition, strict=True))]
    )
    new_peer = pl.any_horizontal(
        [new_part, *(_differs(n, k.expr) for n, k in zip(order_names, p.order, strict=True))]
    )
    frame = frame.with_columns(
        new_part.cast(pl.Int64).cum_sum().alias(_PART),
        new_peer.cast(pl.Int64).cum_sum().alias(_PEER),
    )
    frame = frame.with_columns(
        (pl.col(_ROW).cast(pl.Int64) - pl.col(_ROW).cast(pl.Int64).min().over(_PART)).alias(_POS),
        pl.len().cast(pl.Int64).over(_PART).alias(_SIZE),
    )
    cols = _Columns(frame)
    results: list[pl.Expr] = []
    finish: list[tuple[str, AggCall, int]] = []
    for i, (name, call) in enumerate(calls):
        if call.func == "agg":
            assert call.agg is not None
            _agg_states(c, cols, name, call.agg, call.frame)
            finish.append((name, call.agg, i))
        else:
            results.append(_ranking_or_offset(call, i).alias(name))
    frame = cols.frame.with_columns(results) if results else cols.frame
    combined = [e for name, agg, _ in finish for e in states.combine_states(name, agg)]
    if combined:
        frame = frame.with_columns(combined)
    if finish:
        frame, finished, _ = c._on(frame, lambda: [_finish(c, n, a, i) for n, a, i in finish])
        frame = frame.with_columns(finished)
    return frame.select([n for n, _ in p.output])


def _key(x: pl.Expr, dtype: str) -> pl.Expr:
    """A key column as Spark compares window keys: floats with one NaN and one zero (the sort
    then keeps -0.0 among the 0.0s and every NaN together, above +inf, as Spark orders them)."""
    if dtype not in _types.FLOATING:
        return x
    x = x.cast(num.polars_dtype(dtype))
    nan = pl.lit(float("nan"), dtype=num.polars_dtype(dtype))
    zero = pl.lit(0.0, dtype=num.polars_dtype(dtype))
    return pl.when(x.is_nan()).then(nan).when(x == 0).then(zero).otherwise(x)


def _differs(name: str, e: _ir.Expr) -> pl.Expr:
    """This row's key differs from the previous row's (NULLs equal, NaN = NaN, -0.0 = 0.0)."""
    x, before = pl.col(name), pl.col(name).shift(1)
    same = x.eq_missing(before)
    if e.dtype in _types.FLOATING:
        same = same | (x.is_nan() & before.is_nan()).fill_null(False)
    return ~same


def _ranking_or_offset(call: WindowCall, i: int) -> pl.Expr:
    pos = pl.col(_POS)
    if call.func == "row_number":
        return (pos + 1).cast(pl.Int32)
    if call.func == "rank":
        return (pos.min().over(_PEER) + 1).cast(pl.Int32)
    if call.func == "dense_rank":
        peer = pl.col(_PEER)
        return (peer - peer.min().over(_PART) + 1).cast(pl.Int32)
    assert call.func == "offset"
    k = call.offset
    dtype = num.polars_dtype(call.dtype)
    value = pl.col(f"__wi{i}")
    default = pl.lit(None, dtype=dtype) if call.default is None else pl.col(f"__wd{i}")
    if k == 0:
        return value.cast(dtype)
    inside = (pos + k >= 0) & (pos + k < pl.col(_SIZE))
    return pl.when(inside).then(value.shift(-k)).otherwise(default).cast(dtype)


# -- aggregates -------------------------------------------------------------------------------


def _column(arg: _ir.Expr) -> pl.Expr:
    assert isinstance(arg, _ir.Col), "window arguments are columns by now"
    return pl.col(arg.name)


def _contributions(call: AggCall) -> list[tuple[str, pl.Expr, str]]:
    """Per row, what it adds to each state of ``call``: (state field, value, how states combine:
    sum, min or max). A row outside the frame, or a NULL, adds 0 to a sum and nothing to min/max."""
    f = call.func
    if f == "count_star":
        return [("c", pl.lit(1, dtype=pl.Int64), "sum")]
    args = [_column(a) for a in call.args]
    if f == "count":
        return [("c", pl.all_horizontal([a.is_not_null() for a in args]).cast(pl.Int64), "sum")]
    (x,) = args
    arg_type = call.args[0].dtype
    present = x.is_not_null().cast(pl.Int64)
    if f in ("min", "max"):
        if arg_type not in _types.FLOATING:
            return [("v", x, f)]
        not_nan = pl.when(~x.is_nan()).then(x)
        parts = [("v_m", not_nan, f), ("v_nan", x.is_nan().fill_null(False).cast(pl.Int64), "sum")]
        if f == "min":
            parts.append(("v_n", not_nan.is_not_null().cast(pl.Int64), "sum"))
        return parts
    if arg_type in _types.FLOATING:
        return [("s", x.cast(pl.Float64).fill_null(0.0), "sum"), ("c", present, "sum")]
    return [("s", x.cast(num.WIDE).fill_null(0), "sum"), ("c", present, "sum")]


def _agg_states(
    c: ExprCompiler, cols: _Columns, name: str, call: AggCall, frame: WindowFrame
) -> None:
    """The state columns of ``call`` over each row's frame, named as ``_aggstates`` names them."""
    found: list[pl.Expr] = []
    for field, value, how in _contributions(call):
        column = cols.add(value)
        exact = how == "sum" and not (field == "s" and call.args[0].dtype in _types.FLOATING)
        state = _over_frame(cols, column, how, frame, exact)
        found.append(state.alias(states.state_column(name, field)))
    if states.needs_abs_guard(call):
        # A bound on every partial sum of any frame of the partition: that of the partition.
        (arg,) = call.args
        abs_sum = _column(arg).cast(pl.Float64).abs().sum().over(_PART)
        found.append(abs_sum.alias(states.state_column(name, "a")))
    cols.frame = cols.frame.with_columns(found)


def _combine(e: pl.Expr, how: str) -> pl.Expr:
    return {"sum": e.sum(), "min": e.min(), "max": e.max()}[how]


def _cumulative(e: pl.Expr, how: str, reverse: bool) -> pl.Expr:
    if reverse:
        # By reversing: Polars 1.44's cum_sum(reverse=True) of a Decimal gives wrong sums.
        return _cumulative(e.reverse(), how, reverse=False).reverse()
    if how == "sum":
        return e.cum_sum()
    running = e.cum_min() if how == "min" else e.cum_max()
    # Polars leaves a NULL where the row is NULL; the running value carries on over it.
    return running.forward_fill()


def _empty(how: str) -> pl.Expr:
    """A state over no rows: 0 for a sum, NULL for min/max."""
    return pl.lit(0).cast(pl.Int64) if how == "sum" else pl.lit(None)


def _at(column: pl.Expr, k: int, beyond_end: pl.Expr, before_start: pl.Expr) -> pl.Expr:
    """``column`` at the row ``k`` rows after this one in its partition (others: the fills)."""
    if k == 0:
        return column
    pos, size = pl.col(_POS), pl.col(_SIZE)
    # The rows are in partition order: a row k away lies in the same partition where its
    # position does (a plain shift: cudf-polars takes no shift inside over).
    shifted = column.shift(-k)
    if k > 0:
        return pl.when(pos + k < size).then(shifted).otherwise(beyond_end)
    return pl.when(pos + k >= 0).then(shifted).otherwise(before_start)


def _over_frame(cols: _Columns, x: pl.Expr, how: str, frame: WindowFrame, exact: bool) -> pl.Expr:
    """``x`` combined by ``how`` over each row's frame."""
    lower, upper = frame.lower, frame.upper
    empty = _empty(how)
    if lower is None and upper is None:
        return _combine(x, how).over(_PART)
    if frame.kind == "range" and lower == 0 and upper == 0:
        return _combine(x, how).over(_PEER)
    if lower is None:  # from the partition's first row
        assert upper is not None
        running = cols.add(_cumulative(x, how, reverse=False).over(_PART))
        if frame.kind == "range":  # to the last of the current row's peers
            return running.last().over(_PEER)
        return _at(running, upper, running.last().over(_PART), empty)
    if upper is None and exact:  # to the partition's last row: the total less a prefix
        prefix = cols.add(x.cum_sum().over(_PART))
        total = prefix.last().over(_PART)
        if frame.kind == "range":  # from the first of the current row's peers
            # (the prefix before the peers: their last prefix less their own sum)
            return total - (prefix.last().over(_PEER) - x.sum().over(_PEER))
        return total - _at(prefix, lower - 1, total, pl.lit(0).cast(pl.Int64))
    if upper is None:  # reversed: not a difference for floats (inf - inf), min or max
        running = cols.add(_cumulative(x, how, reverse=True).over(_PART))
        if frame.kind == "range":  # from the first of the current row's peers
            return running.first().over(_PEER)
        return _at(running, lower, empty, running.first().over(_PART))
    if exact:
        # Exact sums (integers, decimals, counts): a difference of two prefix sums.
        prefix = cols.add(x.cum_sum().over(_PART))
        total = prefix.last().over(_PART)
        zero = pl.lit(0).cast(pl.Int64)
        return _at(prefix, upper, total, zero) - _at(prefix, lower - 1, total, zero)
    # Floats and min/max: the frame's rows one by one, in Spark's order (first to last).
    pos, size = pl.col(_POS), pl.col(_SIZE)
    terms = [
        x if k == 0 else pl.when((pos + k >= 0) & (pos + k < size)).then(x.shift(-k))
        for k in range(lower, upper + 1)
    ]
    if how == "sum":
        return pl.sum_horizontal(terms)
    return pl.min_horizontal(terms) if how == "min" else pl.max_horizontal(terms)


def _finish(c: ExprCompiler, name: str, call: AggCall, i: int) -> pl.Expr:
    result = aggregates._finish(c, name, call)
    if c.ansi and call.func == "sum" and call.args[0].dtype == "long":
        # ANSI Spark fails the first partial sum past 64 bits, in its order of the rows (ties
        # unordered): where the partition's sum of |x| stays below 2^63 none can overflow;
        # elsewhere the stage fails and Spark answers (or raises).
        (arg,) = call.args
        bound = _column(arg).cast(num.WIDE).abs().sum().over(_PART)
        result = c.guard(result, bound > num.wide(_LONG_MAX), "window_sum_may_overflow")
    return result.alias(name)
