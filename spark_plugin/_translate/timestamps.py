"""Timestamp expressions: the session time zone, casts among date / timestamp / long, literals,
fields and truncation.

A zone is passed to the compiler as ``"UTC"``, a fixed offset ``"+05:30"`` or an IANA region
name that Polars' time zone database knows; Java's short ids (``PST``, ``EST``: Java maps them to
other rules than the IANA zones of those names) and anything else are refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import polars as pl

from spark_plugin._ir import Call, Expr, Lit
from spark_plugin._translate.exprs import ExprTranslator, rule
from spark_plugin._translate.nodes import JsonNode, short_class

_UTC_NAMES = frozenset({"UTC", "GMT", "UT", "Z", "Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Zulu"})
_FIXED = re.compile(r"(?:UTC|GMT|UT)?([+-])(\d\d):(\d\d)")
_REGION = re.compile(r"[A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+")
#: How Spark prints a timestamp literal (in the session zone): years 0001-9999 only.
_LITERAL = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?")
_EPOCH = dt.datetime(1970, 1, 1)

#: date_trunc levels (Spark's ``DateTimeUtils.parseTruncLevel``); trunc takes WEEK and up.
TRUNC_LEVELS = {
    "MICROSECOND": "microsecond",
    "MILLISECOND": "millisecond",
    "SECOND": "second",
    "MINUTE": "minute",
    "HOUR": "hour",
    "DAY": "day",
    "DD": "day",
    "WEEK": "week",
    "MON": "month",
    "MONTH": "month",
    "MM": "month",
    "QUARTER": "quarter",
    "YEAR": "year",
    "YYYY": "year",
    "YY": "year",
}
DATE_LEVELS = frozenset({"week", "month", "quarter", "year"})


@functools.cache
def _polars_knows(zone: str) -> bool:
    try:
        pl.Series([0], dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone(zone)
    except pl.exceptions.PolarsError:
        return False
    return True


def normalized_zone(zone: str) -> str | None:
    """``zone`` as the compiler takes it, or None when we do not reproduce Java's rules for it."""
    if zone in _UTC_NAMES:
        return "UTC"
    fixed = _FIXED.fullmatch(zone)
    if fixed is not None:
        sign, hours, minutes = fixed.groups()
        if int(hours) > 18 or int(minutes) > 59:
            return None
        return "UTC" if hours == minutes == "00" else f"{sign}{hours}:{minutes}"
    if _REGION.fullmatch(zone) and _polars_knows(zone):
        return zone
    return None


def zone_of(tr: ExprTranslator, node: JsonNode) -> str:
    """The zone an expression runs in: its own ``timeZoneId`` (fixed when the DataFrame was
    analyzed), else the session's."""
    zone = node.get("timeZoneId") or tr._settings.time_zone
    normalized = normalized_zone(str(zone))
    if normalized is None:
        raise tr.fail(f"time zone {zone} is not offloaded")
    return normalized


def literal_micros(tr: ExprTranslator, text: str) -> int:
    """A timestamp literal as UTC microseconds. Spark prints it in the session zone; a local time
    the zone passes twice (DST overlap) names two instants, so it is refused."""
    match = _LITERAL.fullmatch(text)
    if match is None:
        raise tr.fail(f"timestamp literal {text} is not offloaded")
    y, mo, d, h, mi, s = (int(g) for g in match.groups()[:6])
    fraction = int((match.group(7) or "0").ljust(6, "0"))
    local = (dt.datetime(y, mo, d, h, mi, s) - _EPOCH) // dt.timedelta(microseconds=1) + fraction
    zone = normalized_zone(tr._settings.time_zone)
    if zone is None:
        raise tr.fail(f"time zone {tr._settings.time_zone} is not offloaded")
    if zone == "UTC":
        return local
    fixed = _FIXED.fullmatch(zone)
    if fixed is not None:
        sign, hours, minutes = fixed.groups()
        offset = (int(hours) * 3600 + int(minutes) * 60) * 1_000_000
        return local - offset if sign == "+" else local + offset
    naive = pl.Series([local], dtype=pl.Int64).cast(pl.Datetime("us"))
    try:
        utc = naive.dt.replace_time_zone(zone, ambiguous="raise", non_existent="raise")
    except pl.exceptions.PolarsError:
        raise tr.fail(f"timestamp literal {text} is ambiguous in {zone}; not offloaded") from None
    value = utc.cast(pl.Int64).item()
    assert isinstance(value, int)
    return value


@rule("Literal:timestamp")
def literal(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    value = node.get("value")
    if value is None:
        return Lit(None, "timestamp")
    return Lit(literal_micros(tr, str(value)), "timestamp")


@rule("Cast:timestamp")
def cast(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    """Casts from and to timestamp: date, long and double (seconds); the rest is refused."""
    arg, source, target = args[0], args[0].dtype, node["dataType"]
    if source == target:
        return arg
    if (source, target) == ("timestamp", "date"):
        return Call("ts_to_date", (arg,), "date", (zone_of(tr, node),))
    if (source, target) == ("date", "timestamp"):
        return Call("date_to_ts", (arg,), "timestamp", (zone_of(tr, node),))
    if source == "timestamp" and target in ("long", "double"):
        return Call("ts_seconds", (arg,), target)
    if source == "null":
        return Lit(None, target)
    raise tr.fail(f"cast from {source} to {target} is not offloaded")


_FIELDS = {"Hour": "hour", "Minute": "minute", "Second": "second"}


@rule(*_FIELDS)
def field(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    name = short_class(node)
    if args[0].dtype != "timestamp":
        raise tr.fail(f"{name} of {args[0].dtype} is not offloaded")
    return Call("ts_field", (args[0],), "integer", (_FIELDS[name], zone_of(tr, node)))


def _trunc_level(tr: ExprTranslator, fmt: Expr, what: str) -> str | None:
    if not isinstance(fmt, Lit) or fmt.dtype not in ("string", "null"):
        raise tr.fail(f"{what} with a format that is not a literal is not offloaded")
    if fmt.value is None:
        return None
    return TRUNC_LEVELS.get(str(fmt.value).upper())


@rule("TruncTimestamp")
def trunc_timestamp(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    fmt, ts = args[0], args[1]
    if ts.dtype != "timestamp":
        raise tr.fail(f"date_trunc of {ts.dtype} is not offloaded")
    level = _trunc_level(tr, fmt, "date_trunc")
    if level is None:
        return Lit(None, "timestamp")  # Spark: NULL for an unknown level
    return Call("ts_trunc", (ts,), "timestamp", (level, zone_of(tr, node)))


@rule("TruncDate")
def trunc_date(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    date, fmt = args[0], args[1]
    if date.dtype != "date":
        raise tr.fail(f"trunc of {date.dtype} is not offloaded")
    level = _trunc_level(tr, fmt, "trunc")
    if level not in DATE_LEVELS:
        return Lit(None, "date")  # Spark: NULL for a level below WEEK or unknown
    return Call("date_trunc", (date,), "date", (level,))


@rule("UnixTimestamp", "ToUnixTimestamp")
def unix_timestamp(tr: ExprTranslator, node: JsonNode, args: list[Expr]) -> Expr:
    value = args[0]
    if value.dtype == "timestamp":  # the format is not used for a timestamp
        return Call("ts_seconds", (value,), "long", ("toward_zero",))
    if value.dtype == "date":
        as_ts = Call("date_to_ts", (value,), "timestamp", (zone_of(tr, node),))
        return Call("ts_seconds", (as_ts,), "long")
    raise tr.fail(f"{short_class(node)} of {value.dtype} is not offloaded")
