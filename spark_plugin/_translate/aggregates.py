"""Aggregate calls and Aggregate operators: grouping keys, aggregate outputs, FILTER rules."""

from __future__ import annotations

from spark_plugin import _ir, _types
from spark_plugin._ir import AggCall, Call, Case, Col, Expr, Lit, Plan
from spark_plugin._translate.expand import one_row_per_group
from spark_plugin._translate.exprs import ExprTranslator
from spark_plugin._translate.nodes import (
    Item,
    JsonNode,
    Unsupported,
    contains_agg,
    internal_name,
    object_name,
    short_class,
    tree,
)
from spark_plugin._translate.traversal import substitute


class AggTranslator(ExprTranslator):
    """Expressions plus aggregates; the operators are in plans.py."""

    #: While an Aggregate's outputs are translated: its child and grouping keys (see First).
    _agg_scope: tuple[Plan, list[tuple[str, Expr]]] | None = None

    def _agg_call(self, item: Item) -> AggCall:
        node, kids = item
        distinct = bool(node.get("isDistinct"))
        func_node, func_kids = kids[0]
        func = short_class(func_node)
        args = tuple(self.expr(k) for k in func_kids)
        condition = self.expr(kids[1]) if len(kids) > 1 else None
        if condition is not None:
            # FILTER (WHERE c): only rows where c is true update the aggregate. Every aggregate
            # here skips NULL inputs, so that is the aggregate of CASE WHEN c THEN x END (for
            # count(*): of CASE WHEN c THEN 1 END); Spark's distinct rewrite filters on its gid.
            if func == "Count" and all(isinstance(a, Lit) and a.value is not None for a in args):
                args = (Lit(1, "integer"),)
            args = tuple(Case(((condition, a),), None, a.dtype) for a in args)
        if func == "First":
            return self._first(func_node, args, condition)
        if func == "Count":
            if args and all(isinstance(a, Lit) and a.value is not None for a in args):
                # count(DISTINCT 1) is 1 for a group with rows (0 for none): _finish caps it.
                return AggCall("count_star", (), "long", distinct)
            if distinct and any(a.dtype in _types.FLOATING for a in args):
                raise self.fail("count(DISTINCT) of floating point is not offloaded")
            return AggCall("count", args, "long", distinct)
        if func in ("Sum", "Average", "Min", "Max"):
            (arg,) = args
            if not _types.is_numeric(arg.dtype) and func in ("Sum", "Average"):
                raise self.fail(f"{func} of {arg.dtype} is not offloaded")
            if distinct and (func != "Sum" or arg.dtype in _types.FLOATING):
                raise self.fail(f"{func}(DISTINCT) is not offloaded")
            if func == "Sum":
                return AggCall("sum", args, _types.sum_type(arg.dtype), distinct)
            if func == "Average":
                if _types.is_decimal(arg.dtype) and _types.avg_loses_digits(arg.dtype):
                    raise self.fail(f"avg of {arg.dtype} is not offloaded (result scale)")
                return AggCall("avg", args, _types.avg_type(arg.dtype), distinct)
            if arg.dtype == "boolean":
                raise self.fail(f"{func} of boolean is not offloaded")
            return AggCall(func.lower(), args, arg.dtype, distinct)
        raise self.fail(f"aggregate function {func} is not offloaded")

    def _first(
        self, func_node: JsonNode, args: tuple[Expr, ...], condition: Expr | None
    ) -> AggCall:
        """``first(x)`` depends on the row order, except where at most one row of each group can
        pass its FILTER (Spark's distinct rewrite, see ``expand.one_row_per_group``): then it
        is that row's value, or NULL, which is also the max of the (at most one) non-NULL value."""
        scope = self._agg_scope  # None: a window function, or an operator only tagged
        if (
            scope is None
            or not func_node.get("ignoreNulls")
            or not one_row_per_group(scope[0], scope[1], condition)
        ):
            raise self.fail("first() is not offloaded (its answer depends on the row order)")
        (arg,) = args
        if arg.dtype == "boolean":
            raise self.fail("first() of boolean is not offloaded")
        return AggCall("max", args, arg.dtype)

    def _aggregate_node(self, node: JsonNode, child: Plan | None) -> Plan:
        assert child is not None
        keys: list[tuple[str, Expr]] = []
        for i, nodes in enumerate(node["groupingExpressions"]):
            try:
                key = self.expr(tree(nodes))
            except Unsupported:
                continue
            if key.dtype in _types.FLOATING:
                key = Call("normalize", (key,), key.dtype)
            top = nodes[0]
            keys.append((internal_name(top) if "exprId" in top else f"_g{i}", key))
        aggs: list[tuple[str, AggCall]] = []
        outputs: list[tuple[str, Expr]] = []
        self._agg_scope = (child, keys)
        try:
            for nodes in node["aggregateExpressions"]:
                top = nodes[0]
                try:
                    out = self._agg_output(tree(nodes), keys, aggs)
                except Unsupported:
                    continue
                outputs.append((internal_name(top), out))
        finally:
            self._agg_scope = None
        aggregate = _ir.Aggregate(child, tuple(keys), tuple(aggs))
        return _ir.Project(aggregate, tuple(outputs))

    def _agg_output(
        self,
        item: Item,
        keys: list[tuple[str, Expr]],
        aggs: list[tuple[str, AggCall]],
    ) -> Expr:
        """Translate an output expression, replacing aggregates and grouping keys by columns."""
        node, kids = item
        name = short_class(node)
        if name == "AggregateExpression":
            mode = object_name(node.get("mode"))
            if mode != "Complete":
                raise self.fail(f"aggregate mode {mode} is not offloaded")
            call = self._agg_call(item)
            agg_name = f"_agg{node['resultId']['id']}_{len(aggs)}"
            aggs.append((agg_name, call))
            return Col(agg_name, call.dtype)
        if name == "Alias":
            return self._agg_output(kids[0], keys, aggs)
        # A grouping key (or an expression equal to one) becomes a reference to the key column.
        if name != "Literal":
            saved = list(self._reasons)
            try:
                candidate = self.expr(item) if not contains_agg(item) else None
            except Unsupported:
                self._reasons[:] = saved
                candidate = None
            if candidate is not None:
                for key_name, key in keys:
                    plain_key = (
                        key.args[0] if isinstance(key, Call) and key.op == "normalize" else key
                    )
                    if candidate in (key, plain_key):
                        return Col(key_name, key.dtype)
                if not contains_agg(item) and name == "AttributeReference":
                    raise self.fail(f"{node['name']} is neither grouped nor aggregated")
        if name in ("AttributeReference", "Literal") or not kids:
            return self.expr(item)
        # Rebuild this node over translated children through a tiny shim: translate the
        # children with aggregate replacement, then the node itself over placeholder columns.
        new_kids = [self._agg_output(k, keys, aggs) for k in kids]
        return self._rebuild(item, new_kids)

    def _rebuild(self, item: Item, new_kids: list[Expr]) -> Expr:
        node, kids = item
        # Literals stay literals: rules read their values (a shift count, a LIKE pattern).
        placeholders: list[Item] = [
            kids[i]
            if short_class(kids[i][0]) == "Literal"
            else (
                {
                    "class": "AttributeReference",
                    "num-children": 0,
                    "name": f"__k{i}",
                    "dataType": kid.dtype,
                    "exprId": {"id": f"__k{i}"},
                },
                [],
            )
            for i, kid in enumerate(new_kids)
        ]
        shell = self.expr((node, placeholders))
        mapping = {f"___k{i}": kid for i, kid in enumerate(new_kids)}
        return substitute(shell, mapping)
