"""String expressions: LIKE, prefix/suffix/contains, substring, case, length, concat, trim,
replace, lpad/rpad."""

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


_TRIMS = {"StringTrim": "trim", "StringTrimLeft": "ltrim", "StringTrimRight": "rtrim"}


@rule(*_TRIMS)
def trim(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    """``trim(s)`` drops spaces (U+0020 only); ``TRIM(BOTH 'xy' FROM s)`` any of the characters
    of a literal."""
    if len(args) > 1 and not isinstance(args[1], Lit):
        raise tr.fail("TRIM with a non-literal trim string is not offloaded")
    return Call(_TRIMS[short_class(node)], tuple(args), "string")


@rule("StringReplace")
def replace(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    if not all(isinstance(a, Lit) for a in args[1:]):
        raise tr.fail("replace with a non-literal search or replacement is not offloaded")
    return Call("replace", tuple(args), "string")


@rule("StringLPad", "StringRPad")
def pad(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    length, filler = args[1], args[2]
    if args[0].dtype != "string":
        raise tr.fail(f"{name} of {args[0].dtype} is not offloaded")
    if not isinstance(length, Lit) or not isinstance(filler, Lit):
        raise tr.fail(f"{name} with a non-literal length or pad is not offloaded")
    if filler.value is not None and len(str(filler.value)) > 1:
        raise tr.fail(f"{name} with a pad of several characters is not offloaded")
    return Call("lpad" if name == "StringLPad" else "rpad", tuple(args), "string")
