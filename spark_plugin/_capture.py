"""Spark's physical plan, read once: how Spark distributes each join, aggregate, sort and scan.

``physical`` reads ``executedPlan().initialPlan()`` (AQE's static plan, with the exchanges
``EnsureRequirements`` inserted) as JSON in a few py4j calls and boils it down to a frozen
``_distribution.Distribution``. Physical nodes are tied to logical ones by the attribute exprIds
both plans carry (never by position): ``Distribution.of`` answers for an IR node, ``annotate``
for the explain tree. Nothing here changes execution; a plan we cannot read gives a
``Distribution`` with ``error`` set ("distribution unknown"), never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from spark_plugin._distribution import (
    AggregateInfo,
    Distribution,
    Exchange,
    Ids,
    Info,
    JoinInfo,
    LimitInfo,
    ScanInfo,
    SortInfo,
)

#: Characters per py4j answer: under the JVM writer's 8 KiB buffer even as UTF-8 of mostly ASCII.
_CHUNK = 4000


def plan_json(spark: Any, jplan: Any) -> str:
    """``jplan.toJSON()``, fetched in pieces.

    A py4j answer over the JVM side's 8 KiB write buffer leaves in two writes; Nagle's algorithm
    holds the second until this side acknowledges the first, which Linux delays by 40 ms. TPC-H
    plans are 12-60 KB, so one ``toJSON()`` cost ~45 ms where the pieces cost ~10 ms. The JSON
    is the same text: ``toJSON`` is ``compact(render(jsonValue))`` and json4s' Jackson mapper
    writes the same compact form.
    """
    try:
        jvm = spark._jvm
        methods = getattr(jvm.org.json4s.jackson, "JsonMethods$").__getattr__("MODULE$")
        writer = jvm.java.io.StringWriter()
        methods.mapper().writeValue(writer, jplan.jsonValue())
        buffer = writer.getBuffer()
        size = buffer.length()
        return "".join(buffer.substring(i, min(size, i + _CHUNK)) for i in range(0, size, _CHUNK))
    except Exception:  # noqa: BLE001 - another json4s layout: the plain call is always right
        return str(jplan.toJSON())


JsonNode = dict[str, Any]
Item = tuple[JsonNode, list[Any]]

#: Codegen and columnar wrappers: they hold one operator and change nothing about distribution.
_WRAPPERS = frozenset(
    {
        "WholeStageCodegenExec",
        "InputAdapter",
        "ColumnarToRowExec",
        "RowToColumnarExec",
        "AQEShuffleReadExec",
        "ReusedExchangeExec",
    }
)
_JOINS = {
    "BroadcastHashJoinExec": "broadcast_hash",
    "BroadcastNestedLoopJoinExec": "broadcast_nested_loop",
    "SortMergeJoinExec": "sort_merge",
    "ShuffledHashJoinExec": "shuffled_hash",
    "CartesianProductExec": "cartesian",
}
_AGGREGATES = frozenset({"HashAggregateExec", "ObjectHashAggregateExec", "SortAggregateExec"})
_EXISTENCE = ("LeftSemi", "LeftAnti")
#: Operators that say nothing more about distribution than what is recorded around them.
_DESCRIBED = _WRAPPERS | {"FilterExec", "SortExec", "ShuffleExchangeExec", "BroadcastExchangeExec"}


# -- reading the JSON ----------------------------------------------------------------------------


def _short(node: JsonNode) -> str:
    return str(node.get("class", "")).rsplit(".", 1)[-1]


def _object(value: Any) -> str:
    if isinstance(value, dict) and "object" in value:
        return str(value["object"]).rsplit(".", 1)[-1].rstrip("$")
    if isinstance(value, dict) and "product-class" in value:
        return str(value["product-class"]).rsplit(".", 1)[-1]
    return str(value)


def tree(nodes: list[JsonNode]) -> Item:
    """Spark's JSON is a pre-order list of nodes; rebuild (node, children) pairs."""
    position = 0

    def build() -> Item:
        nonlocal position
        node = nodes[position]
        position += 1
        return node, [build() for _ in range(int(node.get("num-children", 0)))]

    return build()


def _attr_id(node: Any) -> str | None:
    if isinstance(node, dict) and _short(node) == "AttributeReference" and "exprId" in node:
        return f"_{node['exprId']['id']}"
    return None


def _named_ids(lists: list[list[JsonNode]] | None) -> Ids:
    """The exprIds of named expressions (attributes, aliases), one per flattened expression."""
    out = set()
    for nodes in lists or []:
        top = nodes[0] if nodes else {}
        if isinstance(top, dict) and "exprId" in top:
            out.add(f"_{top['exprId']['id']}")
    return frozenset(out)


def _refs(lists: Any) -> list[str]:
    """Every attribute referenced in a field of flattened expressions, in order, once each."""
    found: list[str] = []

    def visit(value: Any) -> None:
        ident = _attr_id(value)
        if ident is not None:
            if ident not in found:
                found.append(ident)
        elif isinstance(value, list):
            for v in value:
                visit(v)

    visit(lists)
    return found


def _attr_names(lists: Any) -> tuple[str, ...]:
    return tuple(
        str(n["name"]) for n in _flat(lists) if _short(n) == "AttributeReference" and "name" in n
    )


def _flat(value: Any) -> Iterator[JsonNode]:
    if isinstance(value, dict):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _flat(v)


def _exchange(node: JsonNode) -> Exchange:
    if _short(node) == "BroadcastExchangeExec":
        return Exchange("broadcast")
    partitioning = node.get("outputPartitioning")
    if isinstance(partitioning, list) and partitioning:
        root = partitioning[0]
        kind = {
            "HashPartitioning": "hash",
            "RangePartitioning": "range",
            "RoundRobinPartitioning": "round_robin",
        }.get(_short(root), _short(root) or "unknown")
        return Exchange(kind, _attr_names(partitioning[1:]), int(root.get("numPartitions", 0)))
    name = _object(partitioning)
    return Exchange("single" if name == "SinglePartition" else name or "unknown", (), 1)


def _modes(node: JsonNode) -> tuple[str, ...]:
    modes = {
        _object(nodes[0].get("mode"))
        for nodes in node.get("aggregateExpressions") or []
        if nodes and isinstance(nodes[0], dict)
    }
    if modes:
        return tuple(sorted(modes))
    # Keys only (DISTINCT, GROUP BY without aggregates): the final one requires a distribution.
    return ("Final",) if node.get("requiredChildDistributionExpressions") else ("Partial",)


def _unwrap(item: Item) -> Item:
    while _short(item[0]) in _WRAPPERS and len(item[1]) == 1:
        item = item[1][0]
    return item


def _exchange_below(item: Item) -> Exchange | None:
    """The exchange a join side or a global sort reads, through local sorts and wrappers."""
    item = _unwrap(item)
    while _short(item[0]) == "SortExec" and len(item[1]) == 1:
        item = _unwrap(item[1][0])
    if _short(item[0]) in ("ShuffleExchangeExec", "BroadcastExchangeExec"):
        return _exchange(item[0])
    return None


class _Reader:
    """One walk over the physical tree, collecting the descriptions."""

    def __init__(self, files: Mapping[str, tuple[str, tuple[str, ...]]]) -> None:
        self.files = files
        self.joins: list[JoinInfo] = []
        self.aggregates: list[AggregateInfo] = []
        self.sorts: list[SortInfo] = []
        self.limits: list[LimitInfo] = []
        self.exchanges: list[Exchange] = []
        self.scans: list[ScanInfo] = []
        self.others: list[str] = []
        self._in_chain: set[int] = set()

    def visit(self, item: Item, feeds: Exchange | None) -> Ids | None:
        """Record ``item``'s subtree; return its output exprIds (None: unknown)."""
        node, kids = item
        name = _short(node)
        for plan in _subquery_plans(node):
            self.visit(tree(plan), None)
        if name in _AGGREGATES:
            self._aggregate(item)  # before its children: it claims the partials below it
        if name in ("ShuffleExchangeExec", "BroadcastExchangeExec"):
            feeds = _exchange(node)
            self.exchanges.append(feeds)
        if name == "AdaptiveSparkPlanExec" and node.get("inputPlan"):
            # A subquery's own adaptive plan: the JSON holds its plan before exchanges.
            return self.visit(tree(node["inputPlan"]), feeds)
        outputs = [self.visit(kid, feeds) for kid in kids]
        if name in _JOINS:
            return self._join(item, name, outputs)
        if name in _AGGREGATES:
            return _named_ids(node.get("resultExpressions"))
        if name == "SortExec" and node.get("global"):
            self.sorts.append(
                SortInfo(tuple(_refs(node.get("sortOrder"))), _exchange_below(kids[0]))
            )
        elif name == "TakeOrderedAndProjectExec":
            keys = tuple(_refs(node.get("sortOrder")))
            self.limits.append(LimitInfo(int(node.get("limit", 0)), keys))
            return _named_ids(node.get("projectList"))
        elif name in ("CollectLimitExec", "GlobalLimitExec"):
            kind = "collect_limit" if name == "CollectLimitExec" else "global_limit"
            self.limits.append(LimitInfo(int(node.get("limit", 0)), (), kind))
        elif name == "ProjectExec":
            return _named_ids(node.get("projectList"))
        elif "output" in node and not kids:  # a scan
            output = _named_ids(node.get("output"))
            table, files = next((self.files[i] for i in output if i in self.files), ("", ()))
            self.scans.append(ScanInfo(output, table, files, feeds))
            return output
        elif name not in _DESCRIBED:
            self.others.append(name)
        return outputs[0] if len(outputs) == 1 else None

    def _join(self, item: Item, name: str, outputs: list[Ids | None]) -> Ids | None:
        node, kids = item
        how = _object(node.get("joinType"))
        build = _object(node.get("buildSide")).removeprefix("Build").lower()
        left, right = [*outputs, None, None][:2]
        info = JoinInfo(
            _JOINS[name],
            how,
            build if "buildSide" in node else "",
            frozenset(_refs(node.get("leftKeys"))),
            frozenset(_refs(node.get("rightKeys"))),
            left or frozenset(),
            right or frozenset(),
            _exchange_below(kids[0]) if kids else None,
            _exchange_below(kids[1]) if len(kids) > 1 else None,
        )
        self.joins.append(info)
        if left is None or right is None:
            return None
        if how in _EXISTENCE:
            return left
        if how.startswith("ExistenceJoin"):
            return None
        return left | right

    def _aggregate(self, item: Item) -> None:
        node, _ = item
        if id(node) in self._in_chain:
            return  # the lower half of an aggregate already recorded
        modes = _modes(node)
        if not {"Final", "Complete"} & set(modes):
            return  # a partial with no final above it here: described with its final
        chain = [modes]
        steps = ["/".join(modes).lower()]  # top first, reversed below
        pending: list[str] = []  # exchanges seen since the last aggregate
        exchange = None
        below = item
        while len(below[1]) == 1:
            below = _unwrap(below[1][0])
            kind = _short(below[0])
            if kind == "ShuffleExchangeExec":
                found = _exchange(below[0])
                exchange = found if exchange is None and len(chain) == 1 else exchange
                pending.append(found.label())
            elif kind in _AGGREGATES:
                self._in_chain.add(id(below[0]))
                chain.append(_modes(below[0]))
                steps += [*pending, "/".join(chain[-1]).lower()]
                pending = []
            elif kind != "SortExec":
                break
        if len(chain) == 1:  # one aggregate: the exchange under it is what feeds it
            steps += pending
        flat = tuple("/".join(m) for m in chain)
        keys = frozenset(_refs(node.get("groupingExpressions")))
        output = _named_ids(node.get("resultExpressions"))
        self.aggregates.append(AggregateInfo(flat, keys, output, exchange, tuple(reversed(steps))))

    def result(self, milliseconds: float) -> Distribution:
        return Distribution(
            tuple(self.joins),
            tuple(self.aggregates),
            tuple(self.sorts),
            tuple(self.limits),
            tuple(self.exchanges),
            tuple(self.scans),
            tuple(dict.fromkeys(self.others)),
            "",
            milliseconds,
        )


def _subquery_plans(node: JsonNode) -> Iterator[list[JsonNode]]:
    """The plans of the subquery expressions in ``node``'s fields (ScalarSubquery, IN, ...)."""
    for key, value in node.items():
        if key in ("class", "num-children") or not isinstance(value, list):
            continue
        for expr in _flat(value):
            plan = expr.get("plan")
            if "Subquery" in _short(expr) and isinstance(plan, list) and plan:
                yield plan


# -- entry points --------------------------------------------------------------------------------


def relation_files(
    logical_nodes: list[JsonNode], relations: Mapping[int, Any]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """exprId -> (table, files) for every column of every LogicalRelation in the logical JSON
    (``relations`` is keyed by each relation's first output exprId, as ``_relations`` finds it)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}

    def visit(value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            if _short(value) == "LogicalRelation":
                ids = [i for nodes in value.get("output") or [] for i in _refs(nodes[:1])]
                relation = relations.get(int(ids[0][1:])) if ids else None
                if relation is not None:
                    for ident in ids:
                        out[ident] = (relation.table, tuple(relation.files))
            for key, v in value.items():
                if key != "output" and isinstance(v, list):
                    visit(v)

    visit(logical_nodes)
    return out


#: What reading the plan may raise, besides py4j's errors: a JSON layout we do not know.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
)


def physical(
    spark: Any,
    query_execution: Any,
    logical_nodes: list[JsonNode] | None = None,
    relations: Mapping[int, Any] | None = None,
) -> Distribution:
    """Read Spark's physical plan of ``query_execution`` (a JVM ``QueryExecution``).

    One ``executedPlan()`` (Spark plans it once; the action that follows reuses it), one
    ``initialPlan()`` and the JSON in a few pieces. Never raises for a plan it cannot read.
    """
    import time

    from py4j.protocol import Py4JError

    started = time.perf_counter()
    try:
        executed = query_execution.executedPlan()
        if executed.getClass().getSimpleName() == "AdaptiveSparkPlanExec":
            executed = executed.initialPlan()
        nodes = json.loads(plan_json(spark, executed))
        files = relation_files(logical_nodes or [], relations or {})
        reader = _Reader(files)
        reader.visit(tree(nodes), None)
    except (*_READ_ERRORS, Py4JError) as exc:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return Distribution(error=f"could not read Spark's physical plan: {text}")
    return reader.result((time.perf_counter() - started) * 1000)


class PhysicalPlan:
    """Spark's physical plan of one query, read on first use, then kept.

    Reading costs Spark's physical planning (which the action reuses when it runs on plain
    Spark) plus the JSON: a median of 21 ms (max 39 ms) per TPC-H query, warm, on the 2-core
    build machine. Until the stages use it an action does not read it; ``str()`` of the
    report and ``distribution`` do.
    """

    __slots__ = ("_distribution", "_nodes", "_query_execution", "_relations", "_spark")

    def __init__(
        self,
        spark: Any,
        query_execution: Any,
        logical_nodes: list[JsonNode],
        relations: Mapping[int, Any],
    ) -> None:
        self._spark = spark
        self._query_execution = query_execution
        self._nodes = logical_nodes
        self._relations = relations
        self._distribution: Distribution | None = None

    def distribution(self) -> Distribution:
        if self._distribution is None:
            self._distribution = physical(
                self._spark, self._query_execution, self._nodes, self._relations
            )
            self._spark = self._query_execution = None  # the JVM objects are not needed again
        return self._distribution

    def annotate(self, explain: Any) -> Any:
        return annotate(explain, self._nodes, self.distribution())


# -- the explain tree ----------------------------------------------------------------------------


def _logical_output(item: Item, outputs: list[Ids | None]) -> Ids | None:
    node, _ = item
    name = _short(node)
    if name == "LogicalRelation":
        return _named_ids(node.get("output"))
    if name == "Project":
        return _named_ids(node.get("projectList"))
    if name == "Aggregate":
        return _named_ids(node.get("aggregateExpressions"))
    if name == "Join":
        left, right = [*outputs, None, None][:2]
        if left is None or right is None:
            return None
        return left if _object(node.get("joinType")) in _EXISTENCE else left | right
    if len(outputs) == 1 and name in ("Filter", "Sort", "GlobalLimit", "LocalLimit"):
        return outputs[0]
    return None


#: The translator's label for each logical operator we annotate (a shape check: the label at
#: the same place in the explain tree must be that operator's).
_LABELS = {"Join": "Join", "Aggregate": "Aggregate", "Sort": "Sort", "LogicalRelation": "Scan"}


def annotate(explain: Any, logical_nodes: list[JsonNode], distribution: Distribution) -> Any:
    """A copy of the translator's explain tree (one node per logical operator, in the logical
    JSON's order) with Spark's distribution after each join, aggregate, sort and scan; the
    tree itself where the two do not line up."""
    if distribution.error or explain is None:
        return explain

    def walk(node: Any, item: Item) -> tuple[Any, Ids | None]:
        logical, kids = item
        pairs = [walk(c, k) for c, k in zip(node.children, kids, strict=False)]
        outputs = [out for _, out in pairs]
        output = _logical_output(item, outputs)
        name = _short(logical)
        info: Info | None = None
        expected = _LABELS.get(name)
        if expected is None or not str(node.label).startswith(expected):
            info = None  # not annotated, or the trees do not line up here: say nothing
        elif name == "Join" and len(outputs) == 2 and outputs[0] is not None:
            info = distribution.join_for(outputs[0], outputs[1] or frozenset())
        elif name == "Aggregate" and output:
            info = distribution.aggregate_for(output)
        elif name == "Sort":
            info = distribution.sort_for(tuple(_refs(logical.get("order"))))
        elif name == "LogicalRelation" and output:
            info = distribution.scan_for(output)
        label = f"{node.label} [{info.label()}]" if info is not None else node.label
        children = [c for c, _ in pairs] + list(node.children[len(pairs) :])
        return type(node)(label, list(node.reasons), children), output

    try:
        return walk(explain, tree(logical_nodes))[0]
    except _READ_ERRORS:  # a logical JSON we do not know: the plain tree, never an error
        return explain
