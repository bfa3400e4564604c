"""Date operators: the parts of a date."""

from __future__ import annotations

import polars as pl

from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call


@op("year", "month", "day", "quarter")
def part(c: ExprCompiler, e: Call) -> pl.Expr:
    x = c.expr(e.args[0])
    parts = {"year": x.dt.year, "month": x.dt.month, "day": x.dt.day, "quarter": x.dt.quarter}
    return parts[e.op]().cast(pl.Int32)
