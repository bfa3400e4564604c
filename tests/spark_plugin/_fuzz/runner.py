"""Run one query with plain Spark and with the plugin, and compare the answers."""

from __future__ import annotations

import decimal
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import spark_plugin
from spark_plugin import _hook, _plan

from .queries import Query

#: Floats: relative tolerance (Polars and Spark add in different orders), and an absolute one
#: for results that cancel to about zero.
REL_TOL = 1e-9
ABS_TOL = 1e-9


@dataclass(slots=True)
class Tally:
    """Counts over a fuzz run, and each mismatch with what reproduces it."""

    counts: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)

    def line(self) -> str:
        c = self.counts
        return (
            f"fuzz: {c['queries']} queries ({c['runs']} runs over both ANSI settings), "
            f"{c['invalid']} rejected by Spark's analyzer, {c['offloaded']} runs offloaded, "
            f"{c['equal']} equal, {c['both_raised']} both raised, {c['fallback']} left to Spark, "
            f"{len(self.mismatches)} mismatches"
        )


def _same(a: Any, b: Any, zero_sign_free: bool) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if a == 0 and b == 0 and not zero_sign_free:
            return math.copysign(1, a) == math.copysign(1, b)
        return a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        return str(a) == str(b)  # the scale too
    return type(a) is type(b) and bool(a == b)


def _key(row: Any, zero_sign_free: bool) -> tuple[tuple[int, str], ...]:
    # Where the sign of zero is compared, it is part of the order too: rows that differ only
    # in it must pair up the same way on both sides.
    def text(v: Any) -> str:
        return repr(v + 0.0 if isinstance(v, float) and zero_sign_free else v)

    return tuple((0, "") if v is None else (1, text(v)) for v in row)


def compare(plain: list[Any], offloaded: list[Any], query: Query) -> str:
    """ "" when the rows agree, else what differs."""
    if len(plain) != len(offloaded):
        return f"{len(plain)} rows from Spark, {len(offloaded)} offloaded"

    def key(row: Any) -> tuple[tuple[int, str], ...]:
        return _key(row, query.zero_sign_free)

    left = plain if query.ordered else sorted(plain, key=key)
    right = offloaded if query.ordered else sorted(offloaded, key=key)
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        if len(a) != len(b) or not all(
            _same(x, y, query.zero_sign_free) for x, y in zip(a, b, strict=True)
        ):
            return f"row {index}: Spark {tuple(a)} vs offloaded {tuple(b)}"
    return ""


def _collect(df: Any) -> tuple[list[Any] | None, str]:
    try:
        return df.collect(), ""
    except Exception as exc:  # any error Spark raises is an answer to compare
        return None, type(exc).__name__


def run(spark: Any, query: Query, tally: Tally, label: str) -> None:
    """Both ANSI settings: plain Spark, then the plugin (not strict: a fallback is Spark's own
    answer, counted as such). Mismatches go to ``tally`` with ``label`` to reproduce them."""
    tally.counts["queries"] += 1
    for ansi in (True, False):
        spark.conf.set("spark.sql.ansi.enabled", str(ansi).lower())
        try:
            df = spark.sql(query.sql)
        except Exception:  # not a valid query (the generator's types do not always agree)
            tally.counts["invalid"] += 1
            return
        tally.counts["runs"] += 1
        plain, plain_error = _collect(df)
        try:
            offloadable = _plan.decide(df).offloaded
        except Exception:  # Spark's optimizer raised (constant folding under ANSI)
            offloadable = False
        if not offloadable:
            tally.counts["fallback"] += 1
            continue
        spark_plugin.enable(spark)
        try:
            offloaded, offloaded_error = _collect(df)
        finally:
            spark_plugin.disable(spark)
        if not _hook.STATS.last_offloaded:
            # The offloaded run failed and Spark answered (or raised, as it did alone).
            tally.counts["both_raised" if plain is None else "fallback"] += 1
            continue
        tally.counts["offloaded"] += 1
        where = f"{label} ansi={ansi}: {query.sql}"
        if plain is None or offloaded is None:
            if plain is None and offloaded is None:
                tally.counts["both_raised"] += 1
            else:
                tally.mismatches.append(
                    f"{where}\n  Spark raised {plain_error or '-'}, plugin {offloaded_error or '-'}"
                )
            continue
        difference = compare(plain, offloaded, query)
        if difference:
            tally.mismatches.append(f"{where}\n  {difference}")
        else:
            tally.counts["equal"] += 1
    spark.conf.set("spark.sql.ansi.enabled", "true")
