"""Our IR → Polars lazy queries, with Spark's semantics spelled out where Polars differs.

Internal representation inside a stage: decimals are their unscaled values in ``Decimal(38, 0)``
(``_numeric.WIDE``, which says why), dates ``Date``, strings ``String``, numbers their Spark
width. Aggregate states are in ``_aggstates``, LIKE in ``_like``.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from spark_plugin import _compile_aggs, _ir, _like, _types
from spark_plugin import _numeric as num
from spark_plugin._ir import AggCall, Call, Case, Col, Expr, Lit, ScalarSubquery

#: |x| below this (as a float estimate) fits ``WIDE`` (38 digits).
_WIDE_SAFE = 1.0e38


class AnsiError(RuntimeError):
    """Spark would raise here (ANSI mode); the action is handed back to Spark to raise it."""


def _raise_where(condition: pl.Expr, what: str) -> pl.Expr:
    """An Int8 column of zeros that makes the query fail where ``condition`` holds.

    Polars has no raise-expression; a strict cast of a non-numeric string does it and runs in
    the engine (CPU or GPU) without a Python callback.
    """
    marker = re.sub(r"[^A-Za-z_]", "_", what)
    return (
        pl.when(condition.fill_null(False))
        .then(pl.lit(f"SPARK_ANSI_ERROR_{marker}"))
        .otherwise(pl.lit("0"))
        .cast(pl.Int8, strict=True)
    )


def _guarded(value: pl.Expr, condition: pl.Expr, what: str) -> pl.Expr:
    return pl.when(_raise_where(condition, what) == 0).then(value)


class Compiler:
    """Compiles one stage. ``sources`` gives a LazyFrame for each Scan or Input node."""

    def __init__(
        self,
        settings: _ir.Settings,
        sources: Callable[[_ir.Scan | _ir.Input], pl.LazyFrame],
        collect: Callable[[pl.LazyFrame], pl.DataFrame],
    ) -> None:
        self.settings = settings
        self.sources = sources
        self.collect = collect
        self._subquery_values: dict[int, Any] = {}
        #: Aggregate node id -> (input column, frame of the only keys its groups can join with).
        self._key_filters: dict[int, tuple[str, pl.LazyFrame]] = {}
        #: Columns to compute before the expressions being built (see ``_let``); None: inline.
        self._lets: list[tuple[str, pl.Expr]] | None = None
        self._let_count = 0

    # -- shared subexpressions -------------------------------------------------------------------

    def _let(self, e: pl.Expr) -> pl.Expr:
        """``e`` as a column computed beforehand, when the expression being built uses it several
        times. Polars expressions are trees: without this, Spark's checks (overflow, rounding,
        NaN order) that repeat their operand make nested formulas grow exponentially, and Polars
        spends its time optimizing megabytes of plan (q1's final aggregate: 1.3 MB, 0.5 s)."""
        if self._lets is None or e.meta.is_column() or e.meta.is_literal(allow_aliasing=True):
            return e
        name = f"__let{self._let_count}"
        self._let_count += 1
        self._lets.append((name, e.alias(name)))
        return pl.col(name)

    def _on(
        self, frame: pl.LazyFrame, build: Callable[[], list[pl.Expr]]
    ) -> tuple[pl.LazyFrame, list[pl.Expr], list[str]]:
        """Build expressions for ``frame``: ``frame`` with the columns they share added (each
        after the ones it uses), the expressions, and the names of the added columns."""
        outer = self._lets
        self._lets = []
        try:
            exprs = build()
            lets = self._lets
        finally:
            self._lets = outer
        for _, e in lets:
            frame = frame.with_columns(e)
        return frame, exprs, [n for n, _ in lets]

    @property
    def ansi(self) -> bool:
        return self.settings.ansi

    # -- decimals ------------------------------------------------------------------------------

    def _check_precision(self, value: pl.Expr, dtype: str) -> pl.Expr:
        """Values that do not fit decimal(p, s): an error under ANSI, else NULL (as Spark)."""
        precision, _ = _types.decimal_ps(dtype)
        if precision >= 38:
            return value  # num.WIDE holds 38 digits: Polars raised at the arithmetic already
        limit = num.pow10(precision)
        value = self._let(value)
        overflow = (value >= limit) | (value <= -limit)
        if self.ansi:
            return _guarded(value, overflow, "decimal_overflow")
        return pl.when(~overflow).then(value)

    def _int128_guard(self, estimate: pl.Expr, value: pl.Expr) -> pl.Expr:
        # Intermediate beyond 38 digits: Spark (BigDecimal) would not overflow here, so we cannot
        # give its answer; failing hands the action back to Spark.
        return _guarded(self._let(value), estimate.abs() >= _WIDE_SAFE, "int128_intermediate")

    def _decimal_arith(self, op: str, a: Expr, b: Expr, result: str) -> pl.Expr:
        p1, s1 = _types.decimal_ps(a.dtype)
        p2, s2 = _types.decimal_ps(b.dtype)
        _, sr = _types.decimal_ps(result)
        x, y = self._let(self.expr(a)), self._let(self.expr(b))
        if op in ("add", "sub"):
            scale = max(s1, s2)
            exact_digits = max(p1 - s1, p2 - s2) + scale + 1
            xs, ys = num.rescale(x, s1, scale), num.rescale(y, s2, scale)
            value = xs + ys if op == "add" else xs - ys
            value = num.rescale(value, scale, sr, self._let)
        elif op == "mul":
            exact_digits = p1 + p2 + 1
            value = x * y
            if p1 + p2 > 38:
                estimate = x.cast(pl.Float64) * y.cast(pl.Float64)
                value = self._int128_guard(estimate, value)
            value = num.rescale(value, s1 + s2, sr, self._let)
        else:  # div: a * 10^(sr - s1 + s2) / b, rounded HALF_UP
            exact_digits = _types.MAX_PRECISION + 1  # a quotient can need any number of digits
            shift = sr - s1 + s2
            zero = y == 0
            if shift >= 0:
                if p1 + shift > 38:
                    estimate = x.cast(pl.Float64) * float(10**shift)
                    x = self._int128_guard(estimate, x)
                numerator = x * num.pow10(shift)
                value = pl.when(~zero).then(num.div_half_up(numerator, y, self._let))
            else:
                value = pl.when(~zero).then(num.div_half_up(x, y * num.pow10(-shift), self._let))
            value = self._zero_divisor_guard(value, x, zero)
        if exact_digits <= _types.MAX_PRECISION:
            # Spark's result type holds every exact result: no overflow check needed (and every
            # check repeats the expression, which nests exponentially in long formulas).
            return value
        return self._check_precision(value, result)

    def _zero_divisor_guard(self, value: pl.Expr, dividend: pl.Expr, zero: pl.Expr) -> pl.Expr:
        """ANSI: a zero divisor with a non-null dividend is an error. The guard wraps the whole
        value so Polars cannot fold it away with a constant ``when(divisor != 0)``."""
        if not self.ansi:
            return value
        return _guarded(value, zero & dividend.is_not_null(), "divide_by_zero")

    def _cast(self, arg: Expr, target: str) -> pl.Expr:
        value = self.expr(arg)
        source = arg.dtype
        if _types.is_decimal(target):
            _, st = _types.decimal_ps(target)
            if _types.is_decimal(source):
                _, ss = _types.decimal_ps(source)
                scaled = num.rescale(value, ss, st, self._let)
            else:
                scaled = value.cast(num.WIDE) * num.pow10(st)
            return self._check_precision(scaled, target)
        if _types.is_decimal(source) and target == "double":
            _, ss = _types.decimal_ps(source)
            return value.cast(pl.Float64) / float(10**ss)
        return value.cast(num.polars_dtype(target))

    # -- integers ------------------------------------------------------------------------------

    def _int_arith(self, op: str, a: pl.Expr, b: pl.Expr, dtype: str) -> pl.Expr:
        wide = num.WIDER[dtype]
        x, y = a.cast(wide), b.cast(wide)
        value = {"add": x + y, "sub": x - y, "mul": x * y}[op]
        return self._narrow(value, dtype)

    def _narrow(self, value: pl.Expr, dtype: str) -> pl.Expr:
        """Back to Spark's width: ANSI raises on overflow; otherwise Java's two's-complement wrap."""
        bits = _types.INT_BITS[dtype]
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        target = num.INT_DTYPES[dtype]
        value = self._let(value)
        if self.ansi:
            return _guarded(value, (value < lo) | (value > hi), "arithmetic_overflow").cast(target)
        if bits < 64:
            wide = value.cast(pl.Int64)
            span = pl.lit(2**bits, dtype=pl.Int64)
            wrapped = (wide - lo) % span + lo  # Polars' % is floor-mod: result in [0, span)
            return wrapped.cast(target)
        shifted = self._let(value.cast(num.WIDE) - num.wide(lo))
        span = num.wide(2**bits)
        floor_mod = shifted - num.floor_div(shifted, span, self._let) * span
        return (floor_mod + num.wide(lo)).cast(target)

    # -- floats ---------------------------------------------------------------------------------

    def _float_compare(self, op: str, x: pl.Expr, y: pl.Expr) -> pl.Expr:
        """Spark orders NaN above every other value and NaN = NaN; -0.0 = 0.0."""
        x, y = self._let(x), self._let(y)
        if op in ("gt", "ge"):
            x, y = y, x
            op = "lt" if op == "gt" else "le"
        if op == "eq":
            inner = pl.when(x.is_nan() | y.is_nan()).then(x.is_nan() & y.is_nan()).otherwise(x == y)
        elif op == "lt":
            inner = pl.when(x.is_nan()).then(False).when(y.is_nan()).then(True).otherwise(x < y)
        else:  # le
            inner = pl.when(y.is_nan()).then(True).when(x.is_nan()).then(False).otherwise(x <= y)
        return pl.when(x.is_null() | y.is_null()).then(None).otherwise(inner)

    # -- expressions ----------------------------------------------------------------------------

    def expr(self, e: Expr) -> pl.Expr:
        if isinstance(e, Col):
            return pl.col(e.name)
        if isinstance(e, Lit):
            if e.value is None:
                return pl.lit(None, dtype=num.polars_dtype(e.dtype))
            return pl.lit(e.value, dtype=num.polars_dtype(e.dtype))
        if isinstance(e, Case):
            return self._case(e)
        if isinstance(e, ScalarSubquery):
            return self._scalar_subquery(e)
        if isinstance(e, AggCall):
            raise NotImplementedError("aggregate outside an Aggregate")
        return self._call(e)

    def _case(self, e: Case) -> pl.Expr:
        dtype = num.polars_dtype(e.dtype)
        chain: Any = pl
        for cond, value in e.branches:
            chain = chain.when(self.expr(cond)).then(self.expr(value).cast(dtype))
        otherwise = (
            pl.lit(None, dtype=dtype) if e.otherwise is None else self.expr(e.otherwise).cast(dtype)
        )
        return chain.otherwise(otherwise)

    def _scalar_subquery(self, e: ScalarSubquery) -> pl.Expr:
        key = id(e)
        if key not in self._subquery_values:
            frame = self.collect(self.plan(e.plan))
            if frame.height > 1:
                raise AnsiError("scalar subquery returned more than one row")
            self._subquery_values[key] = frame.item(0, 0) if frame.height else None
        return pl.lit(self._subquery_values[key], dtype=num.polars_dtype(e.dtype))

    def _call(self, e: Call) -> pl.Expr:
        op = e.op
        args = e.args
        if op == "and":
            return self.expr(args[0]) & self.expr(args[1])
        if op == "or":
            return self.expr(args[0]) | self.expr(args[1])
        if op == "not":
            return ~self.expr(args[0])
        if op == "isnull":
            return self.expr(args[0]).is_null()
        if op == "isnotnull":
            return self.expr(args[0]).is_not_null()
        if op == "normalize":
            x = self._let(self.expr(args[0]))
            # -0.0 and 0.0 group and join together in Spark.
            return pl.when(x == 0).then(pl.lit(0.0)).otherwise(x).cast(num.polars_dtype(e.dtype))
        if op in ("eq", "lt", "le", "gt", "ge", "eq_null_safe"):
            return self._compare(op, args[0], args[1])
        if op in ("add", "sub", "mul", "div"):
            if _types.is_decimal(e.dtype):
                return self._decimal_arith(op, args[0], args[1], e.dtype)
            x, y = self.expr(args[0]), self.expr(args[1])
            if e.dtype in _types.INTEGRAL:
                return self._int_arith(op, x, y, e.dtype)
            if op == "div":
                zero = y == 0
                return self._zero_divisor_guard(pl.when(~zero).then(x / y), x, zero)
            if op in ("add", "sub"):
                return num.float_add_sub(op, x, y, e.dtype)
            return x * y
        if op == "neg":
            x = self.expr(args[0])
            if e.dtype in _types.INTEGRAL:
                return self._narrow(num.neg(x.cast(num.WIDE)), e.dtype)
            if _types.is_decimal(e.dtype):
                return num.neg(x)
            return -x
        if op in ("mod", "intdiv"):
            return self._integral_division(op, args[0], args[1], e.dtype)
        if op == "cast":
            return self._cast(args[0], e.dtype)
        if op == "unscaled":
            return self.expr(args[0]).cast(pl.Int64)
        if op == "make_decimal":
            value = self.expr(args[0]).cast(num.WIDE)
            precision, _ = _types.decimal_ps(e.dtype)
            limit = num.pow10(precision)
            overflow = (value >= limit) | (value <= -limit)
            if e.options[0]:
                return pl.when(~overflow).then(value)
            return _guarded(value, overflow, "decimal_overflow")
        if op == "in":
            return self._in(args[0], args[1:])
        if op == "like":
            assert isinstance(args[1], Lit)
            return _like.like(self._let(self.expr(args[0])), str(args[1].value), e.options[0])
        if op in ("startswith", "endswith", "contains"):
            assert isinstance(args[1], Lit)
            x = self.expr(args[0])
            needle = args[1].value
            if needle is None:
                return pl.lit(None, dtype=pl.Boolean)
            if op == "startswith":
                return x.str.starts_with(needle)
            if op == "endswith":
                return x.str.ends_with(needle)
            return x.str.contains(needle, literal=True)
        if op == "substring":
            return self._substring(args)
        if op == "upper":
            return self.expr(args[0]).str.to_uppercase()
        if op == "lower":
            return self.expr(args[0]).str.to_lowercase()
        if op == "length":
            return self.expr(args[0]).str.len_chars().cast(pl.Int32)
        if op == "concat":
            return pl.concat_str([self.expr(a) for a in args], ignore_nulls=False)
        if op in ("year", "month", "day", "quarter"):
            x = self.expr(args[0])
            part = {"year": x.dt.year(), "month": x.dt.month(), "day": x.dt.day()}.get(op)
            if part is None:
                part = x.dt.quarter()
            return part.cast(pl.Int32)
        if op == "coalesce":
            dtype = num.polars_dtype(e.dtype)
            return pl.coalesce([self.expr(a).cast(dtype) for a in args])
        raise NotImplementedError(f"operator {op}")

    def _compare(self, op: str, a: Expr, b: Expr) -> pl.Expr:
        x, y = self._let(self.expr(a)), self._let(self.expr(b))
        if _types.is_decimal(a.dtype) and _types.is_decimal(b.dtype):
            _, s1 = _types.decimal_ps(a.dtype)
            _, s2 = _types.decimal_ps(b.dtype)
            scale = max(s1, s2)
            x, y = num.rescale(x, s1, scale), num.rescale(y, s2, scale)
        is_float = a.dtype in _types.FLOATING or b.dtype in _types.FLOATING
        if op == "eq_null_safe":
            eq = self._float_compare("eq", x, y) if is_float else x == y
            both_null = x.is_null() & y.is_null()
            return pl.when(x.is_null() | y.is_null()).then(both_null).otherwise(eq)
        if is_float:
            return self._float_compare(op, x, y)
        return {"eq": x == y, "lt": x < y, "le": x <= y, "gt": x > y, "ge": x >= y}[op]

    def _integral_division(self, op: str, a: Expr, b: Expr, dtype: str) -> pl.Expr:
        x = self._let(self.expr(a).cast(num.WIDE))
        y = self._let(self.expr(b).cast(num.WIDE))
        zero = y == 0
        # Java truncates toward zero: the floor of the magnitudes, signed.
        q = self._let(num.floor_div(self._let(num.abs_(x)), self._let(num.abs_(y)), self._let))
        q = self._let(pl.when((x < 0) != (y < 0)).then(num.neg(q)).otherwise(q))
        if op == "intdiv":
            value = pl.when(~zero).then(self._narrow(q, "long"))
        else:
            value = pl.when(~zero).then((x - q * y).cast(num.INT_DTYPES[dtype]))
        return self._zero_divisor_guard(value, x, zero)

    def _in(self, value: Expr, items: tuple[Expr, ...]) -> pl.Expr:
        x = self._let(self.expr(value))
        literals = [i.value for i in items if isinstance(i, Lit)]
        present = [v for v in literals if v is not None]
        has_null = len(present) != len(literals)
        if _types.is_decimal(value.dtype):
            _, scale = _types.decimal_ps(value.dtype)
            present = []
            for item in items:
                if isinstance(item, Lit) and item.value is not None:
                    _, s_item = _types.decimal_ps(item.dtype)
                    present.append(item.value * 10 ** (scale - s_item))
        dtype = num.polars_dtype(value.dtype)
        if _types.is_decimal(value.dtype):
            present = [decimal.Decimal(v) for v in present]  # past 64 bits, ints are refused
        found = x.is_in(pl.Series(present, dtype=dtype))
        if has_null:
            # x IN (..., NULL): true if found, else NULL (never false).
            return pl.when(x.is_null()).then(None).when(found).then(True).otherwise(None)
        return pl.when(x.is_null()).then(None).otherwise(found)

    def _substring(self, args: tuple[Expr, ...]) -> pl.Expr:
        """Spark's 1-based ``substring(str, pos, len)``; pos 0 acts as 1, negative counts back."""
        literal = [a.value if isinstance(a, Lit) else False for a in args[1:]]
        if (
            isinstance(literal[0], int)
            and literal[0] >= 0
            and (len(literal) == 1 or isinstance(literal[1], int))
        ):
            # Bounds known here: a slice with literal bounds (cudf-polars takes only those).
            length = max(0, literal[1]) if len(literal) > 1 else None
            return self.expr(args[0]).str.slice(max(0, literal[0] - 1), length)
        s = self._let(self.expr(args[0]))
        pos = self._let(self.expr(args[1]).cast(pl.Int64))
        length = self.expr(args[2]).cast(pl.Int64) if len(args) > 2 else pl.lit(2**31 - 1, pl.Int64)
        length = self._let(length)
        n = s.str.len_chars().cast(pl.Int64)
        start = self._let(pl.when(pos > 0).then(pos - 1).when(pos < 0).then(n + pos).otherwise(0))
        end = start + length
        begin = pl.max_horizontal(start, pl.lit(0, pl.Int64))
        size = pl.max_horizontal(end - begin, pl.lit(0, pl.Int64))
        sliced = s.str.slice(begin, size)
        return pl.when(s.is_null() | pos.is_null() | length.is_null()).then(None).otherwise(sliced)

    # -- plans ----------------------------------------------------------------------------------

    def plan(self, p: _ir.Plan) -> pl.LazyFrame:
        if isinstance(p, _ir.Scan | _ir.Input):
            return self.sources(p)
        if isinstance(p, _ir.Filter):
            child = self.plan(p.child)
            frame, (condition,), added = self._on(child, lambda: [self.expr(p.condition)])
            return frame.filter(condition).drop(added)
        if isinstance(p, _ir.Project):
            child = self.plan(p.child)
            if not p.exprs:
                # A frame with no columns has no rows in Polars; keep the row count (count(*)).
                # (A bare literal would give one row, so number the rows instead.)
                return child.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__rows"))
            frame, exprs, _ = self._on(
                child,
                lambda: [self.expr(e).cast(num.polars_dtype(e.dtype)).alias(n) for n, e in p.exprs],
            )
            if not any(e.meta.root_names() for e in exprs):
                # Only literals: a select of scalars is one row; Spark gives one per input row.
                return frame.with_columns(exprs).select([n for n, _ in p.exprs])
            return frame.select(exprs)
        if isinstance(p, _ir.Aggregate):
            child = self.plan(p.child)
            key_filter = self._key_filters.pop(id(p), None)
            if key_filter is not None:
                column, wanted = key_filter
                child = child.join(wanted, left_on=column, right_on="__key", how="semi")
            return self.aggregate(p, child, mode="complete")
        if isinstance(p, _ir.Join):
            return self._join(p)
        if isinstance(p, _ir.Sort):
            child = self.plan(p.child)
            if not p.keys:
                return child
            frame, keys, added = self._on(child, lambda: [self.expr(k.expr) for k in p.keys])
            return frame.sort(
                keys,
                descending=[not k.ascending for k in p.keys],
                nulls_last=[not k.nulls_first for k in p.keys],
                maintain_order=True,
            ).drop(added)
        if isinstance(p, _ir.Limit):
            return self.plan(p.child).head(p.n)
        raise NotImplementedError(type(p).__name__)

    def _join_sides(self, p: _ir.Join) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        """Compile both sides. An inner or semi join drops every group of an aggregate on one
        side whose key the other side lacks, so that aggregate only reads rows with those keys
        (TPC-H q17: avg(l_quantity) of the 2k parts asked for, not of all 200k)."""
        sides, keys = (p.left, p.right), (p.left_keys, p.right_keys)
        # The aggregate may sit on the right of an inner or semi join, or the left of an inner.
        for grouped in {"inner": (1, 0), "semi": (1,)}.get(p.how, ()):
            found = _grouped_by(sides[grouped], keys[grouped])
            if found is None:
                continue
            other = self.plan(sides[1 - grouped])  # first: its keys restrict the aggregate
            self._restrict(found, other, keys[1 - grouped])
            restricted = self.plan(sides[grouped])
            self._key_filters.pop(id(found[0]), None)  # used by now; never for another node
            return (other, restricted) if grouped == 1 else (restricted, other)
        return self.plan(p.left), self.plan(p.right)

    def _restrict(
        self, found: tuple[_ir.Aggregate, str, int], other: pl.LazyFrame, keys: tuple[Expr, ...]
    ) -> None:
        aggregate, column, position = found
        key = keys[position]
        if isinstance(key, Col):
            self._key_filters[id(aggregate)] = (
                column,
                other.select(pl.col(key.name).alias("__key")).unique(),
            )

    def _filter(self, frame: pl.LazyFrame, condition: Expr) -> pl.LazyFrame:
        frame, (predicate,), added = self._on(frame, lambda: [self.expr(condition)])
        return frame.filter(predicate).drop(added)

    def _join(self, p: _ir.Join) -> pl.LazyFrame:
        left, right = self._join_sides(p)
        if p.how == "cross":
            joined = _cross(left, right)
            if p.residual is None:
                return joined
            return self._filter(joined, p.residual)
        lk = [f"__lk{i}" for i in range(len(p.left_keys))]
        rk = [f"__rk{i}" for i in range(len(p.right_keys))]
        left, left_keys, _ = self._on(
            left, lambda: [self.expr(k).alias(n) for k, n in zip(p.left_keys, lk, strict=True)]
        )
        left = left.with_columns(left_keys)
        right, right_keys, _ = self._on(
            right, lambda: [self.expr(k).alias(n) for k, n in zip(p.right_keys, rk, strict=True)]
        )
        right = right.with_columns(right_keys)
        out_cols = [n for n, _ in p.output]
        if p.how == "anti_null_aware":
            # NOT IN: an empty right side keeps every row; a NULL on the right keeps none;
            # a NULL on the left is kept only when the right side is empty.
            stats = right.select(
                pl.len().alias("__right_rows"), pl.col(rk[0]).null_count().alias("__right_nulls")
            )
            kept = left.join(right, left_on=lk, right_on=rk, how="anti", nulls_equal=False)
            kept = _cross(kept, stats).filter(
                (pl.col("__right_rows") == 0)
                | ((pl.col("__right_nulls") == 0) & pl.col(lk[0]).is_not_null())
            )
            return kept.select(out_cols)
        if p.residual is None:
            how = {"inner": "inner", "left": "left", "right": "right", "full": "full"}.get(p.how)
            if how is not None:
                joined = left.join(
                    right,
                    left_on=lk,
                    right_on=rk,
                    how=how,  # type: ignore[arg-type]
                    nulls_equal=False,
                    coalesce=False,
                )
            else:
                joined = left.join(right, left_on=lk, right_on=rk, how=p.how, nulls_equal=False)  # type: ignore[arg-type]
            return joined.select(out_cols)
        residual = p.residual
        if p.how == "inner":
            joined = left.join(right, left_on=lk, right_on=rk, how="inner", nulls_equal=False)
            return self._filter(joined, residual).select(out_cols)
        # left / semi / anti with a non-equi part: match on the keys, keep pairs passing the
        # residual, then decide per left row (by row number).
        left = left.with_row_index("__row")
        pairs = left.join(right, left_on=lk, right_on=rk, how="inner", nulls_equal=False)
        pairs = self._filter(pairs, residual)
        if p.how == "semi":
            matched = pairs.select("__row").unique()
            return left.join(matched, on="__row", how="semi").sort("__row").select(out_cols)
        if p.how == "anti":
            matched = pairs.select("__row").unique()
            return left.join(matched, on="__row", how="anti").sort("__row").select(out_cols)
        if p.how == "left":
            matched_rows = pairs.select("__row").unique()
            unmatched = left.join(matched_rows, on="__row", how="anti")
            right_cols = [n for n, _ in p.right.output]
            schema = right.collect_schema()
            padded = unmatched.with_columns(
                [pl.lit(None, dtype=schema[c]).alias(c) for c in right_cols]
            )
            return pl.concat(
                [pairs.select(out_cols), padded.select(out_cols)], how="vertical_relaxed"
            )
        raise NotImplementedError(f"{p.how} join with residual")

    # -- aggregation ----------------------------------------------------------------------------

    def aggregate(self, p: _ir.Aggregate, child: pl.LazyFrame, mode: str) -> pl.LazyFrame:
        """``mode``: complete (one step), partial (emit states) or final (merge states)."""
        return _compile_aggs.aggregate(self, p, child, mode)


def _cross(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
    """Every pair of rows, as an equi-join on a constant key: cudf-polars turns a cross join
    with a filter above into a nested-loop join, which it does not run."""
    one = pl.lit(1, dtype=pl.Int8).alias("__cross")
    joined = left.with_columns(one).join(right.with_columns(one), on="__cross", how="inner")
    return joined.drop("__cross")


def _grouped_by(side: _ir.Plan, keys: tuple[Expr, ...]) -> tuple[_ir.Aggregate, str, int] | None:
    """The aggregate under ``side`` (through filters and projections that pass the key column
    on) grouped by one of the join ``keys`` as a plain column: (aggregate, its input column,
    position of the join key)."""
    for position, key in enumerate(keys):
        if not isinstance(key, Col):
            continue
        name = key.name
        node = side
        while True:
            if isinstance(node, _ir.Filter):
                node = node.child
            elif isinstance(node, _ir.Project):
                source = dict(node.exprs).get(name)
                if not isinstance(source, Col):
                    break
                name, node = source.name, node.child
            else:
                break
        if isinstance(node, _ir.Aggregate):
            for output, e in node.keys:
                if output == name and isinstance(e, Col):
                    return node, e.name, position
    return None


def source_frame(frame: pl.DataFrame | pl.LazyFrame, columns: Mapping[str, str]) -> pl.LazyFrame:
    """Bring Arrow-typed data (Parquet or Spark batches) into the internal representation."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    exprs = []
    schema = lazy.collect_schema()
    for name, dtype in columns.items():
        column = pl.col(name)
        if _types.is_decimal(dtype):
            column = num.unscaled(column, schema[name])
        else:
            column = column.cast(num.polars_dtype(dtype))
        exprs.append(column.alias(name))
    return lazy.select(exprs)
