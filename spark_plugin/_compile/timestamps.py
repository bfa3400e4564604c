"""Timestamp operators in a session time zone, as Java's ``ZonedDateTime`` resolves local times.

A timestamp is its UTC instant (``Datetime("us", "UTC")``). Local wall times are naive
``Datetime("us")``. From a local time back to an instant: in a DST overlap the earlier offset
(``ZonedDateTime.of``, ``LocalDate.atStartOfDay``), or the offset the value had when it still
is one of the two (``ZonedDateTime.truncatedTo``); a local time in a DST gap fails the stage
(Java moves it forward by the gap, which we do not reproduce), so Spark answers it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import polars as pl

from spark_plugin._compile.dates import FIRST_DAY, LAST_DAY, days_from_civil, truncate
from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call

_FIXED = re.compile(r"([+-])(\d\d):(\d\d)")
_MICROS_PER_DAY = 86_400_000_000
#: The instants of 0001-01-01T00:00Z and of the last microsecond of 9999-12-31 (UTC).
_FIRST_MICROS = FIRST_DAY * _MICROS_PER_DAY
_LAST_MICROS = (LAST_DAY + 1) * _MICROS_PER_DAY - 1
_UTC = pl.Datetime("us", "UTC")


def _offset_micros(zone: str) -> int | None:
    """A fixed-offset zone's offset (``"+05:30"``), None for a region zone; "UTC" is 0."""
    if zone == "UTC":
        return 0
    fixed = _FIXED.fullmatch(zone)
    if fixed is None:
        return None
    sign, hours, minutes = fixed.groups()
    micros = (int(hours) * 3600 + int(minutes) * 60) * 1_000_000
    return micros if sign == "+" else -micros


#: Polars' zone rules (chrono-tz) hold DST transitions up to 2099 only; Java extends a zone's
#: last rules forever. From 2100 on, a value is computed in the year of 2072-2099 with the same
#: calendar (leap or not, weekday of 1 January): (leap, weekday) -> that year.
_LAST_RULES_YEAR = 2099
_SAME_CALENDAR = {
    (leap, weekday): year
    for year in range(_LAST_RULES_YEAR, 2071, -1)
    for leap, weekday in [(year % 4 == 0, dt.date(year, 1, 1).weekday())]
}


@functools.cache
def _rules_repeat(zone: str) -> bool:
    """Whether ``zone``'s transitions in 2072-2099 are those of 2044-2071 moved 28 years (the
    same calendar): its last rules, not year-by-year ones (Casablanca's Ramadan changes)."""
    hours = 28 * 365 * 24
    first = dt.datetime(2044, 1, 1)
    earlier = pl.datetime_range(
        first, first + dt.timedelta(hours=hours), "1h", eager=True, time_unit="us", time_zone="UTC"
    )
    later = earlier.dt.offset_by("28y")
    offsets = [
        (s.dt.convert_time_zone(zone).dt.replace_time_zone(None) - s.dt.replace_time_zone(None))
        for s in (earlier, later)
    ]
    return bool((offsets[0] == offsets[1]).all())


def _days_to_same_calendar(c: ExprCompiler, year: pl.Expr) -> pl.Expr:
    """Days from 1 January of ``year`` to 1 January of its stand-in year (0 up to 2099)."""
    year = c.let(year.cast(pl.Int64))
    jan1 = c.let(days_from_civil(year, pl.lit(1, pl.Int64), pl.lit(1, pl.Int64)))
    weekday = (jan1 + 3) % 7  # 1970-01-01 was a Thursday (3, Monday is 0)
    leap = c.let(((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0))
    stand_in: Any = pl
    for (is_leap, day), target in _SAME_CALENDAR.items():
        stand_in = stand_in.when(leap.eq(is_leap) & weekday.eq(day)).then(
            pl.lit((dt.date(target, 1, 1) - dt.date(1970, 1, 1)).days, pl.Int64)
        )
    moved = stand_in.otherwise(jan1) - jan1
    return pl.when(year > _LAST_RULES_YEAR).then(moved).otherwise(pl.lit(0, pl.Int64))


def _shift(value: pl.Expr, days: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return (value.dt.epoch("us") + days * _MICROS_PER_DAY).cast(dtype)


def _past_rules_guard(c: ExprCompiler, value: pl.Expr, zone: str) -> pl.Expr:
    """``value`` for a zone whose last rules we cannot extend: values from 2100 on fail."""
    value = c.let(value)
    return c.guard(value, value.dt.year() > _LAST_RULES_YEAR, "past_time_zone_rules")


def to_local(c: ExprCompiler, ts: pl.Expr, zone: str) -> pl.Expr:
    """The wall time in ``zone`` of the instant ``ts``."""
    offset = _offset_micros(zone)
    if offset is None:
        if not _rules_repeat(zone):
            ts = _past_rules_guard(c, ts, zone)
            return ts.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        ts = c.let(ts)
        days = c.let(_days_to_same_calendar(c, ts.dt.year()))
        moved = _shift(ts, days, _UTC).dt.convert_time_zone(zone).dt.replace_time_zone(None)
        return _shift(moved, -days, pl.Datetime("us"))
    naive = ts.dt.replace_time_zone(None)
    return naive + pl.duration(microseconds=offset) if offset else naive


def _fixed_instant(local: pl.Expr, offset: int) -> pl.Expr:
    shifted = local - pl.duration(microseconds=offset) if offset else local
    return shifted.dt.replace_time_zone("UTC")


def from_local(c: ExprCompiler, local: pl.Expr, zone: str) -> pl.Expr:
    """The instant of the wall time ``local`` in ``zone``: the earlier one in an overlap; a gap
    fails the stage."""
    offset = _offset_micros(zone)
    if offset is not None:
        return _fixed_instant(local, offset)
    local = c.let(local)
    days: pl.Expr = pl.lit(0, pl.Int64)
    if _rules_repeat(zone):
        days = c.let(_days_to_same_calendar(c, local.dt.year()))
        moved = _shift(local, days, pl.Datetime("us"))
    else:
        moved = _past_rules_guard(c, local, zone)
    resolved = moved.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    instant = c.let(_shift(resolved.dt.convert_time_zone("UTC"), -days, _UTC))
    return c.guard(instant, local.is_not_null() & instant.is_null(), "local_time_in_dst_gap")


def _from_local_keeping(
    c: ExprCompiler, local: pl.Expr, ts: pl.Expr, old_local: pl.Expr, zone: str
) -> pl.Expr:
    """``from_local`` where the instant ``ts`` (wall time ``old_local``) keeps its offset when
    that offset is still valid for ``local`` (``ZonedDateTime.truncatedTo`` in an overlap)."""
    offset = _offset_micros(zone)
    if offset is not None:
        return _fixed_instant(local, offset)
    local = c.let(local)
    kept = c.let((local - (old_local - ts.dt.replace_time_zone(None))).dt.replace_time_zone("UTC"))
    return (
        pl.when(to_local(c, kept, zone) == local).then(kept).otherwise(from_local(c, local, zone))
    )


def _in_range(c: ExprCompiler, ts: pl.Expr) -> pl.Expr:
    micros = c.let(ts.dt.epoch("us"))
    outside = (micros < _FIRST_MICROS) | (micros > _LAST_MICROS)
    return c.guard(ts, outside, "timestamp_out_of_range")


@op("ts_field")
def field(c: ExprCompiler, e: Call) -> pl.Expr:
    part, zone = e.options
    local = to_local(c, c.expr(e.args[0]), zone)
    values = {"hour": local.dt.hour, "minute": local.dt.minute, "second": local.dt.second}
    return values[part]().cast(pl.Int32)


@op("ts_to_date")
def to_date(c: ExprCompiler, e: Call) -> pl.Expr:
    return to_local(c, c.expr(e.args[0]), e.options[0]).dt.date()


@op("date_to_ts")
def from_date(c: ExprCompiler, e: Call) -> pl.Expr:
    """``LocalDate.atStartOfDay(zone)``: midnight, the earlier one where the zone repeats it."""
    midnight = c.expr(e.args[0]).cast(pl.Datetime("us"))
    return from_local(c, midnight, e.options[0])


@op("ts_seconds")
def seconds(c: ExprCompiler, e: Call) -> pl.Expr:
    micros = c.let(c.expr(e.args[0]).dt.epoch("us"))
    if e.dtype == "double":  # micros / 1e6 in doubles, as Spark's timestampToDouble
        return micros.cast(pl.Float64) / 1_000_000.0
    floor = micros // 1_000_000  # Math.floorDiv (the cast): Polars' // floors
    if e.options and e.options[0] == "toward_zero":  # unix_timestamp: Java's long division
        return floor + ((micros < 0) & (micros % 1_000_000 != 0)).cast(pl.Int64)
    return floor


_UNITS = {"minute": "1m", "hour": "1h", "day": "1d"}
_SUB_SECOND = {"microsecond": 1, "millisecond": 1_000, "second": 1_000_000}


@op("ts_trunc")
def trunc(c: ExprCompiler, e: Call) -> pl.Expr:
    """``DateTimeUtils.truncTimestamp``: below a minute on the instant (zone offsets are whole
    seconds); minute, hour, day by ``ZonedDateTime.truncatedTo``; week and up on the local
    date, back at its start of day."""
    level, zone = e.options
    ts = c.let(c.expr(e.args[0]))
    if level in _SUB_SECOND:
        unit = _SUB_SECOND[level]
        micros = ts.dt.epoch("us")
        return (micros - micros % unit).cast(_UTC)  # Polars' % is a floor modulo
    local = c.let(to_local(c, ts, zone))
    if level in _UNITS:
        return _from_local_keeping(c, local.dt.truncate(_UNITS[level]), ts, local, zone)
    start = truncate(c, local.dt.date(), level).cast(pl.Datetime("us"))
    return _in_range(c, from_local(c, start, zone))


@op("date_trunc")
def trunc_date(c: ExprCompiler, e: Call) -> pl.Expr:
    return truncate(c, c.expr(e.args[0]), e.options[0])
