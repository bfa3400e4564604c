"""Spark expressions (JSON) → our IR expressions: the rules, one per expression family.

Every expression we cannot offload records a reason and raises :class:`Unsupported`, which the
operator catches, so the explain report lists all of them (spark-rapids' tag-then-convert).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from typing import Any

from spark_plugin import _ir, _types
from spark_plugin._ir import Call, Case, Col, Expr, Lit
from spark_plugin._relations import Relation
from spark_plugin._translate.nodes import (
    ExplainNode,
    Item,
    JsonNode,
    Unsupported,
    internal_name,
    object_name,
    short_class,
)

_COMPARISONS = {
    "EqualTo": "eq",
    "EqualNullSafe": "eq_null_safe",
    "LessThan": "lt",
    "LessThanOrEqual": "le",
    "GreaterThan": "gt",
    "GreaterThanOrEqual": "ge",
}
_ARITHMETIC = {"Add": "add", "Subtract": "sub", "Multiply": "mul", "Divide": "div"}
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


#: Significant digits Spark keeps when it negates a decimal (``-x``, ``abs`` of a negative).
_SPARK_NEGATE_DIGITS = 34


class ExprTranslator:
    """Translates expressions; :class:`~spark_plugin._translate.plans.Translator` adds operators."""

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
        #: The explain trees of the scalar subqueries of the operator being translated.
        self._subquery_explains: list[ExplainNode] = []

    def fail(self, reason: str) -> Unsupported:
        self._reasons.append(reason)
        return Unsupported(reason)

    def expr(self, item: Item) -> Expr:
        node, kids = item
        name = short_class(node)
        args = [self.expr(kid) for kid in kids] if name not in _NO_EAGER_CHILDREN else []

        if name == "AttributeReference":
            dtype = node["dataType"]
            if not isinstance(dtype, str) or not _types.is_supported(dtype):
                raise self.fail(f"column {node['name']} has type {dtype}, not offloaded")
            return Col(internal_name(node), dtype)
        if name == "Literal":
            dtype = node["dataType"]
            if not isinstance(dtype, str):
                raise self.fail(f"literal of type {dtype} is not offloaded")
            if dtype == "null":
                return Lit(None, "null")
            if dtype == "timestamp":  # printed in the session zone (_translate/timestamps.py)
                return RULES["Literal:timestamp"](self, node, args)
            if not _types.is_supported(dtype):
                raise self.fail(f"literal of type {dtype} is not offloaded")
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
        if name in ("UnaryMinus", "Abs"):
            return self._sign_op("neg" if name == "UnaryMinus" else "abs", node, args[0])
        if name in ("Remainder", "IntegralDivide"):
            if args[0].dtype not in _types.INTEGRAL or args[0].dtype != args[1].dtype:
                raise self.fail(f"{name} on {args[0].dtype} is not offloaded")
            op = "mod" if name == "Remainder" else "intdiv"
            return Call(op, tuple(args), args[0].dtype if op == "mod" else "long")
        if name == "UnscaledValue":
            return Call("unscaled", (args[0],), "long")
        if name == "MakeDecimal":
            dtype = _types.decimal(int(node["precision"]), int(node["scale"]))
            null_on_overflow = bool(node.get("nullOnOverflow", True))
            return Call("make_decimal", (args[0],), dtype, (null_on_overflow,))
        if name == "Cast" and "timestamp" in (args[0].dtype, node["dataType"]):
            return RULES["Cast:timestamp"](self, node, args)  # zoned (_translate/timestamps.py)
        if name == "Cast" and "string" in (args[0].dtype, node["dataType"]):
            return RULES["Cast:string"](self, node, args)  # Spark's parsing (_translate/casts.py)
        if name == "Cast":
            return self._cast(args[0], node["dataType"])
        if name == "In":
            if not all(isinstance(a, Lit) for a in args[1:]):
                raise self.fail("IN with non-literal values is not offloaded")
            if args[0].dtype in _types.FLOATING:
                raise self.fail("IN on floating point values is not offloaded (NaN rules)")
            return Call("in", tuple(args), "boolean")
        if name == "InSet":
            raise self.fail("InSet (large IN list) is not offloaded")
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
        family_rule = RULES.get(name)
        if family_rule is not None:
            return family_rule(self, node, args)
        raise self.fail(f"expression {name} is not offloaded")

    def _same_family(self, name: str, args: list[Expr]) -> None:
        left, right = args[0].dtype, args[1].dtype
        if "null" in (left, right):
            return
        if left != right and not (_types.is_decimal(left) and _types.is_decimal(right)):
            raise self.fail(f"{name} between {left} and {right} is not offloaded")

    def _common(self, values: list[Expr], otherwise: Expr | None) -> str:
        types = {v.dtype for v in [*values, *([otherwise] if otherwise else [])]} - {"null"}
        if len(types) > 1:
            raise self.fail(f"branches of types {sorted(types)} are not offloaded")
        return types.pop() if types else "null"

    def _arithmetic(self, op: str, args: list[Expr]) -> Expr:
        left, right = args[0].dtype, args[1].dtype
        if _types.is_decimal(left) and _types.is_decimal(right):
            p1, _ = _types.decimal_ps(left)
            p2, _ = _types.decimal_ps(right)
            if op in ("add", "sub") and max(p1, p2) >= 38:
                raise self.fail("decimal(38) addition could overflow 128 bits; not offloaded")
            return Call(op, tuple(args), _types.decimal_result(op, left, right))
        if left != right:
            raise self.fail(f"arithmetic between {left} and {right} is not offloaded")
        if op == "div":
            if left != "double":
                raise self.fail(f"division of {left} is not offloaded")
            return Call(op, tuple(args), "double")
        if left not in _types.INTEGRAL and left not in _types.FLOATING:
            raise self.fail(f"arithmetic on {left} is not offloaded")
        return Call(op, tuple(args), left)

    def _sign_op(self, op: str, node: JsonNode, arg: Expr) -> Expr:
        """``-x`` / ``abs(x)``: the plan's own ``failOnError`` says whether MIN_VALUE raises
        (ANSI when the DataFrame was made) or wraps to itself, as Java does."""
        if not _types.is_numeric(arg.dtype):
            raise self.fail(f"{op} of {arg.dtype} is not offloaded")
        if _types.is_decimal(arg.dtype) and _types.decimal_ps(arg.dtype)[0] > _SPARK_NEGATE_DIGITS:
            # Spark negates a decimal through Scala's BigDecimal (MathContext.DECIMAL128): a value
            # of more than 34 digits comes back rounded to 34 (or overflows and raises).
            raise self.fail(f"{op} of {arg.dtype} (Spark rounds it to 34 digits) is not offloaded")
        fail = node.get("failOnError")
        fail_on_error = self._settings.ansi if fail is None else bool(fail)
        return Call(op, (arg,), arg.dtype, (fail_on_error,))

    def _cast(self, arg: Expr, target: Any) -> Expr:
        if not isinstance(target, str):
            raise self.fail(f"cast to {target} is not offloaded")
        source = arg.dtype
        if source == target:
            return arg
        if _types.is_decimal(target) and (_types.is_decimal(source) or source in _types.INTEGRAL):
            return Call("cast", (arg,), target)
        if (source, target) in _CASTS or (_types.is_decimal(source) and target == "double"):
            return Call("cast", (arg,), target)
        if source in _types.INTEGRAL and target in _types.INTEGRAL:
            # Narrower (grouping(): long -> byte); out of range fails (_compile/bitwise.py).
            return Call("narrow_int", (arg,), target)
        if source == "null" and _types.is_supported(target):
            return Lit(None, target)
        raise self.fail(f"cast from {source} to {target} is not offloaded")

    def _aggregate(self, node: JsonNode, args: list[Expr]) -> Expr:
        mode = object_name(node.get("mode"))
        if mode != "Complete":
            raise self.fail(f"aggregate mode {mode} is not offloaded")
        raise AssertionError("aggregate expressions are translated by _agg_call")

    def _scalar_subquery(self, node: JsonNode) -> Expr:
        """A scalar subquery's plan: translated by the operator translator (plans.py)."""
        raise self.fail("scalar subquery is not offloaded")


_NO_EAGER_CHILDREN = frozenset({"AggregateExpression"})

#: A rule of an expression family kept in its own module (``strings``, ``dates``, ...):
#: (translator, Spark's JSON node, its translated children) -> IR, or ``translator.fail(...)``.
Rule = Callable[[ExprTranslator, JsonNode, list[Expr]], Expr]
#: Spark expression class name -> its rule; filled by the family modules as they are imported
#: (the package's ``__init__`` imports them all).
RULES: dict[str, Rule] = {}


def rule(*names: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule for Spark's expression classes ``names``."""

    def register(fn: Rule) -> Rule:
        for name in names:
            if name in RULES:
                raise ValueError(f"two rules for the Spark expression {name}")
            RULES[name] = fn
        return fn

    return register
