"""Spark's Expand offloaded: ROLLUP, CUBE, GROUPING SETS, several DISTINCT aggregates (issue 11).

Every query is compared with plain Spark under both ANSI settings, offloaded (strict), over the
corner-case table ``t`` of conftest (NULL keys, NaN and -0.0, extremes, unicode) and the empty
``e``; a fixed-seed batch of ``_fuzz/expand.py`` compares random ones.
"""

from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _hook, _ir, _stages

from ._fuzz import data, runner
from ._fuzz import expand as expand_queries
from .conftest import run_both

pytestmark = pytest.mark.usefixtures("tables")

GROUPING_SETS = {
    "rollup": "SELECT k, s, grouping(k), grouping_id(), sum(m), count(*) FROM t GROUP BY ROLLUP(k, s)",
    # NULL-valued real keys and the rolled-up NULLs are different groups (their grouping ids).
    "cube_null_keys": "SELECT k, b, grouping_id(), count(*), max(s) FROM t GROUP BY CUBE(k, b)",
    "sets_with_empty": (
        "SELECT k, m, grouping(m), count(*), avg(i) FROM t GROUP BY GROUPING SETS ((k), (k, m), ())"
    ),
    "duplicate_sets": "SELECT k, count(*) FROM t GROUP BY GROUPING SETS ((), (k), (k))",
    # NaN, -0.0 and 0.0 keys: one group each of NaN and zero, as Spark's grouping.
    "float_keys": "SELECT d, k, count(*), sum(i) FROM t GROUP BY ROLLUP(d, k)",
    "decimal_date_keys": "SELECT dec, dt, sum(dec), min(dt) FROM t GROUP BY CUBE(dec, dt)",
    "expression_keys": "SELECT k % 2 AS p, upper(s) AS u, count(*) FROM t GROUP BY ROLLUP(k % 2, upper(s))",
    "having_grouping": (
        "SELECT k, m, count(*) FROM t GROUP BY GROUPING SETS ((k), (k, m), ()) "
        "HAVING grouping(k) = 0 AND count(*) > 1"
    ),
    "empty_table": "SELECT k, s, count(*), sum(m) FROM e GROUP BY ROLLUP(k, s)",
}
ORDERED = {
    "order_by": (
        "SELECT k, s, grouping_id() AS g, sum(i) FROM t GROUP BY ROLLUP(k, s) "
        "ORDER BY g, k NULLS FIRST, s DESC NULLS LAST"
    ),
}
DISTINCTS = {
    "two_counts": "SELECT count(DISTINCT m), count(DISTINCT s) FROM t",
    "grouped_mixed": (
        "SELECT k, count(*), count(DISTINCT m), count(DISTINCT s), avg(i), max(d), sum(m) "
        "FROM t GROUP BY k"
    ),
    "sum_distinct_and_plain": "SELECT sum(DISTINCT m), avg(i), count(DISTINCT k % 2) FROM t",
    "distinct_pairs_and_floats": (
        "SELECT k, count(DISTINCT m, s), count(DISTINCT d), min(s), sum(dec) FROM t GROUP BY k"
    ),
    "with_where_and_having": (
        "SELECT b, count(DISTINCT k), count(DISTINCT dt), count(l) FROM t WHERE m IS NOT NULL "
        "GROUP BY b HAVING count(l) > 0"
    ),
    "empty_table": "SELECT count(DISTINCT m), count(DISTINCT s), sum(l) FROM e",
}
#: Grouping keys that are expressions (internal names ``_g{i}``), with operators above.
EXPRESSION_KEYS = {
    "sorted": "SELECT k % 3 AS x, count(*) FROM t GROUP BY k % 3 ORDER BY 1 NULLS FIRST",
    "case_limit": (
        "SELECT CASE WHEN k > 1 THEN 'p' ELSE 'q' END AS c, sum(m) FROM t GROUP BY 1 "
        "ORDER BY 1 LIMIT 5"
    ),
    "distinct_sorted": (
        "SELECT k % 3 AS x, count(DISTINCT m) AS n FROM t GROUP BY k % 3 ORDER BY n, x NULLS FIRST"
    ),
    "having_sorted": (
        "SELECT max(m) AS x FROM t GROUP BY k % 3, s HAVING max(m) > 0 ORDER BY 1 LIMIT 3"
    ),
}


@pytest.mark.parametrize("sql", GROUPING_SETS.values(), ids=GROUPING_SETS.keys())
def test_grouping_sets(spark: Any, ansi: bool, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize("sql", ORDERED.values(), ids=ORDERED.keys())
def test_grouping_sets_ordered(spark: Any, ansi: bool, sql: str) -> None:
    run_both(spark, sql, ordered=True)


@pytest.mark.parametrize("sql", DISTINCTS.values(), ids=DISTINCTS.keys())
def test_several_distinct_aggregates(spark: Any, ansi: bool, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize("sql", EXPRESSION_KEYS.values(), ids=EXPRESSION_KEYS.keys())
def test_expression_keys_with_operators_above(spark: Any, ansi: bool, sql: str) -> None:
    run_both(spark, sql, ordered=True)


def test_expand_is_in_the_split_stage(spark: Any) -> None:
    report = spark_plugin.explain(spark.sql(GROUPING_SETS["rollup"]))
    assert report.offloaded, report.reasons
    text = str(report)
    assert "* Expand will run offloaded" in text, text
    # Row by row, so in the split stage, under the partial aggregate.
    assert report.stage_plan is not None
    assert report.stage_plan.aggregate is not None
    assert any(isinstance(n, _ir.Expand) for n in _stages._walk(report.stage_plan.lower))


def test_narrowing_cast_out_of_range_is_left_to_spark(spark: Any, ansi: bool) -> None:
    """CAST(x AS TINYINT) (grouping()'s cast): out of range Spark raises (ANSI) or wraps; the
    stage fails and Spark answers, since the plan JSON does not say the cast's mode."""
    df = spark.sql("SELECT CAST(l AS TINYINT) AS c FROM t")
    spark_plugin.enable(spark)
    try:
        if ansi:
            with pytest.raises(Exception, match=r"CAST_OVERFLOW"):
                df.collect()
            return
        offloaded = df.collect()
    finally:
        spark_plugin.disable(spark)
    assert not _hook.STATS.last_offloaded
    assert sorted(map(str, df.collect())) == sorted(map(str, offloaded))
    run_both(spark, "SELECT CAST(m AS TINYINT) AS c, CAST(l % 100 AS SMALLINT) AS d FROM t")


def test_first_in_a_users_query_stays_on_spark(spark: Any) -> None:
    report = spark_plugin.explain(spark.sql("SELECT k, first(s) FROM t GROUP BY k"))
    assert not report.offloaded
    assert any("first()" in r for r in report.reasons), report.reasons


#: The batch of the default run (<= 90 s here): data seeds and queries per seed.
FUZZ_SEEDS = (21, 22)
FUZZ_QUERIES = 6


def test_fuzz_expand_batch(spark: Any, tmp_path: Path) -> None:
    # As test_fuzz: no Parquet min/max pruning (it leaves NaN out), tiny splits, no stack traces.
    confs = {
        "spark.sql.parquet.filterPushdown": "false",
        "spark.sql.files.maxPartitionBytes": "4k",
        "spark.sql.files.openCostInBytes": "1k",
    }
    spark.sparkContext.setLogLevel("FATAL")
    # PySpark's own getter (see test_fuzz): errors are answers here, no stack trace for each.
    from pyspark.logger import PySparkLogger

    quiet = PySparkLogger.getLogger("SQLQueryContextLogger")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    for key, value in confs.items():
        spark.conf.set(key, value)
    tally = runner.Tally()
    started = time.monotonic()
    try:
        for seed in FUZZ_SEEDS:
            root = tmp_path / f"seed{seed}"
            tables = data.make_tables(seed, root)
            for table in tables:
                spark.read.parquet(str(root / table.name)).createOrReplaceTempView(table.name)
            for number in range(FUZZ_QUERIES):
                query = expand_queries.query(random.Random(f"{seed}:{number}"), tables)
                runner.run(spark, query, tally, f"expand seed {seed} query {number}")
    finally:
        spark.sparkContext.setLogLevel("ERROR")
        quiet.setLevel(level)
        for key in confs:
            spark.conf.unset(key)
        spark.conf.set("spark.sql.ansi.enabled", "true")
    print(tally.line(), f"({time.monotonic() - started:.0f} s)")
    assert tally.counts["offloaded"] > 0, tally.line()
    assert not tally.mismatches, "\n".join(tally.mismatches)
