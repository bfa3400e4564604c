"""Our IR plans → Polars lazy queries: the operators, and the entry point of a stage's compile.

Aggregates are in ``aggregates`` (their states in ``_aggstates``).
"""

from __future__ import annotations

import polars as pl

from spark_plugin import _ir
from spark_plugin import _numeric as num
from spark_plugin._compile import aggregates, expand, windows
from spark_plugin._compile.exprs import ExprCompiler
from spark_plugin._ir import Col, Expr


class Compiler(ExprCompiler):
    """Compiles one stage. ``sources`` gives a LazyFrame for each Scan or Input node."""

    def plan(self, p: _ir.Plan) -> pl.LazyFrame:
        if isinstance(p, _ir.Scan | _ir.Input):
            return self.sources(p)
        if isinstance(p, _ir.Filter):
            return self._filter(self.plan(p.child), p.condition)
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
            guards = self.guards
            whole = self.aggregate(p, child, mode="complete")
            if key_filter is None or self.guards != guards:
                # Checks that fail the query (overflow of a sum, ...) run on every group, as
                # Spark runs them, not only on those the join keeps.
                return whole
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
        if isinstance(p, _ir.Expand):
            return expand.expand(self, p, self.plan(p.child))
        if isinstance(p, _ir.Window):
            return windows.window(self, p, self.plan(p.child))
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
        guards = self.guards
        frame, (predicate,), added = self._on(frame, lambda: [self.expr(condition)])
        if self.guards != guards:
            # Checks that fail the query run on every row the filter sees: Polars would push
            # the other conjuncts below them (and into the scan), and Spark's order of the
            # conjuncts is not the written one (its codegen tests a column's IS NOT NULL right
            # before the first conjunct that reads it, the rest last).
            name = f"__where{self._let_count}"
            self._let_count += 1
            frame = frame.with_columns(predicate.alias(name))
            predicate, added = pl.col(name), [*added, name]
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
        return aggregates.aggregate(self, p, child, mode)


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
