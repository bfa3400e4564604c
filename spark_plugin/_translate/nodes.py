"""Spark's plan JSON as a tree, and what the walk records: explain nodes and the abandon signal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonNode = dict[str, Any]
#: A node of Spark's JSON with its children: (node, [(child, [...]), ...]).
Item = tuple[JsonNode, list[Any]]


@dataclass(slots=True)
class ExplainNode:
    """One operator of Spark's plan with the reasons it cannot be offloaded (empty: it can)."""

    label: str
    reasons: list[str] = field(default_factory=list)
    children: list[ExplainNode] = field(default_factory=list)


class Unsupported(Exception):
    """Raised inside the walk to abandon one expression; the reason is already recorded."""


def short_class(node: JsonNode) -> str:
    return str(node["class"]).rsplit(".", 1)[-1]


def object_name(value: Any) -> str:
    """The short name of a Scala object (``Inner``) or case class (``ExistenceJoin``) in JSON."""
    if isinstance(value, dict) and "object" in value:
        return str(value["object"]).rsplit(".", 1)[-1].rstrip("$")
    if isinstance(value, dict) and "product-class" in value:
        return str(value["product-class"]).rsplit(".", 1)[-1]
    return str(value)


def _unflatten(nodes: list[JsonNode], pos: int = 0) -> tuple[Item, int]:
    """Spark's JSON is a pre-order list; rebuild (node, children) pairs."""
    node = nodes[pos]
    pos += 1
    kids = []
    for _ in range(int(node.get("num-children", 0))):
        kid, pos = _unflatten(nodes, pos)
        kids.append(kid)
    return (node, kids), pos


def tree(nodes: list[JsonNode]) -> Item:
    result, _ = _unflatten(nodes, 0)
    return result


def internal_name(attr: JsonNode) -> str:
    return f"_{attr['exprId']['id']}"


def has_expand(item: Item) -> bool:
    node, kids = item
    return short_class(node) == "Expand" or any(has_expand(k) for k in kids)


def contains_agg(item: Item) -> bool:
    node, kids = item
    return short_class(node) == "AggregateExpression" or any(contains_agg(k) for k in kids)
