"""Bit operations on integers: what ``grouping()`` and ``grouping_id()`` are made of (shifts and
masks over Spark's ``spark_grouping_id``); narrowing integer casts are in ``exprs._cast``."""

from __future__ import annotations

from spark_plugin import _types
from spark_plugin._ir import Call, Expr, Lit
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode, short_class

_BITWISE = {"BitwiseAnd": "bit_and", "BitwiseOr": "bit_or", "BitwiseXor": "bit_xor"}


@rule("ShiftRight")
def shift_right(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    value, count = args
    if value.dtype not in ("integer", "long"):
        raise tr.fail(f"ShiftRight of {value.dtype} is not offloaded")
    if not isinstance(count, Lit) or count.dtype != "integer":
        raise tr.fail("ShiftRight by a non-literal count is not offloaded")
    if count.value is None:
        return Lit(None, value.dtype)
    # Java's >> uses the low 5 (int) or 6 (long) bits of the count.
    return Call("shift_right", (value,), value.dtype, (count.value % _types.INT_BITS[value.dtype],))


@rule(*_BITWISE)
def bitwise(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    left, right = args
    if left.dtype not in _types.INTEGRAL or left.dtype != right.dtype:
        raise tr.fail(f"{name} of {left.dtype} and {right.dtype} is not offloaded")
    return Call(_BITWISE[name], (left, right), left.dtype)
