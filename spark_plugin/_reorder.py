"""Plan rewrite: semi and anti joins go above the inner joins with smaller tables.

Spark's optimizer keeps EXISTS / NOT EXISTS where the query wrote them, often below the joins
that filter the big table down (TPC-H q21: lineitem's two self-joins on order key run before the
join with one nation's suppliers). A semi or anti join only keeps or drops rows of its left side,
by their own columns, so it commutes with an inner join on that side: both orders give the same
rows. Doing the inner join first means the semi/anti pairs are built for the rows that are left.
Only joins with a smaller table move the semi/anti up, so the inner join cannot multiply rows of
the big side by much.
"""

from __future__ import annotations

import dataclasses

from spark_plugin import _ir
from spark_plugin._translate import refs


def _biggest_scan(plan: _ir.Plan) -> int:
    own = plan.total_bytes if isinstance(plan, _ir.Scan) else 0
    return max([own, *(_biggest_scan(c) for c in _ir.children(plan))])


def _with_children(plan: _ir.Plan, children: tuple[_ir.Plan, ...]) -> _ir.Plan:
    if isinstance(plan, _ir.Scan | _ir.Input):
        return plan
    if isinstance(plan, _ir.Join):
        return dataclasses.replace(plan, left=children[0], right=children[1])
    return dataclasses.replace(plan, child=children[0])


def _peel(plan: _ir.Plan) -> tuple[list[_ir.Project], _ir.Plan]:
    projects = []
    while isinstance(plan, _ir.Project):
        projects.append(plan)
        plan = plan.child
    return projects, plan


def _rebuild(projects: list[_ir.Project], core: _ir.Plan, keep: set[str]) -> _ir.Plan | None:
    """The projections again over ``core``, each also passing on the columns in ``keep``."""
    node = core
    for project in reversed(projects):
        available = dict(node.output)
        names = {n for n, _ in project.exprs}
        extra = []
        for name in sorted(keep):
            if name in names:
                # Already there: only fine when it is the same column passed through.
                source = dict(project.exprs)[name]
                if not (isinstance(source, _ir.Col) and source.name == name):
                    return None
            elif name in available:
                extra.append((name, _ir.Col(name, available[name])))
            else:
                return None
        node = _ir.Project(node, project.exprs + tuple(extra))
    return node


def _float_once(join: _ir.Join) -> _ir.Plan | None:
    sides = (join.left, join.right)
    for index, side in enumerate(sides):
        projects, core = _peel(side)
        if not (isinstance(core, _ir.Join) and core.how in ("semi", "anti")):
            continue
        other = sides[1 - index]
        if _biggest_scan(other) >= _biggest_scan(core.left):
            continue
        left_names = {n for n, _ in core.left.output}
        needed = set().union(*(refs(k) for k in core.left_keys))
        if core.residual is not None:
            needed |= refs(core.residual) & left_names
        rebuilt = _rebuild(projects, core.left, needed)
        if rebuilt is None:
            continue
        children = (other, rebuilt) if index == 1 else (rebuilt, other)
        inner = dataclasses.replace(join, left=children[0], right=children[1])
        # A semi join under this one (NOT EXISTS over EXISTS) moves up the same way.
        semi = dataclasses.replace(core, left=_float_once(inner) or inner)
        return _ir.Project(semi, tuple((n, _ir.Col(n, t)) for n, t in join.output))
    return None


def float_semi_joins(plan: _ir.Plan) -> _ir.Plan:
    """``plan`` with semi/anti joins moved above inner joins with smaller tables, bottom up."""
    children = tuple(float_semi_joins(c) for c in _ir.children(plan))
    if children:
        plan = _with_children(plan, children)
    if isinstance(plan, _ir.Join) and plan.how == "inner":
        moved = _float_once(plan)
        if moved is not None:
            return moved
    return plan
