"""Our IR expressions → Polars expressions (LIKE in ``_like``, numbers in ``semantics``)."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

import polars as pl

from spark_plugin import _numeric as num
from spark_plugin import _types
from spark_plugin._compile.semantics import AnsiError, SemanticsCompiler
from spark_plugin._ir import AggCall, Call, Case, Col, Expr, Lit, ScalarSubquery


class ExprCompiler(SemanticsCompiler):
    """Expressions; ``plans.Compiler`` adds the operators."""

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
            x = self.let(self.expr(args[0]))
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
        if op in ("neg", "abs"):
            x = self.expr(args[0])
            exact = num.neg if op == "neg" else num.abs_
            if e.dtype in _types.INTEGRAL:
                # -MIN_VALUE and abs(MIN_VALUE): an error where the plan fails on error, else
                # MIN_VALUE again (Java's wrap).
                return self._narrow(exact(self.let(x.cast(num.WIDE))), e.dtype, e.options[0])
            if _types.is_decimal(e.dtype):
                return exact(self.let(x))  # the same precision always holds -x and |x|
            return -x if op == "neg" else x.abs()
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
            return self.guard(value, overflow, "decimal_overflow")
        if op == "in":
            return self._in(args[0], args[1:])
        if op == "coalesce":
            dtype = num.polars_dtype(e.dtype)
            return pl.coalesce([self.expr(a).cast(dtype) for a in args])
        family_op = OPS.get(op)
        if family_op is not None:
            return family_op(self, e)
        raise NotImplementedError(f"operator {op}")

    def _compare(self, op: str, a: Expr, b: Expr) -> pl.Expr:
        x, y = self.let(self.expr(a)), self.let(self.expr(b))
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
        x = self.let(self.expr(a).cast(num.WIDE))
        y = self.let(self.expr(b).cast(num.WIDE))
        zero = y == 0
        # Java truncates toward zero: the floor of the magnitudes, signed.
        q = self.let(num.floor_div(self.let(num.abs_(x)), self.let(num.abs_(y)), self.let))
        q = self.let(pl.when((x < 0) != (y < 0)).then(num.neg(q)).otherwise(q))
        if op == "intdiv":
            value = pl.when(~zero).then(self._narrow(q, "long"))
        else:
            value = pl.when(~zero).then((x - q * y).cast(num.INT_DTYPES[dtype]))
        return self._zero_divisor_guard(value, x, zero)

    def _in(self, value: Expr, items: tuple[Expr, ...]) -> pl.Expr:
        x = self.let(self.expr(value))
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


#: An operator of a family kept in its own module (``strings``, ``dates``, ...): (compiler, call)
#: -> Polars expression, Spark's semantics spelled out.
Op = Callable[[ExprCompiler, Call], pl.Expr]
#: IR operator name -> its compile rule; filled by the family modules as they are imported (the
#: package's ``__init__`` imports them all).
OPS: dict[str, Op] = {}


def op(*names: str) -> Callable[[Op], Op]:
    """Register the decorated function as the compile rule of the IR operators ``names``."""

    def register(fn: Op) -> Op:
        for name in names:
            if name in OPS:
                raise ValueError(f"two compile rules for the operator {name}")
            OPS[name] = fn
        return fn

    return register
