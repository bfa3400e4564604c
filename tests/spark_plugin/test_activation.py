"""Turning the plugin on and off, conf activation with no code change, explain, and fallbacks."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _hook, _plan

from .conftest import REPO_ROOT, run_both

pytestmark = pytest.mark.usefixtures("tables")


def test_enable_disable_restores_pyspark_methods(spark: Any) -> None:
    from pyspark.sql.classic.dataframe import DataFrame

    before = {name: DataFrame.__dict__[name] for name in _hook.ACTIONS}
    spark_plugin.enable(spark)
    assert spark_plugin.is_enabled(spark)
    assert all(DataFrame.__dict__[n] is not before[n] for n in _hook.ACTIONS)
    spark_plugin.disable(spark)
    assert not spark_plugin.is_enabled(spark)
    assert all(DataFrame.__dict__[n] is before[n] for n in _hook.ACTIONS)
    assert spark.conf.get(spark_plugin.CONF_ENABLED) == "false"


def test_every_action_goes_through_the_plugin(spark: Any) -> None:
    df = spark.sql("SELECT k, count(*) AS c FROM t GROUP BY k ORDER BY k")
    plain = {
        "collect": df.collect(),
        "count": df.count(),
        "toPandas": df.toPandas(),
        "toArrow": df.toArrow(),
        "take": df.take(2),
        "first": df.first(),
    }
    spark_plugin.enable(spark, strict=True)
    before = _hook.STATS.offloaded
    assert df.collect() == plain["collect"]
    assert df.count() == plain["count"]
    assert df.toPandas().equals(plain["toPandas"])
    assert df.toArrow().equals(plain["toArrow"])
    assert df.take(2) == plain["take"]
    assert df.first() == plain["first"]
    df.show()
    assert _hook.STATS.offloaded - before == 7


def test_conf_activation_through_pth_hook(tmp_path: Path, tables: Path, run_python: Any) -> None:
    """A job that never imports spark_plugin, started with spark.accel.enabled=true."""
    site = tmp_path / "site"
    site.mkdir()
    from spark_plugin.__main__ import install_hook

    install_hook(str(site))
    job = textwrap.dedent(
        f"""
        import site, sys, os
        site.addsitedir({str(site)!r})   # what pip does for the .pth in site-packages
        os.environ["PYSPARK_PYTHON"] = sys.executable
        # ---- the user's unchanged job ----
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[1]")
                 .config("spark.ui.enabled", "false")
                 .config("spark.accel.enabled", "true")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        rows = spark.read.parquet({str(tables / "t")!r}).groupBy("k").count().collect()
        # ---- checks ----
        import spark_plugin
        stats = spark_plugin.stats()
        print("OFFLOADED", stats.offloaded, "FALLBACKS", stats.fallbacks, len(rows))
        spark.stop()
        """
    )
    result = run_python(job, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OFFLOADED 1 FALLBACKS 0 5" in result.stdout


def test_explain_offloaded_query(spark: Any) -> None:
    report = spark_plugin.explain(spark.sql("SELECT k, sum(m) FROM t WHERE m > 0 GROUP BY k"))
    text = str(report)
    assert report.offloaded
    assert "the whole query is offloaded" in text
    # Spark's distribution of each operator follows its name (_capture).
    assert "* Aggregate [partial -> hash(k) x2 -> final] will run offloaded" in text
    assert "* Scan parquet t" in text
    assert "!" not in text.split("planning took")[0]


def test_explain_lists_every_reason(spark: Any) -> None:
    df = spark.sql(
        "SELECT k, sha2(s, 256), count(DISTINCT m), count(DISTINCT s) FROM t GROUP BY k, s"
    )
    report = spark_plugin.explain(df)
    text = str(report)
    assert not report.offloaded
    assert "runs on plain Spark" in text
    assert "! Expand" not in text  # several DISTINCT aggregates (Expand) are offloaded now
    assert any("cast from string to binary" in r for r in report.reasons), text
    assert "@ Scan parquet t" in text  # could run, but the query as a whole stays on Spark


def test_unsupported_query_returns_sparks_answer(spark: Any) -> None:
    df = spark.sql("SELECT k, collect_list(m) AS ms FROM t GROUP BY k")
    plain = sorted(df.collect(), key=str)
    spark_plugin.enable(spark)
    before = _hook.STATS.fallbacks
    assert sorted(df.collect(), key=str) == plain
    assert _hook.STATS.fallbacks == before + 1
    assert not _hook.STATS.last_offloaded
    assert "CollectList" in _hook.STATS.fallback_reasons[-1][1]


def test_strict_mode_makes_fallback_an_error(spark: Any) -> None:
    df = spark.sql("SELECT k, collect_list(m) FROM t GROUP BY k")
    spark_plugin.enable(spark, strict=True)
    with pytest.raises(spark_plugin.OffloadError, match="CollectList"):
        df.collect()


def test_planning_exception_falls_back(spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("simulated planner bug")

    monkeypatch.setattr(_plan, "decide", broken)
    df = spark.sql("SELECT count(*) FROM t")
    spark_plugin.enable(spark)
    assert df.collect()[0][0] == 200
    assert "planning failed: KeyError" in _hook.STATS.fallback_reasons[-1][1]


def test_ansi_overflow_raises_sparks_own_error(spark: Any) -> None:
    """Our stage fails where Spark would; the rerun on Spark raises Spark's error class."""
    from pyspark.errors import ArithmeticException

    df = spark.sql("SELECT l + 1 FROM t")
    with pytest.raises(ArithmeticException) as plain_error:
        df.collect()
    spark_plugin.enable(spark)
    with pytest.raises(ArithmeticException) as offloaded_error:
        df.collect()
    assert offloaded_error.value.getCondition() == plain_error.value.getCondition()
    assert "SPARK_ANSI_ERROR_arithmetic_overflow" in _hook.STATS.fallback_reasons[-1][1]


def test_non_ansi_overflow_wraps_like_java(spark: Any) -> None:
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        run_both(spark, "SELECT l + 1, l * 3, i - 1, -i FROM t")
        run_both(spark, "SELECT sum(l), sum(i) FROM t")
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "true")


def test_ansi_divide_by_zero(spark: Any) -> None:
    from pyspark.errors import ArithmeticException

    df = spark.sql("SELECT m / 0.0 FROM t")
    spark_plugin.enable(spark)
    with pytest.raises(ArithmeticException):
        df.collect()
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        run_both(spark, "SELECT m / 0.0, m DIV 0, m % 0, dec / 0 FROM t")
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "true")


def test_gpu_request_without_gpu_is_a_clear_error(spark: Any) -> None:
    from accel._device import GPUUnavailableError, probe_gpu

    if probe_gpu().available:
        pytest.skip("a GPU is present")
    with pytest.raises(GPUUnavailableError):
        spark_plugin.enable(spark, device="gpu")
    spark.conf.unset(spark_plugin.CONF_DEVICE)


def test_import_is_light(run_python: Any) -> None:
    code = textwrap.dedent(
        """
        import sys, time
        start = time.perf_counter()
        import spark_plugin
        elapsed = time.perf_counter() - start
        heavy = [m for m in ("pyspark", "polars", "pyarrow", "cudf", "cudf_polars", "cupy")
                 if m in sys.modules]
        print(repr(heavy), elapsed)
        """
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    heavy, elapsed = result.stdout.split()
    assert heavy == "[]"
    assert float(elapsed) < 0.2


def test_python_m_spark_plugin_help(run_python: Any) -> None:
    result = run_python("", "-m", "spark_plugin", "--help")
    assert result.returncode == 0
    assert "install-hook" in result.stdout
    assert sys.executable
    assert (REPO_ROOT / "spark_plugin" / "accel_spark_plugin.pth").exists()
