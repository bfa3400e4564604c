"""Walks over our IR expressions: the columns one reads, substitution, AND chains."""

from __future__ import annotations

from collections.abc import Mapping

from spark_plugin._ir import AggCall, Call, Case, Col, Expr


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    if isinstance(expr, Col):
        return mapping.get(expr.name, expr)
    if isinstance(expr, Call):
        return Call(
            expr.op, tuple(substitute(a, mapping) for a in expr.args), expr.dtype, expr.options
        )
    if isinstance(expr, Case):
        return Case(
            tuple((substitute(c, mapping), substitute(v, mapping)) for c, v in expr.branches),
            None if expr.otherwise is None else substitute(expr.otherwise, mapping),
            expr.dtype,
        )
    return expr


def split_and(expr: Expr) -> list[Expr]:
    if isinstance(expr, Call) and expr.op == "and":
        return split_and(expr.args[0]) + split_and(expr.args[1])
    return [expr]


def and_all(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    out = exprs[0]
    for e in exprs[1:]:
        out = Call("and", (out, e), "boolean")
    return out


def null_aware_key(cond: Expr) -> tuple[Expr, Expr] | None:
    """``a = b OR isnull(a = b)``: Spark's NOT IN subquery condition."""
    if not (isinstance(cond, Call) and cond.op == "or"):
        return None
    eq, isnull = cond.args
    if (
        isinstance(eq, Call)
        and eq.op == "eq"
        and isinstance(isnull, Call)
        and isnull.op == "isnull"
        and isnull.args[0] == eq
    ):
        return eq.args[0], eq.args[1]
    return None


def refs(expr: Expr) -> set[str]:
    if isinstance(expr, Col):
        return {expr.name}
    if isinstance(expr, Call):
        return set().union(*(refs(a) for a in expr.args)) if expr.args else set()
    if isinstance(expr, Case):
        out: set[str] = set()
        for c, v in expr.branches:
            out |= refs(c) | refs(v)
        if expr.otherwise is not None:
            out |= refs(expr.otherwise)
        return out
    if isinstance(expr, AggCall):
        return set().union(*(refs(a) for a in expr.args)) if expr.args else set()
    return set()
