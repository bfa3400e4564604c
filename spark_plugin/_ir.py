"""Our plan IR: frozen slotted dataclasses for expressions and plan nodes, typed with Spark types.

Column references use internal names (``_<exprId>``) so that Spark's duplicate user-facing names
never collide; the user's names come back only at the very end, from ``df.schema``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Spark type names as Spark's JSON writes them: "long", "integer", "double", "string", "date",
# "boolean", "decimal(15,2)", ...
SparkType = str


# ---------------------------------------------------------------------------------------------
# Expressions


@dataclass(frozen=True, slots=True)
class Col:
    name: str
    dtype: SparkType


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any
    dtype: SparkType


@dataclass(frozen=True, slots=True)
class Call:
    """A scalar function or operator: ``op`` names it ("add", "lt", "like", "cast", ...)."""

    op: str
    args: tuple[Expr, ...]
    dtype: SparkType
    #: Operator options that are not expressions (cast target, LIKE escape, ...).
    options: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    branches: tuple[tuple[Expr, Expr], ...]
    otherwise: Expr | None
    dtype: SparkType


@dataclass(frozen=True, slots=True)
class AggCall:
    func: str  # sum, count, count_star, avg, min, max
    args: tuple[Expr, ...]
    dtype: SparkType
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class ScalarSubquery:
    plan: Plan
    dtype: SparkType


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: Expr
    ascending: bool
    nulls_first: bool


Expr = Col | Lit | Call | Case | AggCall | ScalarSubquery


# ---------------------------------------------------------------------------------------------
# Plan nodes. ``output`` on every node: tuple of (internal name, Spark type).


@dataclass(frozen=True, slots=True)
class Scan:
    """A Parquet relation: the files and the columns read (file column, internal name, type)."""

    table: str
    files: tuple[str, ...]
    columns: tuple[tuple[str, str, SparkType], ...]
    total_bytes: int = 0

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return tuple((name, dtype) for _, name, dtype in self.columns)


@dataclass(frozen=True, slots=True)
class Input:
    """Rows handed in from an earlier stage (through Spark) instead of read from files."""

    output: tuple[tuple[str, SparkType], ...]


@dataclass(frozen=True, slots=True)
class Filter:
    child: Plan
    condition: Expr

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return self.child.output


@dataclass(frozen=True, slots=True)
class Project:
    child: Plan
    exprs: tuple[tuple[str, Expr], ...]

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return tuple((name, expr.dtype) for name, expr in self.exprs)


@dataclass(frozen=True, slots=True)
class Aggregate:
    child: Plan
    keys: tuple[tuple[str, Expr], ...]
    aggs: tuple[tuple[str, AggCall], ...]

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return tuple((n, e.dtype) for n, e in self.keys) + tuple((n, a.dtype) for n, a in self.aggs)


@dataclass(frozen=True, slots=True)
class Join:
    left: Plan
    right: Plan
    #: inner, cross, left, right, full, semi, anti, anti_null_aware
    how: str
    left_keys: tuple[Expr, ...]
    right_keys: tuple[Expr, ...]
    #: Non-equi part of the join condition (evaluated on matched pairs).
    residual: Expr | None = None

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        if self.how in ("semi", "anti", "anti_null_aware"):
            return self.left.output
        return self.left.output + self.right.output


@dataclass(frozen=True, slots=True)
class Sort:
    child: Plan
    keys: tuple[SortKey, ...]

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return self.child.output


@dataclass(frozen=True, slots=True)
class Limit:
    child: Plan
    n: int

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return self.child.output


@dataclass(frozen=True, slots=True)
class WindowFrame:
    """A window frame: ``rows`` bounds are row offsets from the current row (negative: preceding),
    ``range`` bounds only 0 (the current row's peers); None: unbounded on that side."""

    kind: str  # rows, range
    lower: int | None
    upper: int | None


@dataclass(frozen=True, slots=True)
class WindowCall:
    """One window function: row_number, rank, dense_rank, offset (lag/lead: the row at
    ``offset`` from the current one, else ``default``), or agg (``agg`` over ``frame``)."""

    func: str
    dtype: SparkType
    frame: WindowFrame
    agg: AggCall | None = None
    input: Expr | None = None
    offset: int = 0
    default: Expr | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """Spark's Window: the child's rows, each with window functions over its partition (rows of
    equal ``partition`` keys) in ``order``; one output column per call."""

    child: Plan
    partition: tuple[Expr, ...]
    order: tuple[SortKey, ...]
    calls: tuple[tuple[str, WindowCall], ...]

    @property
    def output(self) -> tuple[tuple[str, SparkType], ...]:
        return self.child.output + tuple((n, c.dtype) for n, c in self.calls)


@dataclass(frozen=True, slots=True)
class Expand:
    """Spark's Expand (ROLLUP, CUBE, GROUPING SETS, several DISTINCT aggregates): one output row
    per projection per input row, each projection one expression per ``output`` column."""

    child: Plan
    projections: tuple[tuple[Expr, ...], ...]
    output: tuple[tuple[str, SparkType], ...]


Plan = Scan | Input | Filter | Project | Aggregate | Join | Sort | Limit | Window | Expand


@dataclass(frozen=True, slots=True)
class Settings:
    """The session settings that change the answers of what we offload."""

    ansi: bool = True
    time_zone: str = "UTC"
    extra: tuple[tuple[str, str], ...] = field(default=())


def children(plan: Plan) -> tuple[Plan, ...]:
    if isinstance(plan, Scan | Input):
        return ()
    if isinstance(plan, Join):
        return (plan.left, plan.right)
    return (plan.child,)
