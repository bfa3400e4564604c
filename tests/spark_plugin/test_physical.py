"""Spark's physical plan read through py4j (``_capture``): strategies as the committed plans show.

``benchmarks/results/spark_plans_q3_q18.txt``: at SF 0.01 with
``spark.sql.autoBroadcastJoinThreshold=100k`` q3 and q18 have SF 1's shape (small dimension
sides broadcast, the big joins sort-merge over hash shuffles); with -1 every join is shuffled.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _capture, _hook, _ir
from spark_plugin._distribution import AggregateInfo, Exchange, JoinInfo, LimitInfo, ScanInfo

from .conftest import run_both, tpch_module

pytest.importorskip("duckdb")
tpch = tpch_module()


@pytest.fixture(params=["100k", "-1"], ids=["threshold_100k", "no_broadcast"])
def threshold(request: pytest.FixtureRequest, spark: Any, tpch_tables: Path) -> Iterator[str]:
    key = "spark.sql.autoBroadcastJoinThreshold"
    before = spark.conf.get(key)
    spark.conf.set(key, request.param)
    yield request.param
    spark.conf.set(key, before)


def _walk(plan: _ir.Plan) -> Iterator[_ir.Plan]:
    yield plan
    for child in _ir.children(plan):
        yield from _walk(child)


def _spark_choices(spark: Any, number: int) -> tuple[Any, dict[str, list[Any]]]:
    """explain()'s report and, per IR node kind, Spark's description of each such node."""
    report = spark_plugin.explain(spark.sql(tpch.query(number)))
    assert report.offloaded, report.reasons
    assert report.plan is not None
    dist = report.distribution
    assert dist is not None
    assert not dist.error, dist.error
    found: dict[str, list[Any]] = {"Join": [], "Aggregate": [], "Limit": [], "Scan": []}
    for node in _walk(report.plan):
        kind = type(node).__name__
        if kind in found:
            found[kind].append((node, dist.of(node)))
    return report, found


def test_q3_strategies(spark: Any, threshold: str) -> None:
    report, found = _spark_choices(spark, 3)
    joins = {tuple(sorted({_tables(n.left), _tables(n.right)})): info for n, info in found["Join"]}
    assert all(info is not None for info in joins.values()), joins
    top = joins[("customer+orders", "lineitem")]
    assert isinstance(top, JoinInfo)
    # orders ⋈ lineitem is shuffled on the order key in both plans (the SF 1 shape).
    assert top.strategy == "sort_merge"
    assert top.how == "Inner"
    assert top.left_exchange == Exchange("hash", ("o_orderkey",), 2)
    assert top.right_exchange == Exchange("hash", ("l_orderkey",), 2)
    low = joins[("customer", "orders")]
    assert isinstance(low, JoinInfo)
    if threshold == "100k":
        assert (low.strategy, low.build) == ("broadcast_hash", "left")  # customer is broadcast
    else:
        assert low.strategy == "sort_merge"
    # The group keys hold the join key: Spark aggregates complete, no second shuffle.
    ((_, agg),) = found["Aggregate"]
    assert isinstance(agg, AggregateInfo)
    assert agg.modes == ("Complete",)
    assert agg.exchange is None
    ((_, limit),) = found["Limit"]
    assert isinstance(limit, LimitInfo)
    assert (limit.kind, limit.n) == ("top_k", 10)
    scans = {n.table: (n, info) for n, info in found["Scan"]}
    for scan, info in scans.values():
        assert isinstance(info, ScanInfo)
        assert info.files == scan.files
        assert info.table == scan.table
    assert scans["lineitem"][1].feeds == Exchange("hash", ("l_orderkey",), 2)
    expected_feed = "broadcast" if threshold == "100k" else "hash(c_custkey) x2"
    assert scans["customer"][1].feeds is not None
    assert scans["customer"][1].feeds.label() == expected_feed
    text = str(report)
    if threshold == "100k":
        assert "Join Inner [broadcast build=left]" in text, text
    assert "[sort-merge, shuffled hash(o_orderkey) x2 | hash(l_orderkey) x2]" in text, text
    assert "Sort [top-10 per partition -> one partition]" in text, text


def test_q18_strategies(spark: Any, threshold: str) -> None:
    report, found = _spark_choices(spark, 18)
    infos = [info for _, info in found["Join"]]
    assert all(info is not None for info in infos), found["Join"]
    strategies = sorted(i.strategy for i in infos)
    if threshold == "100k":
        # customer is broadcast; the rest as at SF 1: three sort-merge joins (two LeftSemi).
        assert strategies == ["broadcast_hash", *["sort_merge"] * 3]
        assert [i.build for i in infos if i.strategy == "broadcast_hash"] == ["left"]
    else:
        assert strategies == ["sort_merge"] * 4
    assert sorted(i.how for i in infos) == ["Inner", "Inner", "LeftSemi", "LeftSemi"]
    aggs = [info for _, info in found["Aggregate"]]
    assert all(isinstance(a, AggregateInfo) for a in aggs), aggs
    # The IN subquery's sum(l_quantity): partial -> hash(l_orderkey) -> final; the outer
    # aggregate is complete over the join's partitioning.
    assert sorted(a.modes for a in aggs) == [
        ("Complete",),
        ("Final", "Partial"),
        ("Final", "Partial"),
    ]
    for agg in aggs:
        if agg.modes == ("Final", "Partial"):
            assert agg.exchange == Exchange("hash", ("l_orderkey",), 2)
            assert agg.label() == "partial -> hash(l_orderkey) x2 -> final"
    ((_, limit),) = found["Limit"]
    assert (limit.kind, limit.n) == ("top_k", 100)
    assert str(report).count("Aggregate [partial -> hash(l_orderkey) x2 -> final]") == 2


def _tables(plan: _ir.Plan) -> str:
    return "+".join(sorted({n.table for n in _walk(plan) if isinstance(n, _ir.Scan)}))


def test_global_sort_reads_a_range_exchange(spark: Any, tpch_tables: Path) -> None:
    df = spark.sql("SELECT o_orderkey, o_totalprice FROM orders ORDER BY o_totalprice DESC")
    report = spark_plugin.explain(df)
    dist = report.distribution
    assert dist is not None
    (sort,) = dist.sorts
    assert sort.exchange is not None
    assert (sort.exchange.kind, sort.exchange.keys) == ("range", ("o_totalprice",))
    assert "Sort [range(o_totalprice) x2 -> sort per partition]" in str(report)


@pytest.mark.parametrize("adaptive", ["true", "false"], ids=["aqe", "no_aqe"])
def test_aggregate_chains(spark: Any, tpch_tables: Path, adaptive: str) -> None:
    """Each logical aggregate is one description with all its physical steps, with AQE on or
    off (off: codegen wrappers around every operator)."""
    queries = {
        "SELECT sum(l_quantity) FROM lineitem": "partial -> single partition -> final",
        "SELECT l_returnflag, count(DISTINCT l_suppkey) FROM lineitem GROUP BY l_returnflag": (
            "partial -> hash(l_returnflag, l_suppkey) x2 -> final"
            " -> partial -> hash(l_returnflag) x2 -> final"
        ),
    }
    spark.conf.set("spark.sql.adaptive.enabled", adaptive)
    try:
        for sql, label in queries.items():
            dist = spark_plugin.explain(spark.sql(sql)).distribution
            assert dist is not None
            assert not dist.error
            assert [a.label() for a in dist.aggregates] == [label]
    finally:
        spark.conf.unset("spark.sql.adaptive.enabled")


def test_unknown_operators_and_unreadable_plans_never_fail(spark: Any, tpch_tables: Path) -> None:
    # A window is not described: the operators around it still are, and the query runs.
    sql = (
        "SELECT n_name, rank() OVER (PARTITION BY n_regionkey ORDER BY n_name) AS r "
        "FROM nation JOIN region ON n_regionkey = r_regionkey"
    )
    df = spark.sql(sql)
    dist = spark_plugin.explain(df).distribution
    assert dist is not None
    assert not dist.error
    assert "WindowExec" in dist.others
    assert len(dist.joins) == 1
    plain = df.collect()
    spark_plugin.enable(spark)
    assert sorted(df.collect()) == sorted(plain)
    # A JVM object that is no QueryExecution: the read fails inside py4j, and says so.
    broken = _capture.physical(spark, df._jdf)
    assert broken.error.startswith("could not read Spark's physical plan: Py4JError")
    assert broken.describe().startswith("distribution unknown")
    assert broken.of(_ir.Input(())) is None


def test_an_action_does_not_read_the_physical_plan(spark: Any, tpch_tables: Path) -> None:
    """Until the stages use it, offloaded actions leave Spark's physical planning alone; the
    report reads it once when asked, and keeps it."""
    df = spark.sql(tpch.query(3))
    plain = df.collect()
    _, offloaded = run_both(spark, lambda: df)
    assert len(offloaded) == len(plain)
    report = _hook.STATS.last_report
    assert report is not None
    physical = report.physical
    assert physical is not None
    assert physical._distribution is None  # not read by the action
    first = report.distribution
    assert first is not None
    assert not first.error
    assert report.distribution is first  # read once
