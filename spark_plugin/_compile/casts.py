"""Casts from and to strings, with Spark's parsing rules spelled out as Polars string operations.

Spark trims different characters for different targets (measured, see
tests/spark_plugin/test_string_casts.py): integers, booleans and dates drop the bytes
0x00-0x20 and 0x7F at both ends (``UTF8String``'s ``isWhitespaceOrISOControl``); doubles and
decimals go through ``java.lang.String.trim``, which drops 0x00-0x20 only. No Unicode space is
trimmed. ANSI mode raises where the legacy mode gives NULL; a form Spark accepts that we do not
compute (hexadecimal doubles, decimals with an exponent, dates with signed or long years)
fails the stage, so that the action reruns on Spark, under both settings.
"""

from __future__ import annotations

import polars as pl

from spark_plugin import _numeric as num
from spark_plugin import _types
from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call

#: Characters UTF8String's integer, boolean and date parsers trim.
TRIM_CONTROLS = "".join(chr(c) for c in range(0x21)) + "\x7f"
#: Characters ``java.lang.String.trim`` drops (double and decimal parsing).
TRIM_JAVA = "".join(chr(c) for c in range(0x21))

_INT_ANSI = r"^[+-]?[0-9]+$"
#: Legacy mode truncates a fractional part (which must be digits): ``1.9``, ``.5``, ``-.``.
_INT_LEGACY = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]*)$"
#: ``Double.parseDouble``'s decimal form (a type suffix allowed), and Java's own spellings.
_DOUBLE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?$"
_DOUBLE_JAVA_SPECIAL = r"^[+-]?(NaN|Infinity)$"
_DOUBLE_HEX = r"^[+-]?0[xX]"
#: ``java.math.BigDecimal``'s form without an exponent.
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
_DECIMAL_EXPONENT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"
_NON_ASCII = r"[^\x00-\x7f]"
#: An ASCII character that no number has (anything but digits, signs, ``.``, ``e``, ``E``).
_ASCII_NOT_NUMERIC = r"[\x00-\x2a\x2c\x2f\x3a-\x44\x46-\x64\x66-\x7f]"
_TRUE = ["t", "true", "y", "yes", "1"]
_FALSE = ["f", "false", "n", "no", "0"]
#: Dates we compute: a four-digit year, then optionally month and day of one or two digits,
#: then (after the day) a space or ``T`` and anything.
_DATE = r"^[0-9]{4}($|-[0-9]{1,2}($|-[0-9]{1,2}($|[ T])))"
#: What else Spark accepts (a signed year, a year of five to seven digits): left to Spark.
_DATE_MAYBE = r"^([+-][0-9]{4,7}|[+-]?[0-9]{5,7})($|-)"


def _fail_or_null(
    c: ExprCompiler,
    value: pl.Expr,
    source: pl.Expr,
    bad: pl.Expr,
    ansi: bool,
    to_spark: pl.Expr | None = None,
) -> pl.Expr:
    """``value``, with NULL (legacy) or a failure (ANSI) where a non-null ``source`` is ``bad``;
    a failure in both modes where ``to_spark`` holds (a form Spark accepts that we do not
    compute). The check is outermost: Polars evaluates a ``then`` branch only on the rows its
    condition selects, so a check inside one would skip rows."""
    bad = source.is_not_null() & bad
    to_spark = pl.lit(False) if to_spark is None else source.is_not_null() & to_spark
    if ansi:
        return c.guard(value, bad | to_spark, "cast_invalid_input")
    value = pl.when(~bad).then(value)
    if to_spark.meta.is_literal():
        return value
    return c.guard(value, to_spark, "cast_form_left_to_spark")


def _to_integral(c: ExprCompiler, s: pl.Expr, target: str, ansi: bool) -> pl.Expr:
    t = c.let(s.str.strip_chars(TRIM_CONTROLS))
    valid = t.str.contains(_INT_ANSI if ansi else _INT_LEGACY)
    if ansi:
        digits = t
    else:
        head = t.str.extract(r"^([+-]?[0-9]*)", 1)
        digits = pl.when(head.str.contains(r"[0-9]")).then(head).otherwise(pl.lit("0"))
    wide = c.let(pl.when(valid).then(digits).cast(pl.Int64, strict=False))
    bits = _types.INT_BITS[target]
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    bad = wide.is_null() if bits == 64 else wide.is_null() | (wide < lo) | (wide > hi)
    value = _fail_or_null(c, wide, t, bad, ansi)
    return value.cast(num.INT_DTYPES[target])


def _to_double(c: ExprCompiler, s: pl.Expr, ansi: bool) -> pl.Expr:
    t = c.let(s.str.strip_chars(TRIM_JAVA))
    lower = t.str.to_lowercase()
    plain = t.str.contains(_DOUBLE)
    parsed = t.str.strip_chars_end("fFdD").cast(pl.Float64, strict=False)
    inf = t.str.contains(r"^[+]?Infinity$") | lower.is_in(["inf", "+inf", "infinity", "+infinity"])
    minus_inf = (t == "-Infinity") | lower.is_in(["-inf", "-infinity"])
    nan = t.str.contains(_DOUBLE_JAVA_SPECIAL) | (lower == "nan")
    value = (
        pl.when(plain)
        .then(parsed)
        .when(inf)
        .then(pl.lit(float("inf")))
        .when(minus_inf)
        .then(pl.lit(float("-inf")))
        .when(nan)
        .then(pl.lit(float("nan")))
    )
    bad = ~(plain | inf | minus_inf | nan)
    return _fail_or_null(c, value, t, bad, ansi, t.str.contains(_DOUBLE_HEX))


def _to_decimal(c: ExprCompiler, s: pl.Expr, target: str, ansi: bool) -> pl.Expr:
    precision, scale = _types.decimal_ps(target)
    t = c.let(s.str.strip_chars(TRIM_JAVA))
    valid = t.str.contains(_DECIMAL)
    negative = t.str.starts_with("-")
    unsigned = t.str.strip_chars_start("+-")
    whole = unsigned.str.extract(r"^0*([0-9]*)", 1)
    fraction = unsigned.str.extract(r"\.([0-9]*)$", 1).fill_null("")
    # The digits kept, and the next one (HALF_UP rounds away from zero on 5 and up).
    kept = fraction.str.pad_end(scale + 1, "0").str.head(scale)
    next_digit = fraction.str.pad_end(scale + 1, "0").str.slice(scale, 1)
    too_long = whole.str.len_chars() > precision - scale
    digits = pl.concat_str([pl.lit("0"), whole, kept])
    magnitude = pl.when(valid & ~too_long).then(digits).cast(num.WIDE, strict=False)
    # At precision 38 a carry past 38 digits makes Polars raise: the action reruns on Spark.
    magnitude = c.let(magnitude + num.one_if(next_digit >= "5"))
    overflow = too_long if precision >= 38 else too_long | (magnitude >= num.pow10(precision))
    value = c.let(pl.when(negative).then(num.neg(magnitude)).otherwise(magnitude))
    # BigDecimal also reads exponents and every Unicode decimal digit (``١٢`` is 12).
    to_spark = t.str.contains(_DECIMAL_EXPONENT) | (
        t.str.contains(_NON_ASCII) & ~t.str.contains(_ASCII_NOT_NUMERIC)
    )
    return _fail_or_null(c, value, t, ~valid | overflow, ansi, to_spark)


def _to_boolean(c: ExprCompiler, s: pl.Expr, ansi: bool) -> pl.Expr:
    t = c.let(s.str.strip_chars(TRIM_CONTROLS).str.to_lowercase())
    yes, no = t.is_in(_TRUE), t.is_in(_FALSE)
    value = pl.when(yes).then(pl.lit(True)).when(no).then(pl.lit(False))
    return _fail_or_null(c, value, t, ~(yes | no), ansi)


def _to_date(c: ExprCompiler, s: pl.Expr, ansi: bool) -> pl.Expr:
    t = c.let(s.str.strip_chars(TRIM_CONTROLS))
    shape = t.str.contains(_DATE)
    year = t.str.slice(0, 4)
    month = t.str.extract(r"^[0-9]{4}-([0-9]{1,2})", 1).fill_null("1").str.zfill(2)
    day = t.str.extract(r"^[0-9]{4}-[0-9]{1,2}-([0-9]{1,2})", 1).fill_null("1").str.zfill(2)
    iso = pl.concat_str([year, pl.lit("-"), month, pl.lit("-"), day])
    date = c.let(
        pl.when(shape).then(iso).str.strptime(pl.Date, "%Y-%m-%d", strict=False, cache=False)
    )
    return _fail_or_null(c, date, t, date.is_null(), ansi, t.str.contains(_DATE_MAYBE))


@op("cast_from_string")
def from_string(c: ExprCompiler, e: Call) -> pl.Expr:
    """CAST(string AS ...); ``e.options[0]``: the ANSI (fail on error) eval mode."""
    (ansi,) = e.options
    s = c.let(c.expr(e.args[0]))
    target = e.dtype
    if target in _types.INTEGRAL:
        return _to_integral(c, s, target, ansi)
    if target == "double":
        return _to_double(c, s, ansi)
    if _types.is_decimal(target):
        return _to_decimal(c, s, target, ansi)
    if target == "boolean":
        return _to_boolean(c, s, ansi)
    if target == "date":
        return _to_date(c, s, ansi)
    raise NotImplementedError(f"cast from string to {target}")


def _decimal_text(c: ExprCompiler, x: pl.Expr, scale: int) -> pl.Expr:
    """Spark's plain notation of an unscaled decimal: every digit of the scale, no exponent."""
    x = c.let(x)
    if scale == 0:
        return x.cast(pl.String)
    digits = c.let(num.abs_(x).cast(pl.String).str.zfill(scale + 1))
    sign = pl.when(x < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, digits.str.head(-scale), pl.lit("."), digits.str.tail(scale)])


@op("cast_to_string")
def to_string(c: ExprCompiler, e: Call) -> pl.Expr:
    """CAST(integer / decimal / boolean / date AS STRING)."""
    source = e.args[0].dtype
    x = c.expr(e.args[0])
    if _types.is_decimal(source):
        return _decimal_text(c, x, _types.decimal_ps(source)[1])
    if source == "boolean":
        return x.cast(pl.String)  # "true" / "false"
    if source == "date":
        x = c.let(x)
        four_digits = (x.dt.year() >= 0) & (x.dt.year() <= 9999)
        text = x.dt.strftime("%Y-%m-%d")
        return c.guard(text, x.is_not_null() & ~four_digits, "date_year_left_to_spark")
    return x.cast(pl.String)
