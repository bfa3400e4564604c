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

    @property
    def shuffle_keys(self) -> tuple[str, ...]:
        """Columns to hash-partition on before the final aggregate (empty: one partition)."""
        if self.aggregate is None:
            return ()
        if any(e.dtype in _types.FLOATING for _, e in self.aggregate.keys):
            # Spark's hash of NaN/-0.0 is by bit pattern; keep such groups in one partition.
            return ()
        return tuple(n for n, _ in self.aggregate.keys)

    def describe(self) -> str:
        parts = []
        if self.split is not None:
            parts.append(f"scan of {self.split.table} split across tasks")
        else:
            parts.append("one task")
        if self.aggregate is not None:
            kind = "rows" if self.raw_aggregate else "partial aggregate"
            keys = "hash-partitioned on the group keys" if self.shuffle_keys else "one partition"
            parts.append(f"{kind} → Spark shuffle ({keys}) → final aggregate")
        if self.upper is not None:
            parts.append("remaining operators in one task")
        return "; ".join(parts)


def _split_safe(parent: _ir.Plan, child_index: int) -> bool:
    if isinstance(parent, _ir.Filter | _ir.Project):
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


def plan_stages(root: _ir.Plan) -> StagePlan:
    best: StagePlan | None = None
    best_bytes = -1
    for scan, path in _paths(root):
        # Walk up from the scan while the operator above distributes over splits.
        top: _ir.Plan = scan
        aggregate: _ir.Aggregate | None = None
        for parent, index in reversed(path):
            if isinstance(parent, _ir.Aggregate):
                aggregate = parent
                break
            if not _split_safe(parent, index):
                break
            top = parent
        if scan.total_bytes <= best_bytes:
            continue
        best_bytes = scan.total_bytes
        above = aggregate if aggregate is not None else top
        upper = None if above is root else _replace(root, above, _ir.Input(above.output))
        raw = aggregate is not None and any(c.distinct for _, c in aggregate.aggs)
        best = StagePlan(top, scan, aggregate, upper, raw)
    if best is None:
        return StagePlan(root, None, None, None)
    return best
