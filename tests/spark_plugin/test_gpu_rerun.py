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
    reasons = _worker.distinct_reruns(reruns.value)
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


_RETRY_SCRIPT = """
import json, os, sys
import pyarrow as pa, pyarrow.parquet as pq
from pyspark.sql import SparkSession
import spark_plugin
from spark_plugin import _execute, _worker

root, marker = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master("local[2,4]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
spark.sparkContext.setLogLevel("FATAL")
pq.write_table(pa.table({"k": list(range(40)), "v": list(range(40))}), root + "/r.parquet",
               row_group_size=10)
df = spark.read.parquet(root + "/r.parquet").where("v >= 0")


def fail_once(batches):
    # The first attempt of one task fails after its stage (and GPU->CPU rerun) ran.
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("injected failure of the first attempt")
    yield from batches


out = {}
for case in ("retried", "sorted"):
    report = spark_plugin.explain(df)
    reruns = spark.sparkContext.accumulator([], _worker.ReasonList())
    built = _execute.build(df, report.plan, report.stage_plan, report.settings, "gpu", False,
                           reruns)
    if case == "retried":
        built = built.mapInArrow(fail_once, built.schema)
    else:  # a global sort: Spark's sampling job reads the stage once more
        built = built.orderBy("k")
    rows = built.collect()
    tasks = len(report.stage_plan.splits or ()) or 1
    out[case] = {"rows": len(rows), "raw": len(reruns.value), "tasks": tasks,
                 "counted": len(_worker.distinct_reruns(reruns.value))}
print(json.dumps(out))
"""


def test_a_task_spark_retried_or_recomputed_counts_its_reruns_once(tmp_path: Path) -> None:
    """local[2,4]: one task fails on its first attempt (a marker file), and a sort's sampling
    job reads the stage a second time; each task's GPU->CPU rerun is counted once."""
    pytest.importorskip("cudf_polars")
    import json
    import os
    import subprocess
    import sys

    from accel import _device

    from .conftest import REPO_ROOT

    if _device.probe_gpu().available:
        pytest.skip("a working GPU runs the stages: nothing to rerun")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYTHONPATH=str(REPO_ROOT))
    script = tmp_path / "retry.py"
    script.write_text(_RETRY_SCRIPT)
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(tmp_path / "failed-once")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert (tmp_path / "failed-once").exists()  # the first attempt did fail
    for case in ("retried", "sorted"):
        assert out[case]["rows"] == 40
        assert out[case]["counted"] == out[case]["tasks"], out
    assert out["sorted"]["raw"] > out["sorted"]["counted"], out  # the sampling job's reads
