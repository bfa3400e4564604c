"""String expressions: LIKE, prefix/suffix/contains, substring, case, length, concat."""

from __future__ import annotations

from spark_plugin._ir import Call, Expr, Lit
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode, short_class

_PREDICATES = {"StartsWith": "startswith", "EndsWith": "endswith", "Contains": "contains"}


@rule("Like")
def like(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if not isinstance(args[1], Lit):
        raise tr.fail("LIKE with a non-literal pattern is not offloaded")
    escape = node.get("escapeChar") or "\\"
    return Call("like", tuple(args), "boolean", (str(escape),))


@rule(*_PREDICATES)
def predicate(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    if not isinstance(args[1], Lit):
        raise tr.fail(f"{name} with a non-literal pattern is not offloaded")
    return Call(_PREDICATES[name], tuple(args), "boolean")


@rule("Substring")
def substring(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if args[0].dtype != "string":
        raise tr.fail("substring of binary is not offloaded")
    return Call("substring", tuple(args), "string")


@rule("Upper", "Lower")
def case(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    return Call(short_class(node).lower(), tuple(args), "string")


@rule("Length")
def length(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if args[0].dtype != "string":
        raise tr.fail("length of binary is not offloaded")
    return Call("length", tuple(args), "integer")


@rule("Concat")
def concat(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if any(a.dtype != "string" for a in args):
        raise tr.fail("concat of non-strings is not offloaded")
    return Call("concat", tuple(args), "string")
