"""Spark's optimized logical plan (``toJSON()`` + a py4j walk for file locations) → our IR.

The operators; expressions are in exprs.py, aggregates in aggregates.py. Every node we cannot
offload adds a reason instead of stopping the walk, so the explain report lists all of them.
"""

from __future__ import annotations

import contextlib

from spark_plugin import _ir, _types
from spark_plugin._ir import Call, Expr, Lit, Plan, SortKey
from spark_plugin._translate.aggregates import AggTranslator
from spark_plugin._translate.expand import expand_node
from spark_plugin._translate.nodes import (
    ExplainNode,
    Item,
    JsonNode,
    Unsupported,
    contains_agg,
    has_expand,
    internal_name,
    object_name,
    short_class,
    tree,
)
from spark_plugin._translate.traversal import and_all, null_aware_key, refs, split_and
from spark_plugin._translate.windows import window_node

_JOIN_TYPES = {
    "Inner": "inner",
    "Cross": "cross",
    "LeftOuter": "left",
    "RightOuter": "right",
    "FullOuter": "full",
    "LeftSemi": "semi",
    "LeftAnti": "anti",
}
#: What a user wrote that Spark plans as these operators.
_WHAT = {
    "Expand": " (ROLLUP, CUBE, GROUPING SETS, several DISTINCT aggregates)",
    "Window": " (window functions)",
    "Union": " (UNION)",
}


class Translator(AggTranslator):
    """Walks one optimized plan; ``translate`` returns (IR or None, explain tree)."""

    def _scalar_subquery(self, node: JsonNode) -> Expr:
        if node.get("outerAttrs"):
            raise self.fail("correlated scalar subquery is not offloaded")
        sub = Translator(self._relations, self._settings, self._schema_check)
        plan, explain_node = sub.translate(node["plan"])
        self._subquery_explains.append(explain_node)
        if plan is None:
            raise self.fail("scalar subquery cannot be offloaded")
        if len(plan.output) != 1:
            raise self.fail("scalar subquery with more than one column")
        return _ir.ScalarSubquery(plan, plan.output[0][1])

    # -- plan ---------------------------------------------------------------------------------

    def translate(self, nodes: list[JsonNode]) -> tuple[Plan | None, ExplainNode]:
        return self.plan(tree(nodes))

    def plan(self, item: Item) -> tuple[Plan | None, ExplainNode]:
        node, kids = item
        name = short_class(node)
        translated = [self.plan(kid) for kid in kids]
        child_plans = [p for p, _ in translated]
        self._reasons = []
        self._below_expand = any(has_expand(kid) for kid in kids)
        self._subquery_explains = []
        label = name
        result: Plan | None = None
        try:
            result, label = self._plan_node(name, node, child_plans)
        except Unsupported:
            result = None
        reasons = list(dict.fromkeys(self._reasons))  # once each, in order
        explain = ExplainNode(label, reasons, [e for _, e in translated])
        explain.children.extend(self._subquery_explains)
        if self._reasons or any(p is None for p in child_plans):
            result = None
        return result, explain

    def _exprs(self, lists: list[list[JsonNode]]) -> list[Expr]:
        out = []
        for nodes in lists:
            try:
                out.append(self.expr(tree(nodes)))
            except Unsupported:
                out.append(Lit(None, "null"))
        return out

    def _plan_node(
        self, name: str, node: JsonNode, kids: list[Plan | None]
    ) -> tuple[Plan | None, str]:
        if name == "LogicalRelation":
            return self._relation(node)
        if any(k is None for k in kids):
            # Still check this operator itself, so that every reason shows up and an operator
            # above a failing one is never marked as one that could run.
            if name in ("Project", "Filter", "Aggregate", "Join", "Sort"):
                self._tag_only(name, node)
            elif name in ("Window", "WindowGroupLimit"):
                window_node(self, node, None)
            elif name == "Expand":
                expand_node(self, node, None)
            elif name not in ("GlobalLimit", "LocalLimit"):
                self._reasons.append(f"operator {name}{_WHAT.get(name, '')} is not offloaded")
            return None, self._own_checks(name, node)
        if name == "Project":
            exprs = []
            for nodes in node["projectList"]:
                top = nodes[0]
                out_name = internal_name(top)
                try:
                    exprs.append((out_name, self.expr(tree(nodes))))
                except Unsupported:
                    continue
            assert kids[0] is not None
            return _ir.Project(kids[0], tuple(exprs)), "Project"
        if name == "Filter":
            (cond,) = self._exprs([node["condition"]])
            assert kids[0] is not None
            return _ir.Filter(kids[0], cond), "Filter"
        if name == "Sort":
            if not node.get("global", True):
                raise self.fail("sortWithinPartitions is not offloaded")
            keys = []
            for nodes in node["order"]:
                order, (child,) = tree(nodes)
                try:
                    expr = self.expr(child)
                except Unsupported:
                    continue
                keys.append(
                    SortKey(
                        expr,
                        object_name(order["direction"]) == "Ascending",
                        object_name(order["nullOrdering"]) == "NullsFirst",
                    )
                )
            assert kids[0] is not None
            return _ir.Sort(kids[0], tuple(keys)), "Sort"
        if name == "GlobalLimit":
            child = kids[0]
            limit = self._int_literal(node["limitExpr"])
            if isinstance(child, _ir.Limit):
                child = child.child
            assert child is not None
            return _ir.Limit(child, limit), "GlobalLimit"
        if name == "LocalLimit":
            # Only meaningful under a GlobalLimit with the same value (Spark's LIMIT pattern).
            limit = self._int_literal(node["limitExpr"])
            assert kids[0] is not None
            return _ir.Limit(kids[0], limit), "LocalLimit"
        if name == "Aggregate":
            return self._aggregate_node(node, kids[0]), "Aggregate"
        if name == "Join":
            assert kids[0] is not None
            assert kids[1] is not None
            return self._join(node, kids[0], kids[1])
        if name in ("Window", "WindowGroupLimit"):
            return window_node(self, node, kids[0]), name
        if name == "Expand":
            return expand_node(self, node, kids[0]), "Expand"
        raise self.fail(f"operator {name}{_WHAT.get(name, '')} is not offloaded")

    def _own_checks(self, name: str, node: JsonNode) -> str:
        """The checks of an operator that do not need its children translated; its label."""
        if name == "Sort" and not node.get("global", True):
            self._reasons.append("sortWithinPartitions is not offloaded")
        if name in ("GlobalLimit", "LocalLimit"):
            with contextlib.suppress(Unsupported):
                self._int_literal(node["limitExpr"])
        if name == "Join":
            how_name = object_name(node["joinType"])
            if how_name not in _JOIN_TYPES:
                self._reasons.append(f"join type {how_name} is not offloaded")
            return f"Join {how_name}"
        return name

    def _tag_only(self, name: str, node: JsonNode) -> None:
        for key in ("projectList", "aggregateExpressions", "groupingExpressions", "order"):
            for nodes in node.get(key) or []:
                self._tag_expr_tree(tree(nodes))
        if node.get("condition"):
            with contextlib.suppress(Unsupported):
                condition = self.expr(tree(node["condition"]))
                if name == "Join":
                    # Equalities between columns: the keys (Spark pushed one-side ones down).
                    for c in split_and(condition):
                        if isinstance(c, Call) and c.op == "eq" and all(refs(a) for a in c.args):
                            self._check_key_types(*c.args)

    def _tag_expr_tree(self, item: Item) -> None:
        """Collect the reasons inside one expression without building it."""
        node, kids = item
        if short_class(node) == "AggregateExpression":
            with contextlib.suppress(Unsupported):
                self._agg_call(item)
            return
        if short_class(node) == "SortOrder" or contains_agg(item):
            for kid in kids:
                self._tag_expr_tree(kid)
            return
        with contextlib.suppress(Unsupported):
            self.expr(item)

    def _int_literal(self, nodes: list[JsonNode]) -> int:
        expr = self.expr(tree(nodes))
        if not isinstance(expr, Lit) or not isinstance(expr.value, int):
            raise self.fail("LIMIT with a non-literal value is not offloaded")
        return expr.value

    def _relation(self, node: JsonNode) -> tuple[Plan | None, str]:
        output = [nodes[0] for nodes in node["output"]]
        if not output:
            raise self.fail("relation with no columns")
        relation = self._relations.get(int(output[0]["exprId"]["id"]))
        if relation is None:
            raise self.fail("relation not found in the JVM plan")
        label = f"Scan parquet {relation.table}"
        if relation.problem:
            self._reasons.append(relation.problem)
            return None, label
        columns = []
        for attr in output:
            dtype = attr["dataType"]
            # A column of another type is left unread: an expression that reads it says why.
            if isinstance(dtype, str) and _types.is_supported(dtype):
                columns.append((str(attr["name"]), internal_name(attr), dtype))
        if not columns:  # a Polars frame of no columns has no rows either
            self._reasons.append("relation with no column of a type that is offloaded")
        if self._schema_check is not None:
            problem = self._schema_check(relation, [(c, t) for c, _, t in columns])
            if problem:
                self._reasons.append(problem)
        if self._reasons:
            return None, label
        scan = _ir.Scan(relation.table, relation.files, tuple(columns), relation.total_bytes)
        return scan, f"{label} ({len(relation.files)} files, {relation.total_bytes:,} bytes)"

    def _join(self, node: JsonNode, left: Plan, right: Plan) -> tuple[Plan | None, str]:
        how_name = object_name(node["joinType"])
        how = _JOIN_TYPES.get(how_name)
        if how is None:
            raise self.fail(f"join type {how_name} is not offloaded")
        label = f"Join {how_name}"
        left_names = {n for n, _ in left.output}
        right_names = {n for n, _ in right.output}
        conjuncts: list[Expr] = []
        condition = node.get("condition")
        if condition:
            (cond,) = self._exprs([condition])
            conjuncts = split_and(cond)
        if how == "anti" and len(conjuncts) == 1:
            aware = null_aware_key(conjuncts[0])
            if aware is not None:
                a, b = aware
                if refs(a) <= left_names and refs(b) <= right_names:
                    self._check_key_types(a, b)
                    return _ir.Join(left, right, "anti_null_aware", (a,), (b,)), label + " (NOT IN)"
        left_keys: list[Expr] = []
        right_keys: list[Expr] = []
        residual: list[Expr] = []
        for c in conjuncts:
            if isinstance(c, Call) and c.op == "eq":
                a, b = c.args
                if refs(a) <= left_names and refs(b) <= right_names:
                    pass
                elif refs(b) <= left_names and refs(a) <= right_names:
                    a, b = b, a
                else:
                    residual.append(c)
                    continue
                if not refs(a) or not refs(b):
                    residual.append(c)
                    continue
                self._check_key_types(a, b)
                left_keys.append(a)
                right_keys.append(b)
            else:
                residual.append(c)
        if not left_keys and how not in ("inner", "cross"):
            raise self.fail(f"{how_name} join without an equality key is not offloaded")
        if not left_keys:
            how = "cross"
        if residual and how in ("full", "right"):
            raise self.fail(f"{how_name} join with a non-equi condition is not offloaded")
        res = and_all(residual)
        return _ir.Join(left, right, how, tuple(left_keys), tuple(right_keys), res), label

    def _check_key_types(self, a: Expr, b: Expr) -> None:
        if a.dtype in _types.FLOATING or b.dtype in _types.FLOATING:
            raise self.fail("floating point join keys are not offloaded (NaN and -0.0 rules)")
        if a.dtype != b.dtype:
            raise self.fail(f"join keys of types {a.dtype} and {b.dtype} are not offloaded")
