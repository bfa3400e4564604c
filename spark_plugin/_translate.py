"""Spark's optimized logical plan (``toJSON()`` + a py4j walk for file locations) → our IR.

Every node and expression we cannot offload adds a reason instead of stopping the walk, so the
explain report lists all of them (spark-rapids' tag-then-convert idea).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spark_plugin import _ir, _types
from spark_plugin._ir import AggCall, Call, Case, Col, Expr, Lit, Plan, SortKey
from spark_plugin._relations import Relation

JsonNode = dict[str, Any]


@dataclass(slots=True)
class ExplainNode:
    """One operator of Spark's plan with the reasons it cannot be offloaded (empty: it can)."""

    label: str
    reasons: list[str] = field(default_factory=list)
    children: list[ExplainNode] = field(default_factory=list)


class _Unsupported(Exception):
    """Raised inside the walk to abandon one expression; the reason is already recorded."""


def short_class(node: JsonNode) -> str:
    return str(node["class"]).rsplit(".", 1)[-1]


def _object_name(value: Any) -> str:
    if isinstance(value, dict) and "object" in value:
        return str(value["object"]).rsplit(".", 1)[-1].rstrip("$")
    return str(value)


def _unflatten(nodes: list[JsonNode], pos: int = 0) -> tuple[tuple[JsonNode, list[Any]], int]:
    """Spark's JSON is a pre-order list; rebuild (node, children) pairs."""
    node = nodes[pos]
    pos += 1
    kids = []
    for _ in range(int(node.get("num-children", 0))):
        kid, pos = _unflatten(nodes, pos)
        kids.append(kid)
    return (node, kids), pos


def tree(nodes: list[JsonNode]) -> tuple[JsonNode, list[Any]]:
    result, _ = _unflatten(nodes, 0)
    return result


def internal_name(attr: JsonNode) -> str:
    return f"_{attr['exprId']['id']}"


_COMPARISONS = {
    "EqualTo": "eq",
    "EqualNullSafe": "eq_null_safe",
    "LessThan": "lt",
    "LessThanOrEqual": "le",
    "GreaterThan": "gt",
    "GreaterThanOrEqual": "ge",
}
_ARITHMETIC = {"Add": "add", "Subtract": "sub", "Multiply": "mul", "Divide": "div"}
_STRING_PREDICATES = {"StartsWith": "startswith", "EndsWith": "endswith", "Contains": "contains"}
_DATE_PARTS = {"Year": "year", "Month": "month", "DayOfMonth": "day", "Quarter": "quarter"}
_JOIN_TYPES = {
    "Inner": "inner",
    "Cross": "cross",
    "LeftOuter": "left",
    "RightOuter": "right",
    "FullOuter": "full",
    "LeftSemi": "semi",
    "LeftAnti": "anti",
}
#: Casts whose answers we reproduce exactly (from, to); decimals are handled separately.
_CASTS = {
    ("byte", "short"),
    ("byte", "integer"),
    ("byte", "long"),
    ("short", "integer"),
    ("short", "long"),
    ("integer", "long"),
    ("byte", "double"),
    ("short", "double"),
    ("integer", "double"),
    ("long", "double"),
    ("float", "double"),
    ("date", "date"),
}


def parse_literal(value: Any, dtype: str) -> Any:
    """The Python value of a Spark JSON literal (decimals as unscaled ints)."""
    if value is None:
        return None
    if dtype in _types.INTEGRAL:
        return int(value)
    if dtype in _types.FLOATING:
        return float(value)
    if dtype == "boolean":
        return str(value).lower() == "true"
    if dtype == "string":
        return str(value)
    if dtype == "date":
        return dt.date.fromisoformat(str(value))
    if _types.is_decimal(dtype):
        _, scale = _types.decimal_ps(dtype)
        return int(decimal.Decimal(str(value)).scaleb(scale))
    raise NotImplementedError(f"literal of type {dtype}")


class Translator:
    """Walks one optimized plan; ``translate`` returns (IR or None, explain tree)."""

    def __init__(
        self,
        relations: Mapping[int, Relation],
        settings: _ir.Settings,
        schema_check: Callable[[Relation, list[tuple[str, str]]], str] | None = None,
    ) -> None:
        self._relations = relations
        self._settings = settings
        self._schema_check = schema_check
        self._reasons: list[str] = []
        self._below_expand = False

    # -- expressions -------------------------------------------------------------------------

    def _fail(self, reason: str) -> _Unsupported:
        self._reasons.append(reason)
        return _Unsupported(reason)

    def expr(self, item: tuple[JsonNode, list[Any]]) -> Expr:
        node, kids = item
        name = short_class(node)
        args = [self.expr(kid) for kid in kids] if name not in _NO_EAGER_CHILDREN else []

        if name == "AttributeReference":
            dtype = node["dataType"]
            if not isinstance(dtype, str) or not _types.is_supported(dtype):
                raise self._fail(f"column {node['name']} has type {dtype}, not offloaded")
            return Col(internal_name(node), dtype)
        if name == "Literal":
            dtype = node["dataType"]
            if not isinstance(dtype, str):
                raise self._fail(f"literal of type {dtype} is not offloaded")
            if dtype == "null":
                return Lit(None, "null")
            if not _types.is_supported(dtype) or dtype == "timestamp":
                raise self._fail(f"literal of type {dtype} is not offloaded")
            return Lit(parse_literal(node.get("value"), dtype), dtype)
        if name == "Alias":
            return args[0]
        if name in ("KnownFloatingPointNormalized", "NormalizeNaNAndZero"):
            return Call("normalize", (args[0],), args[0].dtype)
        if name in ("And", "Or"):
            return Call(name.lower(), tuple(args), "boolean")
        if name == "Not":
            return Call("not", tuple(args), "boolean")
        if name in ("IsNull", "IsNotNull"):
            return Call("isnull" if name == "IsNull" else "isnotnull", tuple(args), "boolean")
        if name in _COMPARISONS:
            self._same_family(name, args)
            return Call(_COMPARISONS[name], tuple(args), "boolean")
        if name in _ARITHMETIC:
            return self._arithmetic(_ARITHMETIC[name], args)
        if name == "UnaryMinus":
            return Call("neg", (args[0],), args[0].dtype)
        if name in ("Remainder", "IntegralDivide"):
            if args[0].dtype not in _types.INTEGRAL or args[0].dtype != args[1].dtype:
                raise self._fail(f"{name} on {args[0].dtype} is not offloaded")
            op = "mod" if name == "Remainder" else "intdiv"
            return Call(op, tuple(args), args[0].dtype if op == "mod" else "long")
        if name == "UnscaledValue":
            return Call("unscaled", (args[0],), "long")
        if name == "MakeDecimal":
            dtype = _types.decimal(int(node["precision"]), int(node["scale"]))
            null_on_overflow = bool(node.get("nullOnOverflow", True))
            return Call("make_decimal", (args[0],), dtype, (null_on_overflow,))
        if name == "Cast":
            return self._cast(args[0], node["dataType"])
        if name == "In":
            if not all(isinstance(a, Lit) for a in args[1:]):
                raise self._fail("IN with non-literal values is not offloaded")
            if args[0].dtype in _types.FLOATING:
                raise self._fail("IN on floating point values is not offloaded (NaN rules)")
            return Call("in", tuple(args), "boolean")
        if name == "InSet":
            raise self._fail("InSet (large IN list) is not offloaded")
        if name == "Like":
            if not isinstance(args[1], Lit):
                raise self._fail("LIKE with a non-literal pattern is not offloaded")
            escape = node.get("escapeChar") or "\\"
            return Call("like", tuple(args), "boolean", (str(escape),))
        if name in _STRING_PREDICATES:
            if not isinstance(args[1], Lit):
                raise self._fail(f"{name} with a non-literal pattern is not offloaded")
            return Call(_STRING_PREDICATES[name], tuple(args), "boolean")
        if name == "Substring":
            if args[0].dtype != "string":
                raise self._fail("substring of binary is not offloaded")
            return Call("substring", tuple(args), "string")
        if name in ("Upper", "Lower"):
            return Call(name.lower(), tuple(args), "string")
        if name == "Length":
            if args[0].dtype != "string":
                raise self._fail("length of binary is not offloaded")
            return Call("length", tuple(args), "integer")
        if name == "Concat":
            if any(a.dtype != "string" for a in args):
                raise self._fail("concat of non-strings is not offloaded")
            return Call("concat", tuple(args), "string")
        if name in _DATE_PARTS:
            if args[0].dtype != "date":
                raise self._fail(f"{name} of {args[0].dtype} is not offloaded")
            return Call(_DATE_PARTS[name], tuple(args), "integer")
        if name == "CaseWhen":
            n = len(node.get("branches") or [])
            branches = tuple((args[2 * i], args[2 * i + 1]) for i in range(n))
            otherwise = args[2 * n] if len(args) > 2 * n else None
            return Case(branches, otherwise, self._common([v for _, v in branches], otherwise))
        if name == "If":
            return Case(((args[0], args[1]),), args[2], self._common([args[1]], args[2]))
        if name == "Coalesce":
            return Call("coalesce", tuple(args), self._common(args, None))
        if name == "ScalarSubquery":
            return self._scalar_subquery(node)
        if name in ("AggregateExpression",):
            return self._aggregate(node, args)
        raise self._fail(f"expression {name} is not offloaded")

    def _same_family(self, name: str, args: list[Expr]) -> None:
        left, right = args[0].dtype, args[1].dtype
        if "null" in (left, right):
            return
        if left != right and not (_types.is_decimal(left) and _types.is_decimal(right)):
            raise self._fail(f"{name} between {left} and {right} is not offloaded")

    def _common(self, values: list[Expr], otherwise: Expr | None) -> str:
        types = {v.dtype for v in [*values, *([otherwise] if otherwise else [])]} - {"null"}
        if len(types) > 1:
            raise self._fail(f"branches of types {sorted(types)} are not offloaded")
        return types.pop() if types else "null"

    def _arithmetic(self, op: str, args: list[Expr]) -> Expr:
        left, right = args[0].dtype, args[1].dtype
        if _types.is_decimal(left) and _types.is_decimal(right):
            p1, _ = _types.decimal_ps(left)
            p2, _ = _types.decimal_ps(right)
            if op in ("add", "sub") and max(p1, p2) >= 38:
                raise self._fail("decimal(38) addition could overflow 128 bits; not offloaded")
            return Call(op, tuple(args), _types.decimal_result(op, left, right))
        if left != right:
            raise self._fail(f"arithmetic between {left} and {right} is not offloaded")
        if op == "div":
            if left != "double":
                raise self._fail(f"division of {left} is not offloaded")
            return Call(op, tuple(args), "double")
        if left not in _types.INTEGRAL and left not in _types.FLOATING:
            raise self._fail(f"arithmetic on {left} is not offloaded")
        return Call(op, tuple(args), left)

    def _cast(self, arg: Expr, target: Any) -> Expr:
        if not isinstance(target, str):
            raise self._fail(f"cast to {target} is not offloaded")
        source = arg.dtype
        if source == target:
            return arg
        if _types.is_decimal(target) and (_types.is_decimal(source) or source in _types.INTEGRAL):
            return Call("cast", (arg,), target)
        if (source, target) in _CASTS or (_types.is_decimal(source) and target == "double"):
            return Call("cast", (arg,), target)
        if source == "null" and _types.is_supported(target):
            return Lit(None, target)
        raise self._fail(f"cast from {source} to {target} is not offloaded")

    def _aggregate(self, node: JsonNode, args: list[Expr]) -> Expr:
        mode = _object_name(node.get("mode"))
        if mode != "Complete":
            raise self._fail(f"aggregate mode {mode} is not offloaded")
        raise AssertionError("aggregate expressions are translated by _agg_call")

    def _agg_call(self, item: tuple[JsonNode, list[Any]]) -> AggCall:
        node, kids = item
        distinct = bool(node.get("isDistinct"))
        if node.get("filter") not in (None, []):
            if self._below_expand:  # Spark's own FILTER (gid = n): Expand's reason says why
                raise _Unsupported("FILTER of Spark's DISTINCT rewrite")
            raise self._fail("aggregate FILTER clauses are not offloaded")
        func_node, func_kids = kids[0]
        func = short_class(func_node)
        args = tuple(self.expr(k) for k in func_kids)
        if func == "Count":
            if args and all(isinstance(a, Lit) and a.value is not None for a in args):
                # count(DISTINCT 1) is 1 for a group with rows (0 for none): _finish caps it.
                return AggCall("count_star", (), "long", distinct)
            if distinct and any(a.dtype in _types.FLOATING for a in args):
                raise self._fail("count(DISTINCT) of floating point is not offloaded")
            return AggCall("count", args, "long", distinct)
        if func in ("Sum", "Average", "Min", "Max"):
            (arg,) = args
            if not _types.is_numeric(arg.dtype) and func in ("Sum", "Average"):
                raise self._fail(f"{func} of {arg.dtype} is not offloaded")
            if distinct and (func != "Sum" or arg.dtype in _types.FLOATING):
                raise self._fail(f"{func}(DISTINCT) is not offloaded")
            if func == "Sum":
                return AggCall("sum", args, _types.sum_type(arg.dtype), distinct)
            if func == "Average":
                if _types.is_decimal(arg.dtype) and _types.avg_loses_digits(arg.dtype):
                    raise self._fail(f"avg of {arg.dtype} is not offloaded (result scale)")
                return AggCall("avg", args, _types.avg_type(arg.dtype), distinct)
            if arg.dtype == "boolean":
                raise self._fail(f"{func} of boolean is not offloaded")
            return AggCall(func.lower(), args, arg.dtype, distinct)
        raise self._fail(f"aggregate function {func} is not offloaded")

    def _scalar_subquery(self, node: JsonNode) -> Expr:
        if node.get("outerAttrs"):
            raise self._fail("correlated scalar subquery is not offloaded")
        sub = Translator(self._relations, self._settings, self._schema_check)
        plan, explain_node = sub.translate(node["plan"])
        self._subquery_explains.append(explain_node)
        if plan is None:
            raise self._fail("scalar subquery cannot be offloaded")
        if len(plan.output) != 1:
            raise self._fail("scalar subquery with more than one column")
        return _ir.ScalarSubquery(plan, plan.output[0][1])

    # -- plan ---------------------------------------------------------------------------------

    def translate(self, nodes: list[JsonNode]) -> tuple[Plan | None, ExplainNode]:
        return self.plan(tree(nodes))

    def plan(self, item: tuple[JsonNode, list[Any]]) -> tuple[Plan | None, ExplainNode]:
        node, kids = item
        name = short_class(node)
        translated = [self.plan(kid) for kid in kids]
        child_plans = [p for p, _ in translated]
        self._reasons = []
        self._below_expand = any(_has_expand(kid) for kid in kids)
        self._subquery_explains: list[ExplainNode] = []
        label = name
        result: Plan | None = None
        try:
            result, label = self._plan_node(name, node, child_plans)
        except _Unsupported:
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
            except _Unsupported:
                out.append(Lit(None, "null"))
        return out

    def _plan_node(
        self, name: str, node: JsonNode, kids: list[Plan | None]
    ) -> tuple[Plan | None, str]:
        if name == "LogicalRelation":
            return self._relation(node)
        if any(k is None for k in kids):
            # Still tag our own expressions so every reason shows up.
            if name in ("Project", "Filter", "Aggregate", "Join", "Sort"):
                self._tag_only(name, node)
            elif name not in ("GlobalLimit", "LocalLimit"):
                self._reasons.append(f"operator {name}{_WHAT.get(name, '')} is not offloaded")
            return None, name
        if name == "Project":
            exprs = []
            for nodes in node["projectList"]:
                top = nodes[0]
                out_name = internal_name(top)
                try:
                    exprs.append((out_name, self.expr(tree(nodes))))
                except _Unsupported:
                    continue
            assert kids[0] is not None
            return _ir.Project(kids[0], tuple(exprs)), "Project"
        if name == "Filter":
            (cond,) = self._exprs([node["condition"]])
            assert kids[0] is not None
            return _ir.Filter(kids[0], cond), "Filter"
        if name == "Sort":
            if not node.get("global", True):
                raise self._fail("sortWithinPartitions is not offloaded")
            keys = []
            for nodes in node["order"]:
                order, (child,) = tree(nodes)
                try:
                    expr = self.expr(child)
                except _Unsupported:
                    continue
                keys.append(
                    SortKey(
                        expr,
                        _object_name(order["direction"]) == "Ascending",
                        _object_name(order["nullOrdering"]) == "NullsFirst",
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
        raise self._fail(f"operator {name}{_WHAT.get(name, '')} is not offloaded")

    def _tag_only(self, name: str, node: JsonNode) -> None:
        for key in ("projectList", "aggregateExpressions", "groupingExpressions", "order"):
            for nodes in node.get(key) or []:
                self._tag_expr_tree(tree(nodes))
        if node.get("condition"):
            with contextlib.suppress(_Unsupported):
                self.expr(tree(node["condition"]))

    def _tag_expr_tree(self, item: tuple[JsonNode, list[Any]]) -> None:
        """Collect the reasons inside one expression without building it."""
        node, kids = item
        if short_class(node) == "AggregateExpression":
            with contextlib.suppress(_Unsupported):
                self._agg_call(item)
            return
        if short_class(node) == "SortOrder" or _contains_agg(item):
            for kid in kids:
                self._tag_expr_tree(kid)
            return
        with contextlib.suppress(_Unsupported):
            self.expr(item)

    def _int_literal(self, nodes: list[JsonNode]) -> int:
        expr = self.expr(tree(nodes))
        if not isinstance(expr, Lit) or not isinstance(expr.value, int):
            raise self._fail("LIMIT with a non-literal value is not offloaded")
        return expr.value

    def _relation(self, node: JsonNode) -> tuple[Plan | None, str]:
        output = [nodes[0] for nodes in node["output"]]
        if not output:
            raise self._fail("relation with no columns")
        relation = self._relations.get(int(output[0]["exprId"]["id"]))
        if relation is None:
            raise self._fail("relation not found in the JVM plan")
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

    def _aggregate_node(self, node: JsonNode, child: Plan | None) -> Plan:
        assert child is not None
        keys: list[tuple[str, Expr]] = []
        for i, nodes in enumerate(node["groupingExpressions"]):
            try:
                key = self.expr(tree(nodes))
            except _Unsupported:
                continue
            if key.dtype in _types.FLOATING:
                key = Call("normalize", (key,), key.dtype)
            top = nodes[0]
            keys.append((internal_name(top) if "exprId" in top else f"_g{i}", key))
        aggs: list[tuple[str, AggCall]] = []
        outputs: list[tuple[str, Expr]] = []
        for nodes in node["aggregateExpressions"]:
            top = nodes[0]
            try:
                out = self._agg_output(tree(nodes), keys, aggs)
            except _Unsupported:
                continue
            outputs.append((internal_name(top), out))
        aggregate = _ir.Aggregate(child, tuple(keys), tuple(aggs))
        return _ir.Project(aggregate, tuple(outputs))

    def _agg_output(
        self,
        item: tuple[JsonNode, list[Any]],
        keys: list[tuple[str, Expr]],
        aggs: list[tuple[str, AggCall]],
    ) -> Expr:
        """Translate an output expression, replacing aggregates and grouping keys by columns."""
        node, kids = item
        name = short_class(node)
        if name == "AggregateExpression":
            mode = _object_name(node.get("mode"))
            if mode != "Complete":
                raise self._fail(f"aggregate mode {mode} is not offloaded")
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
                candidate = self.expr(item) if not _contains_agg(item) else None
            except _Unsupported:
                self._reasons[:] = saved
                candidate = None
            if candidate is not None:
                for key_name, key in keys:
                    plain_key = (
                        key.args[0] if isinstance(key, Call) and key.op == "normalize" else key
                    )
                    if candidate in (key, plain_key):
                        return Col(key_name, key.dtype)
                if not _contains_agg(item) and name == "AttributeReference":
                    raise self._fail(f"{node['name']} is neither grouped nor aggregated")
        if name in ("AttributeReference", "Literal") or not kids:
            return self.expr(item)
        # Rebuild this node over translated children through a tiny shim: translate the
        # children with aggregate replacement, then the node itself over placeholder columns.
        new_kids = [self._agg_output(k, keys, aggs) for k in kids]
        return self._rebuild(item, new_kids)

    def _rebuild(self, item: tuple[JsonNode, list[Any]], new_kids: list[Expr]) -> Expr:
        node, _ = item
        placeholders: list[tuple[JsonNode, list[Any]]] = [
            (
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
        return _substitute(shell, mapping)

    def _join(self, node: JsonNode, left: Plan, right: Plan) -> tuple[Plan | None, str]:
        how_name = _object_name(node["joinType"])
        how = _JOIN_TYPES.get(how_name)
        if how is None:
            raise self._fail(f"join type {how_name} is not offloaded")
        label = f"Join {how_name}"
        left_names = {n for n, _ in left.output}
        right_names = {n for n, _ in right.output}
        conjuncts: list[Expr] = []
        condition = node.get("condition")
        if condition:
            (cond,) = self._exprs([condition])
            conjuncts = _split_and(cond)
        if how == "anti" and len(conjuncts) == 1:
            aware = _null_aware_key(conjuncts[0])
            if aware is not None:
                a, b = aware
                if _refs(a) <= left_names and _refs(b) <= right_names:
                    self._check_key_types(a, b)
                    return _ir.Join(left, right, "anti_null_aware", (a,), (b,)), label + " (NOT IN)"
        left_keys: list[Expr] = []
        right_keys: list[Expr] = []
        residual: list[Expr] = []
        for c in conjuncts:
            if isinstance(c, Call) and c.op == "eq":
                a, b = c.args
                if _refs(a) <= left_names and _refs(b) <= right_names:
                    pass
                elif _refs(b) <= left_names and _refs(a) <= right_names:
                    a, b = b, a
                else:
                    residual.append(c)
                    continue
                if not _refs(a) or not _refs(b):
                    residual.append(c)
                    continue
                self._check_key_types(a, b)
                left_keys.append(a)
                right_keys.append(b)
            else:
                residual.append(c)
        if not left_keys and how not in ("inner", "cross"):
            raise self._fail(f"{how_name} join without an equality key is not offloaded")
        if not left_keys:
            how = "cross"
        if residual and how in ("full", "right"):
            raise self._fail(f"{how_name} join with a non-equi condition is not offloaded")
        res = _and_all(residual)
        return _ir.Join(left, right, how, tuple(left_keys), tuple(right_keys), res), label

    def _check_key_types(self, a: Expr, b: Expr) -> None:
        if a.dtype in _types.FLOATING or b.dtype in _types.FLOATING:
            raise self._fail("floating point join keys are not offloaded (NaN and -0.0 rules)")
        if a.dtype != b.dtype:
            raise self._fail(f"join keys of types {a.dtype} and {b.dtype} are not offloaded")


_NO_EAGER_CHILDREN = frozenset({"AggregateExpression"})
#: What a user wrote that Spark plans as these operators.
_WHAT = {
    "Expand": " (ROLLUP, CUBE, GROUPING SETS, several DISTINCT aggregates)",
    "Window": " (window functions)",
    "Union": " (UNION)",
}


def _has_expand(item: tuple[JsonNode, list[Any]]) -> bool:
    node, kids = item
    return short_class(node) == "Expand" or any(_has_expand(k) for k in kids)


def _contains_agg(item: tuple[JsonNode, list[Any]]) -> bool:
    node, kids = item
    return short_class(node) == "AggregateExpression" or any(_contains_agg(k) for k in kids)


def _substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    if isinstance(expr, Col):
        return mapping.get(expr.name, expr)
    if isinstance(expr, Call):
        return Call(
            expr.op, tuple(_substitute(a, mapping) for a in expr.args), expr.dtype, expr.options
        )
    if isinstance(expr, Case):
        return Case(
            tuple((_substitute(c, mapping), _substitute(v, mapping)) for c, v in expr.branches),
            None if expr.otherwise is None else _substitute(expr.otherwise, mapping),
            expr.dtype,
        )
    return expr


def _split_and(expr: Expr) -> list[Expr]:
    if isinstance(expr, Call) and expr.op == "and":
        return _split_and(expr.args[0]) + _split_and(expr.args[1])
    return [expr]


def _and_all(exprs: list[Expr]) -> Expr | None:
    if not exprs:
        return None
    out = exprs[0]
    for e in exprs[1:]:
        out = Call("and", (out, e), "boolean")
    return out


def _null_aware_key(cond: Expr) -> tuple[Expr, Expr] | None:
    """``a = b OR isnull(a = b)``: Spark's NOT IN subquery condition."""
    if not (isinstance(cond, Call) and cond.op == "or"):
        return None
    eq, isnull = cond.args
    if (
        isinstance(eq, Call)
        and eq.op == "eq"
        and isinstance(isnull, Call)
        and isnull.op == "isnull"
        and isnull.args[0] == eq
    ):
        return eq.args[0], eq.args[1]
    return None


def refs(expr: Expr) -> set[str]:
    return _refs(expr)


def _refs(expr: Expr) -> set[str]:
    if isinstance(expr, Col):
        return {expr.name}
    if isinstance(expr, Call):
        return set().union(*(_refs(a) for a in expr.args)) if expr.args else set()
    if isinstance(expr, Case):
        out: set[str] = set()
        for c, v in expr.branches:
            out |= _refs(c) | _refs(v)
        if expr.otherwise is not None:
            out |= _refs(expr.otherwise)
        return out
    if isinstance(expr, AggCall):
        return set().union(*(_refs(a) for a in expr.args)) if expr.args else set()
    return set()
