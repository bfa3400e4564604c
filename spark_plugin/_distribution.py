"""What Spark's physical plan says about distribution, as small frozen values, and the matching
of them to our IR nodes by attribute exprIds (``Distribution.of``). ``_capture`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spark_plugin import _ir

#: Internal column names (``_<exprId>``, as the IR names columns).
Ids = frozenset[str]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One exchange: ``hash``/``range``/``single``/``round_robin`` shuffle, or ``broadcast``."""

    kind: str
    keys: tuple[str, ...] = ()
    partitions: int = 0

    def label(self) -> str:
        if self.kind in ("broadcast", "single"):
            return "broadcast" if self.kind == "broadcast" else "single partition"
        keys = f"({', '.join(self.keys)})" if self.keys else ""
        count = f" x{self.partitions}" if self.partitions else ""
        return f"{self.kind}{keys}{count}"


@dataclass(frozen=True, slots=True)
class JoinInfo:
    strategy: str
    #: Spark's join type as it prints it: Inner, LeftOuter, LeftSemi, ...
    how: str
    #: ``left``/``right`` for the broadcast and shuffled-hash joins, "" otherwise.
    build: str
    left_keys: Ids
    right_keys: Ids
    left_output: Ids
    right_output: Ids
    #: The exchange right under each side (through sorts and wrappers), if any.
    left_exchange: Exchange | None = None
    right_exchange: Exchange | None = None

    def label(self) -> str:
        if self.strategy == "broadcast_hash":
            return f"broadcast build={self.build}"
        if self.strategy == "broadcast_nested_loop":
            return f"broadcast nested loop build={self.build}"
        sides = " | ".join(e.label() for e in (self.left_exchange, self.right_exchange) if e)
        shuffled = f", shuffled {sides}" if sides else ""
        if self.strategy == "shuffled_hash":
            return f"shuffled hash build={self.build}{shuffled}"
        return f"{self.strategy.replace('_', '-')}{shuffled}"


@dataclass(frozen=True, slots=True)
class AggregateInfo:
    #: The modes of the physical aggregates making up one logical aggregate, top first:
    #: ("Final", "Partial"), ("Complete",); a DISTINCT has four, with two exchanges.
    modes: tuple[str, ...]
    keys: Ids
    output: Ids
    #: The exchange under the top aggregate (None: its input is already distributed right).
    exchange: Exchange | None = None
    #: Bottom first: each aggregate's mode and each exchange between them, as labels.
    steps: tuple[str, ...] = ()

    def label(self) -> str:
        if self.modes == ("Complete",) and self.exchange is None:
            return "complete (input already partitioned)"
        return " -> ".join(self.steps or [m.lower() for m in reversed(self.modes)])


@dataclass(frozen=True, slots=True)
class SortInfo:
    keys: tuple[str, ...]
    exchange: Exchange | None = None

    def label(self) -> str:
        below = f"{self.exchange.label()} -> " if self.exchange else ""
        return f"{below}sort per partition"


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """TakeOrderedAndProject (``keys`` set), CollectLimit or GlobalLimit."""

    n: int
    keys: tuple[str, ...] = ()
    kind: str = "top_k"

    def label(self) -> str:
        if self.kind == "top_k":
            return f"top-{self.n} per partition -> one partition"
        return f"{self.kind.replace('_', ' ')} {self.n}"


@dataclass(frozen=True, slots=True)
class ScanInfo:
    output: Ids
    table: str = ""
    files: tuple[str, ...] = ()
    #: The exchange the scan's stage ends in (None: the scan is in the result stage).
    feeds: Exchange | None = None

    def label(self) -> str:
        return f"feeds {self.feeds.label()}" if self.feeds else "in the result stage"


Info = JoinInfo | AggregateInfo | SortInfo | LimitInfo | ScanInfo


@dataclass(frozen=True, slots=True)
class Distribution:
    """What Spark's physical plan says about distribution; ``error`` set: unknown."""

    joins: tuple[JoinInfo, ...] = ()
    aggregates: tuple[AggregateInfo, ...] = ()
    sorts: tuple[SortInfo, ...] = ()
    limits: tuple[LimitInfo, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    scans: tuple[ScanInfo, ...] = ()
    #: Operators read but not described here (windows, unions, ...): for explain.
    others: tuple[str, ...] = ()
    error: str = ""
    milliseconds: float = field(default=0.0, compare=False)

    def describe(self) -> str:
        if self.error:
            return f"distribution unknown ({self.error})"
        counts: dict[str, int] = {}
        for join in self.joins:
            name = f"{join.strategy.replace('_', ' ')} join"
            counts[name] = counts.get(name, 0) + 1
        for exchange in self.exchanges:
            name = "broadcast" if exchange.kind == "broadcast" else f"{exchange.kind} shuffle"
            counts[name] = counts.get(name, 0) + 1
        parts = [f"{n} {name}{'s' if n > 1 else ''}" for name, n in counts.items()]
        return ", ".join(parts) or "no joins or exchanges"

    def of(self, node: _ir.Plan) -> Info | None:
        """Spark's choice for one IR node, matched by exprIds (None: no single match)."""
        if self.error:
            return None
        if isinstance(node, _ir.Join):
            return self.join_for(
                _names(node.left.output), _names(node.right.output), _key_refs(node)
            )
        if isinstance(node, _ir.Aggregate):
            grouping = frozenset(n for n, _ in node.keys)
            return _one([a for a in self.aggregates if a.keys == grouping])
        if isinstance(node, _ir.Limit) and isinstance(node.child, _ir.Sort):
            order = _sort_refs(node.child.keys)
            return _one([x for x in self.limits if x.n == node.n and x.keys == order])
        if isinstance(node, _ir.Sort):
            return self.sort_for(_sort_refs(node.keys))
        if isinstance(node, _ir.Scan):
            return self.scan_for(frozenset(n for _, n, _ in node.columns))
        return None

    def join_for(self, left: Ids, right: Ids, keys: tuple[Ids, Ids] | None = None) -> Info | None:
        found = [j for j in self.joins if j.left_output == left and j.right_output == right]
        if not found and keys is not None:
            found = [j for j in self.joins if (j.left_keys, j.right_keys) == keys]
        return _one(found)

    def aggregate_for(self, output: Ids) -> Info | None:
        return _one([a for a in self.aggregates if a.output == output])

    def sort_for(self, keys: tuple[str, ...]) -> Info | None:
        # Spark turns ORDER BY + LIMIT into TakeOrderedAndProject: the sort is the top-k.
        return _one([x for x in self.limits if x.keys == keys]) or _one(
            [s for s in self.sorts if s.keys == keys]
        )

    def scan_for(self, columns: Ids) -> Info | None:
        return _one([s for s in self.scans if s.output and s.output <= columns])


def _one(found: list[Any]) -> Any:
    """The match, when there is one, or several that all say the same (a duplicated subplan)."""
    if found and all(f.label() == found[0].label() for f in found):
        return found[0]
    return None


def _names(output: tuple[tuple[str, str], ...]) -> Ids:
    return frozenset(n for n, _ in output)


def _key_refs(join: _ir.Join) -> tuple[Ids, Ids]:
    from spark_plugin._translate import refs

    left: set[str] = set()
    right: set[str] = set()
    for a, b in zip(join.left_keys, join.right_keys, strict=True):
        left |= refs(a)
        right |= refs(b)
    return frozenset(left), frozenset(right)


def _sort_refs(keys: tuple[_ir.SortKey, ...]) -> tuple[str, ...]:
    return tuple(k.expr.name for k in keys if isinstance(k.expr, _ir.Col))
