"""Spark's Expand in Polars: one frame per projection over the same child, concatenated.

Polars computes the shared child once (its common-subplan elimination caches it; cudf-polars
runs the cache too). The rows come projection by projection instead of Spark's row by row:
Spark plans an Expand only under an Aggregate, whose answer does not depend on row order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from spark_plugin import _ir
from spark_plugin import _numeric as num

if TYPE_CHECKING:
    from spark_plugin._compile.exprs import ExprCompiler


def expand(c: ExprCompiler, p: _ir.Expand, child: pl.LazyFrame) -> pl.LazyFrame:
    names = [name for name, _ in p.output]
    parts = []
    for projection in p.projections:

        def build(projection: tuple[_ir.Expr, ...] = projection) -> list[pl.Expr]:
            return [
                c.expr(e).cast(num.polars_dtype(dtype)).alias(name)
                for e, (name, dtype) in zip(projection, p.output, strict=True)
            ]

        frame, exprs, _ = c._on(child, build)
        # with_columns, not select: a projection of literals only keeps one row per input row.
        parts.append(frame.with_columns(exprs).select(names))
    return pl.concat(parts, how="vertical")
