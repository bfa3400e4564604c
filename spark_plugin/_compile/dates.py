"""Date operators: the parts of a date and date arithmetic, as Java's ``LocalDate`` computes them
(proleptic Gregorian calendar). Results outside years 0001-9999 fail the stage (see ``guard``):
Spark's own answer there is left to Spark."""

from __future__ import annotations

import polars as pl

from spark_plugin._compile.exprs import ExprCompiler, op
from spark_plugin._ir import Call

#: Days since 1970-01-01 of 0001-01-01 and of 9999-12-31.
FIRST_DAY, LAST_DAY = -719_162, 2_932_896


@op("year", "month", "day", "quarter", "dayofweek", "weekday", "dayofyear", "weekofyear")
def part(c: ExprCompiler, e: Call) -> pl.Expr:
    x = c.expr(e.args[0])
    if e.op == "dayofweek":  # Spark: 1 = Sunday ... 7 = Saturday; Polars: 1 = Monday ... 7
        return (x.dt.weekday().cast(pl.Int32) % 7 + 1).cast(pl.Int32)
    if e.op == "weekday":  # Spark: 0 = Monday ... 6 = Sunday
        return (x.dt.weekday().cast(pl.Int32) - 1).cast(pl.Int32)
    parts = {
        "year": x.dt.year,
        "month": x.dt.month,
        "day": x.dt.day,
        "quarter": x.dt.quarter,
        "dayofyear": x.dt.ordinal_day,
        "weekofyear": x.dt.week,  # ISO 8601 weeks, as Spark's WeekOfYear
    }
    return parts[e.op]().cast(pl.Int32)


def in_range_date(c: ExprCompiler, days: pl.Expr) -> pl.Expr:
    """Days since the epoch (Int64) as a Date, failing the stage outside years 0001-9999."""
    days = c.let(days)
    outside = (days < FIRST_DAY) | (days > LAST_DAY)
    return c.guard(days, outside, "date_out_of_range").cast(pl.Int32).cast(pl.Date)


def epoch_days(date: pl.Expr) -> pl.Expr:
    return date.cast(pl.Int32).cast(pl.Int64)


@op("date_add")
def add_days(c: ExprCompiler, e: Call) -> pl.Expr:
    start, days = epoch_days(c.expr(e.args[0])), c.expr(e.args[1]).cast(pl.Int64)
    return in_range_date(c, start - days if e.options[0] else start + days)


@op("date_diff")
def date_diff(c: ExprCompiler, e: Call) -> pl.Expr:
    # Both in years 0001-9999: the difference fits an int.
    return (epoch_days(c.expr(e.args[0])) - epoch_days(c.expr(e.args[1]))).cast(pl.Int32)


def days_from_civil(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's ``days_from_civil``),
    integer arithmetic only (cudf-polars takes no ``pl.date`` of columns). Int64 inputs."""
    y = year - (month <= 2).cast(pl.Int64)
    era = y // 400  # Polars' // floors
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    february = pl.when(leap).then(pl.lit(29, pl.Int64)).otherwise(pl.lit(28, pl.Int64))
    thirty = month.is_in([4, 6, 9, 11])
    return (
        pl.when(month == 2)
        .then(february)
        .when(thirty)
        .then(pl.lit(30, pl.Int64))
        .otherwise(pl.lit(31, pl.Int64))
    )


@op("add_months")
def add_months(c: ExprCompiler, e: Call) -> pl.Expr:
    """``LocalDate.plusMonths``: the day of month clamped to the new month's last day."""
    date = c.let(c.expr(e.args[0]))
    months = c.let(c.expr(e.args[1]).cast(pl.Int64))
    total = c.let(date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1 + months)
    year = c.let(total // 12)
    month = c.let(total % 12 + 1)
    day = pl.min_horizontal(date.dt.day().cast(pl.Int64), days_in_month(year, month))
    # A year far outside 0001-9999 would overflow the day count: clamp it first (the guard
    # then fails the stage on it anyway).
    safe_year = year.clip(-1_000_000, 1_000_000)
    return in_range_date(c, days_from_civil(safe_year, month, day))


def truncate(c: ExprCompiler, date: pl.Expr, level: str) -> pl.Expr:
    """The first day of ``date``'s week (Monday), month, quarter or year (Spark's ``truncDate``),
    in integer arithmetic: cudf-polars takes no calendar buckets in ``dt.truncate``."""
    date = c.let(date)
    days = epoch_days(date)
    if level == "week":
        start = days - (date.dt.weekday().cast(pl.Int64) - 1)
    elif level == "month":
        start = days - (date.dt.day().cast(pl.Int64) - 1)
    else:
        month = date.dt.month().cast(pl.Int64)
        first = (month - 1) // 3 * 3 + 1 if level == "quarter" else pl.lit(1, pl.Int64)
        start = days_from_civil(date.dt.year().cast(pl.Int64), first, pl.lit(1, pl.Int64))
    return start.cast(pl.Int32).cast(pl.Date)


@op("last_day")
def last_day(c: ExprCompiler, e: Call) -> pl.Expr:
    return c.expr(e.args[0]).dt.month_end()
