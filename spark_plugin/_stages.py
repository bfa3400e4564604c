"""Cut an IR plan into stages: a partitioned one next to the data, then Spark's shuffle, then more.

The partitioned stage reads one big table in file splits; every other table it joins with is read
whole by each task (a broadcast by re-reading). That is only correct when every operator between
the split table and the stage top distributes over a union of splits, which ``_SPLIT_SAFE`` says.
"""

from __future__ import annotations

from dataclasses import dataclass

from spark_plugin import _ir, _types


@dataclass(frozen=True, slots=True)
class StagePlan:
    """``lower`` runs per split of ``split``; ``aggregate`` (if any) runs partial in ``lower`` and
    final after a shuffle on its keys; ``upper`` (if any) runs in one task over the result."""

    lower: _ir.Plan
    split: _ir.Scan | None
    aggregate: _ir.Aggregate | None
    upper: _ir.Plan | None
    #: The aggregate cannot be split into partial + final (DISTINCT): ship rows, aggregate after.
    raw_aggregate: bool = False
    #: Filters and projections right above the aggregate (HAVING), over ``Input`` of its
    #: output: row by row on complete groups, so they run in the final-aggregate tasks.
    after_aggregate: _ir.Plan | None = None
    #: Per task, the (file, first row, row count) pieces of ``split`` (None: not placed yet).
    splits: tuple[tuple[tuple[str, int, int], ...], ...] | None = None
    #: Set when no group can span two splits, saying why: the aggregate (and HAVING) then runs
    #: complete in the split tasks and nothing is shuffled.
    local_aggregate: str | None = None
    #: The bottom of ``upper`` that runs in each final-aggregate task (a LIMIT, or ORDER BY +
    #: LIMIT, over row-by-row operators), over ``Input`` of the aggregate's (or HAVING's)
    #: output: its top k per partition go on to one task running ``upper`` over <= k x P rows.
    per_partition: _ir.Plan | None = None
    #: Partitions of the shuffle before the final aggregate (0: not placed yet).
    partitions: int = 0

    @property
    def shuffle_keys(self) -> tuple[str, ...]:
        """Columns to hash-partition on before the final aggregate (empty: one partition).
        Float keys too: ``_shuffle``'s hash normalises -0.0 and NaN as Spark's grouping does."""
        if self.aggregate is None:
            return ()
        if any(not _types.is_supported(e.dtype) for _, e in self.aggregate.keys):
            return ()
        return tuple(n for n, _ in self.aggregate.keys)

    @property
    def final_in_one_task(self) -> bool:
        """The old shape: the final aggregate runs with ``upper`` in one task (``upper`` is more
        than a per-partition LIMIT / top-k can start, e.g. joins with the aggregate's result)."""
        return self.upper is not None and self.per_partition is None

    def describe(self) -> str:
        parts = []
        if self.split is not None:
            parts.append(f"scan of {self.split.table} split across tasks")
        else:
            parts.append("one task")
        having = " + HAVING/projection" if self.after_aggregate else ""
        if self.aggregate is not None and self.local_aggregate is not None:
            parts.append(
                f"complete aggregate{having} in those tasks, no shuffle ({self.local_aggregate})"
            )
        elif self.aggregate is not None:
            kind = "rows" if self.raw_aggregate else "partial aggregate"
            if self.final_in_one_task:
                parts.append(
                    f"{kind} → Spark shuffle (one partition) → final aggregate{having}"
                    " + remaining operators in one task"
                )
                return "; ".join(parts)
            keys = "hash-partitioned on the group keys" if self.shuffle_keys else "one partition"
            count = f" x{self.partitions}" if self.shuffle_keys and self.partitions else ""
            parts.append(
                f"{kind} → Spark shuffle of Arrow IPC bytes ({keys}{count}) → final aggregate"
                f"{having}"
            )
            if self.per_partition is not None:
                limit = _limit_of(self.per_partition)
                parts.append(
                    f"top {limit} per partition → one task merges them"
                    " (+ the operators above the limit)"
                )
                return "; ".join(parts)
        if self.upper is not None and self.per_partition is not None:
            parts.append(f"top {_limit_of(self.per_partition)} per split → one task merges them")
        elif self.upper is not None:
            parts.append("remaining operators in one task")
        return "; ".join(parts)


#: Key types whose Parquet min/max order is Spark's grouping equality (no NaN, -0.0, collation).
_RANGE_TYPES = frozenset({"byte", "short", "integer", "long", "date"})


def passthrough_column(plan: _ir.Plan, name: str, scan: _ir.Scan) -> str | None:
    """The file column of ``scan`` whose values column ``name`` of ``plan`` carries unchanged
    (through filters, renaming projections and the preserved side of joins), if any."""
    while plan is not scan:
        if isinstance(plan, _ir.Filter):
            plan = plan.child
        elif isinstance(plan, _ir.Project):
            source = dict(plan.exprs).get(name)
            if not isinstance(source, _ir.Col):
                return None
            name, plan = source.name, plan.child
        elif isinstance(plan, _ir.Join):
            if name in dict(plan.left.output) and plan.how not in ("right", "full"):
                plan = plan.left
            elif name in dict(plan.right.output) and plan.how in ("inner", "cross", "right"):
                plan = plan.right
            else:
                return None
        else:
            return None
    return next((column for column, n, _ in scan.columns if n == name), None)


def range_keys(stages: StagePlan) -> list[str]:
    """File columns of the split table that a group key passes on unchanged: if the splits hold
    disjoint ranges of one of them, every group lies whole in one split."""
    if stages.aggregate is None or stages.split is None:
        return []
    out = []
    for _, key in stages.aggregate.keys:
        if isinstance(key, _ir.Col) and key.dtype in _RANGE_TYPES:
            column = passthrough_column(stages.lower, key.name, stages.split)
            if column is not None and column not in out:
                out.append(column)
    return out


def above_aggregate(stages: StagePlan) -> _ir.Plan:
    """``upper`` over ``Input`` of the aggregate's output (``after_aggregate`` put in below it):
    everything above the aggregate as one plan, for a task that finishes the aggregate too."""
    assert stages.upper is not None
    assert stages.aggregate is not None
    below = stages.after_aggregate or _ir.Input(stages.aggregate.output)
    inputs = [node for node in _walk(stages.upper) if isinstance(node, _ir.Input)]
    assert len(inputs) == 1, "upper reads the lower stage once"
    return _replace(stages.upper, inputs[0], below)


def _walk(plan: _ir.Plan) -> list[_ir.Plan]:
    out = [plan]
    for child in _ir.children(plan):
        out.extend(_walk(child))
    return out


def _limit_of(plan: _ir.Plan) -> int:
    return plan.n if isinstance(plan, _ir.Limit) else 0


def per_partition_limit(upper: _ir.Plan) -> _ir.Plan | None:
    """The LIMIT (ORDER BY + LIMIT: TakeOrderedAndProject) at the bottom of ``upper`` when only
    row-by-row operators lie between it and ``upper``'s one ``Input``: the k first rows of the
    union of partitions are among the k first of each partition, so each partition's top k can
    go on to one merge task (Spark's own TakeOrderedAndProject and CollectLimit do the same)."""
    node: _ir.Plan | None = upper
    found: _ir.Limit | None = None
    while node is not None and not isinstance(node, _ir.Input):
        if isinstance(node, _ir.Limit):
            found = node  # the lowest one
        kids = _ir.children(node)
        node = kids[0] if len(kids) == 1 else None
    if found is None or node is None:
        return None
    below = found.child.child if isinstance(found.child, _ir.Sort) else found.child
    while not isinstance(below, _ir.Input):
        if not isinstance(below, _ir.Filter | _ir.Project) or _has_subquery(below):
            return None
        below = below.child
    return found


def _split_safe(parent: _ir.Plan, child_index: int) -> bool:
    if isinstance(parent, _ir.Filter | _ir.Project | _ir.Expand):  # Expand: row by row
        return True
    if isinstance(parent, _ir.Join):
        if parent.how in ("inner", "cross"):
            return True
        if parent.how in ("left", "semi", "anti", "anti_null_aware"):
            return child_index == 0
        if parent.how == "right":
            return child_index == 1
    return False


def _paths(plan: _ir.Plan, path: tuple[tuple[_ir.Plan, int], ...] = ()):
    if isinstance(plan, _ir.Scan):
        yield plan, path
    for i, child in enumerate(_ir.children(plan)):
        yield from _paths(child, (*path, (plan, i)))


def _replace(root: _ir.Plan, target: _ir.Plan, replacement: _ir.Plan) -> _ir.Plan:
    if root is target:
        return replacement
    if isinstance(root, _ir.Scan | _ir.Input):
        return root
    if isinstance(root, _ir.Join):
        return _ir.Join(
            _replace(root.left, target, replacement),
            _replace(root.right, target, replacement),
            root.how,
            root.left_keys,
            root.right_keys,
            root.residual,
        )
    fields = {f: getattr(root, f) for f in root.__dataclass_fields__}
    fields["child"] = _replace(root.child, target, replacement)
    return type(root)(**fields)


#: A table whose raw rows would leave the split stage gives way to a smaller one whose rows reach
#: an aggregate there, unless the tables that every task then reads whole are more than this many
#: times the split table.
_BROADCAST_RATIO = 8


@dataclass(frozen=True, slots=True)
class _Candidate:
    stages: StagePlan
    total_bytes: int
    #: Everything below the first aggregate (or the whole query) runs in the split stage.
    reaches: bool
    #: Only filters and projections of the table itself run there: its rows go through Spark.
    ships_rows: bool


def _expr_has_subquery(e: _ir.Expr) -> bool:
    if isinstance(e, _ir.ScalarSubquery):
        return True
    if isinstance(e, _ir.Call | _ir.AggCall):
        return any(_expr_has_subquery(a) for a in e.args)
    if isinstance(e, _ir.Case):
        parts = [x for branch in e.branches for x in branch]
        if e.otherwise is not None:
            parts.append(e.otherwise)
        return any(_expr_has_subquery(x) for x in parts)
    return False


def _has_subquery(node: _ir.Filter | _ir.Project) -> bool:
    if isinstance(node, _ir.Filter):
        return _expr_has_subquery(node.condition)
    return any(_expr_has_subquery(e) for _, e in node.exprs)


def _has_join(plan: _ir.Plan) -> bool:
    return isinstance(plan, _ir.Join) or any(_has_join(c) for c in _ir.children(plan))


def plan_stages(root: _ir.Plan) -> StagePlan:
    """Choose the table to read in splits and cut the plan around it.

    The biggest table is split, except when everything the split stage would do with it is
    filter and project: then its rows cross Python -> JVM -> Python (measured here: ~2M narrow
    rows/s), while a table read whole by each task costs a Parquet scan in Polars. A smaller
    table whose rows reach an aggregate in the split stage wins then (TPC-H q4: instead of
    shipping 3.8M lineitem keys, split orders and read lineitem's keys in each task).
    """
    candidates: list[_Candidate] = []
    for scan, path in _paths(root):
        # Walk up from the scan while the operator above distributes over splits.
        top: _ir.Plan = scan
        aggregate: _ir.Aggregate | None = None
        level = len(path)  # path[level:] lies below ``top``
        for level in range(len(path) - 1, -1, -1):
            parent, index = path[level]
            if isinstance(parent, _ir.Aggregate):
                aggregate = parent
                break
            if not _split_safe(parent, index):
                break
            top = parent
        above: _ir.Plan = aggregate if aggregate is not None else top
        after = None
        if aggregate is not None:
            for parent, _ in reversed(path[:level]):
                # A scalar subquery would be computed again in every shuffle partition.
                if not isinstance(parent, _ir.Filter | _ir.Project) or _has_subquery(parent):
                    break
                above = parent
            if above is not aggregate:
                after = _replace(above, aggregate, _ir.Input(aggregate.output))
        upper = None if above is root else _replace(root, above, _ir.Input(above.output))
        raw = aggregate is not None and any(c.distinct for _, c in aggregate.aggs)
        reaches = aggregate is not None or top is root
        limit = per_partition_limit(upper) if upper is not None and aggregate else None
        stages = StagePlan(top, scan, aggregate, upper, raw, after, per_partition=limit)
        ships = not reaches and not _has_join(top)
        candidates.append(_Candidate(stages, scan.total_bytes, reaches, ships))
    if not candidates:
        return StagePlan(root, None, None, None)
    # The first of the biggest: ties keep the plan's own order.
    biggest = max(candidates, key=lambda c: c.total_bytes)
    if biggest.ships_rows:
        others = [
            c
            for c in candidates
            if c.reaches and c.total_bytes * _BROADCAST_RATIO >= biggest.total_bytes
        ]
        if others:
            return max(others, key=lambda c: c.total_bytes).stages
    return biggest.stages
