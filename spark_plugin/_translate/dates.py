"""Date expressions: the parts of a date and date arithmetic (days, months)."""

from __future__ import annotations

from spark_plugin import _types
from spark_plugin._ir import Call, Expr
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode, short_class

_PARTS = {
    "Year": "year",
    "Month": "month",
    "DayOfMonth": "day",
    "Quarter": "quarter",
    "DayOfWeek": "dayofweek",
    "WeekDay": "weekday",
    "DayOfYear": "dayofyear",
    "WeekOfYear": "weekofyear",
}
#: Day counts Spark takes for date_add / date_sub (an int, short or byte).
_DAYS = frozenset({"byte", "short", "integer"})


@rule(*_PARTS)
def part(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    if args[0].dtype != "date":
        raise tr.fail(f"{name} of {args[0].dtype} is not offloaded")
    return Call(_PARTS[name], tuple(args), "integer")


@rule("DateAdd", "DateSub")
def add_days(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    start, days = args[0], args[1]
    if start.dtype != "date" or days.dtype not in _DAYS:
        raise tr.fail(f"{name} of {start.dtype} and {days.dtype} is not offloaded")
    return Call("date_add", (start, days), "date", (name == "DateSub",))


@rule("DateDiff")
def date_diff(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    end, start = args[0], args[1]
    if end.dtype != "date" or start.dtype != "date":
        raise tr.fail(f"datediff of {end.dtype} and {start.dtype} is not offloaded")
    return Call("date_diff", (end, start), "integer")


@rule("AddMonths")
def add_months(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    start, months = args[0], args[1]
    if start.dtype != "date" or months.dtype not in _types.INTEGRAL or months.dtype == "long":
        raise tr.fail(f"add_months of {start.dtype} and {months.dtype} is not offloaded")
    return Call("add_months", (start, months), "date")


@rule("LastDay")
def last_day(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if args[0].dtype != "date":
        raise tr.fail(f"last_day of {args[0].dtype} is not offloaded")
    return Call("last_day", (args[0],), "date")
