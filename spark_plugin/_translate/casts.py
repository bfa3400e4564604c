"""Casts from and to strings: which pairs we compute exactly (``_compile/casts.py``)."""

from __future__ import annotations

from spark_plugin import _types
from spark_plugin._ir import Call, Expr
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode

#: CAST(string AS t): the targets whose parsing we reproduce (float: Java's ``parseFloat``
#: rounds once to float, which we have not matched; timestamps: their own module).
_FROM_STRING = _types.INTEGRAL | {"double", "boolean", "date"}
#: CAST(x AS STRING): Java's ``Double.toString`` (shortest digits, ``E`` notation outside
#: [10^-3, 10^7)) is not what Polars prints, so floats are refused.
_TO_STRING = _types.INTEGRAL | {"boolean", "date"}


@rule("Cast:string")
def string_cast(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    """CAST from or to a string. The eval mode is the session's: the plan JSON writes it as
    null (``try_cast`` is refused by ``_plan``, from the printed plan)."""
    arg, target = args[0], node["dataType"]
    source = arg.dtype
    if source == target:
        return arg
    if source == "string" and (target in _FROM_STRING or _types.is_decimal(target)):
        return Call("cast_from_string", (arg,), target, (tr._settings.ansi,))
    if target == "string" and (source in _TO_STRING or _types.is_decimal(source)):
        return Call("cast_to_string", (arg,), target)
    raise tr.fail(f"cast from {source} to {target} is not offloaded")
