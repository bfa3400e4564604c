"""String operators: LIKE (``_like``), prefix/suffix/contains, substring, case, length, concat,
trim, replace, lpad/rpad."""

from __future__ import annotations

import polars as pl

from spark_plugin import _like
from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call, Lit


@op("like")
def like(c: ExprCompiler, e: Call) -> pl.Expr:
    pattern = e.args[1]
    assert isinstance(pattern, Lit)
    return _like.like(c.let(c.expr(e.args[0])), str(pattern.value), e.options[0])


@op("startswith", "endswith", "contains")
def predicate(c: ExprCompiler, e: Call) -> pl.Expr:
    needle = e.args[1]
    assert isinstance(needle, Lit)
    if needle.value is None:
        return pl.lit(None, dtype=pl.Boolean)
    x = c.expr(e.args[0])
    if e.op == "startswith":
        return x.str.starts_with(needle.value)
    if e.op == "endswith":
        return x.str.ends_with(needle.value)
    return x.str.contains(needle.value, literal=True)


@op("substring")
def substring(c: ExprCompiler, e: Call) -> pl.Expr:
    """Spark's 1-based ``substring(str, pos, len)``; pos 0 acts as 1, negative counts back."""
    args = e.args
    literal = [a.value if isinstance(a, Lit) else False for a in args[1:]]
    if (
        isinstance(literal[0], int)
        and literal[0] >= 0
        and (len(literal) == 1 or isinstance(literal[1], int))
    ):
        # Bounds known here: a slice with literal bounds (cudf-polars takes only those).
        length = max(0, literal[1]) if len(literal) > 1 else None
        return c.expr(args[0]).str.slice(max(0, literal[0] - 1), length)
    s = c.let(c.expr(args[0]))
    pos = c.let(c.expr(args[1]).cast(pl.Int64))
    length_expr = c.expr(args[2]).cast(pl.Int64) if len(args) > 2 else pl.lit(2**31 - 1, pl.Int64)
    size_asked = c.let(length_expr)
    n = s.str.len_chars().cast(pl.Int64)
    start = c.let(pl.when(pos > 0).then(pos - 1).when(pos < 0).then(n + pos).otherwise(0))
    end = start + size_asked
    begin = pl.max_horizontal(start, pl.lit(0, pl.Int64))
    size = pl.max_horizontal(end - begin, pl.lit(0, pl.Int64))
    sliced = s.str.slice(begin, size)
    return pl.when(s.is_null() | pos.is_null() | size_asked.is_null()).then(None).otherwise(sliced)


@op("upper", "lower")
def case(c: ExprCompiler, e: Call) -> pl.Expr:
    x = c.expr(e.args[0])
    return x.str.to_uppercase() if e.op == "upper" else x.str.to_lowercase()


@op("length")
def length(c: ExprCompiler, e: Call) -> pl.Expr:
    return c.expr(e.args[0]).str.len_chars().cast(pl.Int32)


@op("concat")
def concat(c: ExprCompiler, e: Call) -> pl.Expr:
    return pl.concat_str([c.expr(a) for a in e.args], ignore_nulls=False)


@op("trim", "ltrim", "rtrim")
def trim(c: ExprCompiler, e: Call) -> pl.Expr:
    chars = " "
    if len(e.args) > 1:
        given = e.args[1]
        assert isinstance(given, Lit)
        if given.value is None:
            return pl.lit(None, dtype=pl.String)
        chars = str(given.value)
    x = c.expr(e.args[0])
    if not chars:
        return x  # Polars would strip whitespace; Spark strips nothing
    if e.op == "ltrim":
        return x.str.strip_chars_start(chars)
    if e.op == "rtrim":
        return x.str.strip_chars_end(chars)
    return x.str.strip_chars(chars)


@op("replace")
def replace(c: ExprCompiler, e: Call) -> pl.Expr:
    """Spark's ``replace``: an empty search string leaves the string as it is."""
    search, replacement = e.args[1], e.args[2]
    assert isinstance(search, Lit)
    assert isinstance(replacement, Lit)
    if search.value is None or replacement.value is None:
        return pl.lit(None, dtype=pl.String)
    x = c.expr(e.args[0])
    if search.value == "":
        return x
    return x.str.replace_all(str(search.value), str(replacement.value), literal=True)


@op("lpad", "rpad")
def pad(c: ExprCompiler, e: Call) -> pl.Expr:
    """``lpad(s, n, p)``: n <= 0 gives ''; a longer s (or an empty pad) is cut to n characters."""
    length, filler = e.args[1], e.args[2]
    assert isinstance(length, Lit)
    assert isinstance(filler, Lit)
    if length.value is None or filler.value is None:
        return pl.lit(None, dtype=pl.String)
    n = max(0, int(length.value))
    s = c.let(c.expr(e.args[0]))
    cut = s.str.slice(0, n)
    if filler.value == "":
        return cut
    padded = s.str.pad_start(n, filler.value) if e.op == "lpad" else s.str.pad_end(n, filler.value)
    return pl.when(s.str.len_chars() >= n).then(cut).otherwise(padded)
