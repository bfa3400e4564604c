"""GPU->CPU stage reruns inside the Spark tasks, counted where the driver sees them.

On a machine without a GPU, cudf-polars really fails to run a stage (it finds no device): that
real failure is what these tests rerun and count. They need the RAPIDS wheels (rapids tier).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _execute, _hook, _worker

from .conftest import assert_rows_equal

pytestmark = [pytest.mark.rapids, pytest.mark.usefixtures("tables")]

_QUERY = "SELECT k, count(*) AS n, sum(dec) AS total FROM t GROUP BY k"


def _offloaded_on_gpu(spark: Any, strict: bool, reruns: Any) -> Any:
    df = spark.sql(_QUERY)
    report = spark_plugin.explain(df)
    assert report.plan is not None
    assert report.stage_plan is not None
    return _execute.build(
        df, report.plan, report.stage_plan, report.settings, "gpu", strict, reruns
    )


def test_worker_gpu_reruns_reach_the_driver(spark: Any, tables: Path) -> None:
    pytest.importorskip("cudf_polars")
    from accel import _device

    if _device.probe_gpu().available:
        pytest.skip("a working GPU runs the stages: nothing to rerun")
    reruns = spark.sparkContext.accumulator([], _worker.ReasonList())
    rows = _offloaded_on_gpu(spark, False, reruns).collect()
    assert_rows_equal(spark.sql(_QUERY).collect(), rows, ordered=False)
    reasons = list(reruns.value)
    stages = len(_execute.workers(*_workers_args(spark)).stages)
    # Every task of every stage tried the GPU engine, failed and reran on the CPU engine.
    assert len(reasons) >= stages
    assert all(re.match(r"^\w+: ", r) for r in reasons), reasons  # "ErrorType: message"
    before = _hook.STATS.gpu_fallbacks
    _hook._count_gpu_fallbacks(reasons)
    assert spark_plugin.stats().gpu_fallbacks == before + len(reasons)
    assert spark_plugin.stats().last_gpu_fallbacks == len(reasons)


def _workers_args(spark: Any) -> tuple[Any, ...]:
    df = spark.sql(_QUERY)
    report = spark_plugin.explain(df)
    fields, nullable = _execute.user_columns(df)
    return (report.plan, report.stage_plan, report.settings, "gpu", fields, nullable)


def test_strict_mode_fails_the_stage_instead_of_rerunning(spark: Any, tables: Path) -> None:
    pytest.importorskip("cudf_polars")
    from accel import _device

    if _device.probe_gpu().available:
        pytest.skip("a working GPU runs the stages: nothing fails")
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    reruns = spark.sparkContext.accumulator([], _worker.ReasonList())
    with pytest.raises((Py4JJavaError, PySparkException)) as failure:
        _offloaded_on_gpu(spark, True, reruns).collect()
    assert "GPUFallbackError" in str(failure.value)
    assert list(reruns.value) == []
