"""The eval mode (ANSI / LEGACY / TRY) of a plan's expressions, which Spark's plan JSON leaves out.

Spark fixes an expression's eval mode when it builds it (from ``spark.sql.ansi.enabled`` at that
moment), not when the query runs: a DataFrame made with ANSI on and collected after
``spark.conf.set("spark.sql.ansi.enabled", "false")`` still raises on overflow. ``toJSON`` writes
the mode (``evalMode`` / ``evalContext``) as null, so it is read from the JVM objects themselves,
through py4j, for those nodes only: the operator tree and each expression are walked along the
JSON's own child indices, and every step checks that the JVM node is of the JSON node's class.
"""

from __future__ import annotations

from typing import Any

from spark_plugin._translate.nodes import Item, JsonNode, tree

#: The JSON fields of a node whose eval mode Spark writes as null.
_MODE_KEYS = ("evalMode", "evalContext")


class Unreadable(Exception):
    """The JVM tree did not line up with the JSON one: the eval modes are not known."""


def has_modes(json_text: str) -> bool:
    """Whether any node of the plan has an eval mode (a cheap test on the JSON text)."""
    return any(f'"{key}"' in json_text for key in _MODE_KEYS)


def plan_modes(jplan: Any, nodes: list[JsonNode]) -> set[str]:
    """The eval modes (``"ANSI"``, ``"LEGACY"``, ``"TRY"``) of the expressions of the plan whose
    JSON is ``nodes`` and whose JVM object is ``jplan``; raises :class:`Unreadable`."""
    found: set[str] = set()
    _operator(jplan, tree(nodes), found)
    return found


def _operator(jop: Any, item: Item, found: set[str]) -> None:
    node, kids = item
    _same_class(jop, node)
    trees = _expression_trees(node)
    wanted = [(i, t) for i, t in enumerate(trees) if _wanted_expression(t)]
    if wanted:
        jexprs = jop.expressions()
        if int(jexprs.size()) != len(trees):
            raise Unreadable(f"{node['class']}: {jexprs.size()} expressions, {len(trees)} in JSON")
        for position, expr_item in wanted:
            _expression(jexprs.apply(position), expr_item, found)
    for index, kid in enumerate(kids):
        if _wanted_operator(kid):
            _operator(jop.children().apply(index), kid, found)


def _expression(jexpr: Any, item: Item, found: set[str]) -> None:
    node, kids = item
    _same_class(jexpr, node)
    if any(key in node for key in _MODE_KEYS):
        found.add(_mode_of(jexpr))
    sub = _subquery(node)
    if sub is not None and _wanted_operator(sub):
        _operator(jexpr.plan(), sub, found)
    for index, kid in enumerate(kids):
        if _wanted_expression(kid):
            _expression(jexpr.children().apply(index), kid, found)


def _expression_trees(node: JsonNode) -> list[Item]:
    """The operator's expressions in ``QueryPlan.expressions`` order (its constructor fields,
    sequences flattened)."""
    trees: list[Item] = []
    for key, value in node.items():
        if key not in ("class", "num-children"):
            _collect(value, trees)
    return trees


def _collect(value: Any, trees: list[Item]) -> None:
    if not isinstance(value, list) or not value:
        return
    if all(isinstance(v, dict) and "class" in v for v in value):
        trees.append(tree(value))  # one expression, its nodes in pre-order
        return
    for element in value:
        _collect(element, trees)


def _subquery(node: JsonNode) -> Item | None:
    plan = node.get("plan")
    return tree(plan) if isinstance(plan, list) and plan else None


def _wanted_expression(item: Item) -> bool:
    """Whether the expression ``item`` holds a node with an eval mode (or a subquery that does)."""
    node, kids = item
    if any(key in node for key in _MODE_KEYS):
        return True
    sub = _subquery(node)
    if sub is not None and _wanted_operator(sub):
        return True
    return any(_wanted_expression(kid) for kid in kids)


def _wanted_operator(item: Item) -> bool:
    node, kids = item
    if any(_wanted_expression(t) for t in _expression_trees(node)):
        return True
    return any(_wanted_operator(kid) for kid in kids)


def _same_class(jobj: Any, node: JsonNode) -> None:
    if str(jobj.getClass().getName()) != node["class"]:
        raise Unreadable(f"{jobj.getClass().getName()} where the plan JSON has {node['class']}")


def _mode_of(jexpr: Any) -> str:
    from py4j.protocol import Py4JError

    for path in (("evalMode",), ("evalContext", "evalMode")):
        try:
            obj = jexpr
            for name in path:
                obj = getattr(obj, name)()
            return str(obj.toString())
        except Py4JError:
            continue
    raise Unreadable(f"no eval mode on {jexpr.getClass().getName()}")
