"""What an action leaves where Spark users look: the driver log, the Spark UI's job names and
descriptions, the per-action explain (``spark.accel.explain``), ``stats()`` in notebooks."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _hook

from .conftest import run_both

pytestmark = pytest.mark.usefixtures("tables")

_OFFLOADED = "SELECT k, m FROM t WHERE m > 0"
_NOT_OFFLOADED = "SELECT k, bit_count(m) FROM t"


def _line() -> int:
    """The caller's line number (the line of the action that follows on the next line)."""
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno + 1


def _last_job(spark: Any) -> Any:
    """Spark's own record of the latest job (the status store behind the UI's jobs page)."""
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(None)
    return spark.sparkContext._jsc.sc().statusStore().job(max(jobs))


def test_one_log_line_per_action_names_the_users_line(
    spark: Any, caplog: pytest.LogCaptureFixture
) -> None:
    spark_plugin.enable(spark)
    with caplog.at_level(logging.INFO, logger="spark_plugin"):
        line = _line()
        spark.sql(_OFFLOADED).collect()
        fallback_line = _line()
        spark.sql(_NOT_OFFLOADED).count()
    messages = [r.getMessage() for r in caplog.records if r.name == "spark_plugin"]
    here = f"test_visibility.py:{line}"
    offloaded = [m for m in messages if m.startswith("offloaded collect at") and here in m]
    assert len(offloaded) == 1, messages
    assert "engine polars-cpu" in offloaded[0]
    assert "0 GPU->CPU stage reruns" in offloaded[0]
    left = [m for m in messages if f"test_visibility.py:{fallback_line} left to Spark" in m]
    assert len(left) == 1, messages
    assert "BitwiseCount" in left[0]


def test_the_spark_ui_job_names_the_users_line_and_says_offloaded(spark: Any) -> None:
    sc = spark.sparkContext
    sc.setJobDescription("nightly report")
    spark_plugin.enable(spark)
    try:
        line = _line()
        spark.sql(_OFFLOADED).collect()
        job = _last_job(spark)
        assert job.name() == f"collect at {__file__}:{line}"
        description = job.description().get()
        assert description.startswith("nightly report: offloaded by accel (polars-cpu")
        # Restored afterwards: the user's description, and no call site of ours left set.
        assert sc.getLocalProperty("spark.job.description") == "nightly report"
        assert sc.getLocalProperty("callSite.short") is None
        line = _line()
        spark.sql(_NOT_OFFLOADED).collect()  # left to Spark: still the user's line
        assert _last_job(spark).name() == f"collect at {__file__}:{line}"
    finally:
        sc.setJobDescription(None)  # type: ignore[arg-type]


def test_the_data_source_is_registered_once_per_session(spark: Any) -> None:
    """Registering again replaces Spark's entry (and logs "replaced a previously registered
    data source" on every action): the entry stays the same JVM object across actions."""
    spark_plugin.enable(spark)
    spark.sql(_OFFLOADED).collect()  # registered by now
    manager = spark._jsparkSession.sessionState().dataSourceManager()
    identity = spark._jvm.java.lang.System.identityHashCode

    def entry() -> int:
        return int(identity(manager.lookupDataSource("accel_stage")))

    first = entry()
    for _ in range(2):
        spark.sql(_OFFLOADED).collect()
        assert _hook.STATS.last_offloaded
        assert entry() == first


@pytest.mark.parametrize(
    ("mode", "logged"),
    [("NONE", set()), ("NOT_ON_GPU", {"bit_count"}), ("ALL", {"plain", "bit_count"})],
)
def test_spark_accel_explain_logs_the_plan_per_action(
    spark: Any, caplog: pytest.LogCaptureFixture, mode: str, logged: set[str]
) -> None:
    spark_plugin.enable(spark)
    spark.conf.set(spark_plugin.CONF_EXPLAIN, mode)
    try:
        found = set()
        for label, sql in (("plain", _OFFLOADED), ("bit_count", _NOT_OFFLOADED)):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="spark_plugin"):
                spark.sql(sql).collect()
            explains = [r.getMessage() for r in caplog.records if "explain of" in r.getMessage()]
            if explains:
                found.add(label)
                assert len(explains) == 1
                assert "will run offloaded" in explains[0] or "cannot run" in explains[0]
        assert found == logged
    finally:
        spark.conf.unset(spark_plugin.CONF_EXPLAIN)


def test_a_bad_explain_mode_says_what_to_set(spark: Any) -> None:
    spark_plugin.enable(spark)
    spark.conf.set(spark_plugin.CONF_EXPLAIN, "everything")
    try:
        with pytest.raises(ValueError, match="NONE, NOT_ON_GPU, ALL"):
            spark.sql(_OFFLOADED).collect()
    finally:
        spark.conf.unset(spark_plugin.CONF_EXPLAIN)


def test_stats_show_as_text_and_html_in_notebooks(spark: Any) -> None:
    pretty = pytest.importorskip("IPython.lib.pretty")
    spark_plugin.enable(spark)
    spark.sql(_OFFLOADED).collect()
    spark.sql(_NOT_OFFLOADED).collect()
    stats = spark_plugin.stats()
    text = pretty.pretty(stats)
    assert text == stats.summary()
    assert text.startswith(f"spark_plugin: {stats.offloaded} actions offloaded")
    assert "BitwiseCount" in text
    page = stats._repr_html_()
    assert "<table>" in page
    assert "BitwiseCount" in page
    assert page.count("<tr>") == 1 + len(text.splitlines()) - 1  # a header, a row per reason


def test_explain_shows_the_join_order_that_runs(spark: Any) -> None:
    """The plugin moves a semi join above an inner join with a smaller table: explain shows
    that order too, and the answer is Spark's."""
    sql = (
        "SELECT t.k, u.uv FROM t JOIN u ON t.k = u.uk "
        "WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.m = t.k)"
    )
    text = str(spark_plugin.explain(spark.sql(sql)))
    assert "runs offloaded in this order (the plugin's join order, not Spark's):" in text
    order = text.split("not Spark's):", 1)[1]
    assert order.index("Join semi") < order.index("Join inner")  # the semi join on top
    run_both(spark, sql)


def test_an_operator_above_a_failing_one_still_gets_its_own_reasons(spark: Any) -> None:
    sql = (
        "SELECT * FROM (SELECT k, bit_count(m) AS b, CAST(m AS DOUBLE) AS dm FROM t) x "
        "JOIN (SELECT CAST(uk AS DOUBLE) AS du FROM u) y ON x.dm = y.du"
    )
    report = spark_plugin.explain(spark.sql(sql))
    text = str(report)
    assert "! Join" in text, text
    assert any("floating point join keys" in r for r in report.reasons), report.reasons
    assert len(report.reasons) == len(set(report.reasons))
