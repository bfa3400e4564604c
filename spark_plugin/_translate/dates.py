"""Date expressions: the parts of a date."""

from __future__ import annotations

from spark_plugin._ir import Call, Expr
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode, short_class

_PARTS = {"Year": "year", "Month": "month", "DayOfMonth": "day", "Quarter": "quarter"}


@rule(*_PARTS)
def part(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    if args[0].dtype != "date":
        raise tr.fail(f"{name} of {args[0].dtype} is not offloaded")
    return Call(_PARTS[name], tuple(args), "integer")
