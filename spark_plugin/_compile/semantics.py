"""Spark's semantics in Polars expressions: failing checks, decimals, integer widths, floats.

Internal representation inside a stage: decimals are their unscaled values in ``Decimal(38, 0)``
(``_numeric.WIDE``, which says why), dates ``Date``, strings ``String``, numbers their Spark
width.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import polars as pl

from spark_plugin import _ir, _types
from spark_plugin import _numeric as num
from spark_plugin._ir import Expr

#: |x| below this (as a float estimate) fits ``WIDE`` (38 digits).
_WIDE_SAFE = 1.0e38


class AnsiError(RuntimeError):
    """Spark would raise here (ANSI mode); the action is handed back to Spark to raise it."""


def raise_where(condition: pl.Expr, what: str) -> pl.Expr:
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


class SemanticsCompiler:
    """The state of one stage's compile and Spark's numeric semantics; ``exprs.ExprCompiler``
    adds the expressions, ``plans.Compiler`` the operators."""

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
        #: Columns to compute before the expressions being built (see ``let``); None: inline.
        self._lets: list[tuple[str, pl.Expr]] | None = None
        self._let_count = 0
        #: Checks that fail the query (ANSI errors, digits we cannot hold) built so far.
        self.guards = 0

    def expr(self, e: Expr) -> pl.Expr:
        raise NotImplementedError("expressions are compiled by exprs.ExprCompiler")

    def plan(self, p: _ir.Plan) -> pl.LazyFrame:
        raise NotImplementedError("plans are compiled by plans.Compiler")

    # -- shared subexpressions -------------------------------------------------------------------

    def let(self, e: pl.Expr) -> pl.Expr:
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

    def guard(self, value: pl.Expr, condition: pl.Expr, what: str) -> pl.Expr:
        """``value``, or a failure where ``condition`` holds (see ``raise_where``); counted, so
        that the operators run such checks on all the rows Spark runs them on (see
        ``plans.Compiler._filter``)."""
        self.guards += 1
        return pl.when(raise_where(condition, what) == 0).then(value)

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
        value = self.let(value)
        overflow = (value >= limit) | (value <= -limit)
        if self.ansi:
            return self.guard(value, overflow, "decimal_overflow")
        return pl.when(~overflow).then(value)

    def _int128_guard(self, estimate: pl.Expr, value: pl.Expr) -> pl.Expr:
        # Intermediate beyond 38 digits: Spark (BigDecimal) would not overflow here, so we cannot
        # give its answer; failing hands the action back to Spark.
        return self.guard(self.let(value), estimate.abs() >= _WIDE_SAFE, "int128_intermediate")

    def _decimal_arith(self, op: str, a: Expr, b: Expr, result: str) -> pl.Expr:
        p1, s1 = _types.decimal_ps(a.dtype)
        p2, s2 = _types.decimal_ps(b.dtype)
        _, sr = _types.decimal_ps(result)
        x, y = self.let(self.expr(a)), self.let(self.expr(b))
        if op in ("add", "sub"):
            scale = max(s1, s2)
            exact_digits = max(p1 - s1, p2 - s2) + scale + 1
            xs, ys = num.rescale(x, s1, scale), num.rescale(y, s2, scale)
            value = xs + ys if op == "add" else xs - ys
            value = num.rescale(value, scale, sr, self.let)
        elif op == "mul":
            exact_digits = p1 + p2 + 1
            value = x * y
            if p1 + p2 > 38:
                estimate = x.cast(pl.Float64) * y.cast(pl.Float64)
                value = self._int128_guard(estimate, value)
            value = num.rescale(value, s1 + s2, sr, self.let)
        else:  # div: a * 10^(sr - s1 + s2) / b, rounded HALF_UP
            exact_digits = _types.MAX_PRECISION + 1  # a quotient can need any number of digits
            shift = sr - s1 + s2
            zero = y == 0
            if shift >= 0:
                if p1 + shift > 38:
                    estimate = x.cast(pl.Float64) * float(10**shift)
                    x = self._int128_guard(estimate, x)
                numerator = x * num.pow10(shift)
                value = pl.when(~zero).then(num.div_half_up(numerator, y, self.let))
            else:
                value = pl.when(~zero).then(num.div_half_up(x, y * num.pow10(-shift), self.let))
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
        return self.guard(value, zero & dividend.is_not_null(), "divide_by_zero")

    def _cast(self, arg: Expr, target: str) -> pl.Expr:
        value = self.expr(arg)
        source = arg.dtype
        if _types.is_decimal(target):
            _, st = _types.decimal_ps(target)
            if _types.is_decimal(source):
                _, ss = _types.decimal_ps(source)
                scaled = num.rescale(value, ss, st, self.let)
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

    def _narrow(self, value: pl.Expr, dtype: str, fail: bool | None = None) -> pl.Expr:
        """Back to Spark's width: ANSI (or ``fail``) raises on overflow; otherwise Java's
        two's-complement wrap."""
        bits = _types.INT_BITS[dtype]
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        target = num.INT_DTYPES[dtype]
        value = self.let(value)
        if self.ansi if fail is None else fail:
            overflow = (value < lo) | (value > hi)
            return self.guard(value, overflow, "arithmetic_overflow").cast(target)
        if bits < 64:
            wide = value.cast(pl.Int64)
            span = pl.lit(2**bits, dtype=pl.Int64)
            wrapped = (wide - lo) % span + lo  # Polars' % is floor-mod: result in [0, span)
            return wrapped.cast(target)
        shifted = self.let(value.cast(num.WIDE) - num.wide(lo))
        span = num.wide(2**bits)
        floor_mod = shifted - num.floor_div(shifted, span, self.let) * span
        return (floor_mod + num.wide(lo)).cast(target)

    # -- floats ---------------------------------------------------------------------------------

    def _float_compare(self, op: str, x: pl.Expr, y: pl.Expr) -> pl.Expr:
        """Spark orders NaN above every other value and NaN = NaN; -0.0 = 0.0."""
        x, y = self.let(x), self.let(y)
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
