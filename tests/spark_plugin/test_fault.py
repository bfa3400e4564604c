"""A Python worker killed mid-task (SIGKILL) in an offloaded query: Spark retries the task, the
rows come out exact (nothing lost or duplicated) and the action still ran offloaded.

Its own process on ``local[2,4]`` (four attempts per task), because the test session is
``local[2]`` (one attempt) and a process holds one SparkContext.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO_ROOT

_SCRIPT = r"""
import json, os, signal, sys
import pyarrow as pa, pyarrow.parquet as pq
from pyspark.sql import SparkSession

sys.path.insert(0, sys.argv[3])
import conftest as helpers
import spark_plugin
from spark_plugin import _hook, _worker

root, marker = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master("local[2,4]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.sql.files.maxPartitionBytes", "16k").getOrCreate())
spark.sparkContext.setLogLevel("FATAL")
n = 20000
pq.write_table(
    pa.table({"k": [i % 997 for i in range(n)], "g": [i % 13 for i in range(n)],
              "v": [float(i % 101) - 50.5 for i in range(n)]}),
    root + "/t.parquet", row_group_size=1000)
spark.read.parquet(root + "/t.parquet").createOrReplaceTempView("t")
_real = _worker.map_stage


def killing_map_stage(stage):
    # The real stage, except that the first task to get here (a marker file: once per run)
    # kills its own Python worker after reading its first input batch.
    run = _real(stage)

    def killing(batches):
        def watched():
            for i, batch in enumerate(batches):
                yield batch
                if i == 0 and not os.path.exists(marker):
                    open(marker, "w").close()
                    os.kill(os.getpid(), signal.SIGKILL)
        yield from run(watched())

    return killing


_worker.map_stage = killing_map_stage
out = {}
for name, sql, ordered in [
    ("top_k", "SELECT k, g, sum(v) s, count(*) c FROM t GROUP BY k, g "
              "ORDER BY s DESC, k, g LIMIT 25", True),
    ("aggregate", "SELECT k, sum(v) s, count(*) c FROM t GROUP BY k", False),
]:
    if os.path.exists(marker):
        os.remove(marker)
    df = spark.sql(sql)
    plain = df.collect()
    spark_plugin.enable(spark)
    try:
        got = df.collect()
    finally:
        spark_plugin.disable(spark)
    problem = ""
    try:
        helpers.assert_rows_equal(plain, got, ordered)
    except AssertionError as e:
        problem = str(e)[:2000]
    out[name] = {"rows": len(got), "plain": len(plain), "problem": problem,
                 "offloaded": _hook.STATS.last_offloaded, "killed": os.path.exists(marker),
                 "stages": spark_plugin.explain(df).stages}
print(json.dumps(out))
"""


def test_a_killed_python_worker_is_retried_with_exact_rows(tmp_path: Path) -> None:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYTHONPATH=str(REPO_ROOT))
    script = tmp_path / "fault.py"
    script.write_text(_SCRIPT)
    here = str(Path(__file__).resolve().parent)
    run = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(tmp_path / "killed-once"), here],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    for name, case in out.items():
        assert case["killed"], (name, case)  # a worker did die mid-task
        assert case["offloaded"], (name, case)  # Spark's retry, not a fallback to plain Spark
        assert case["problem"] == "", (name, case)
        assert case["rows"] == case["plain"] > 0, (name, case)
    assert "top 25 per partition" in out["top_k"]["stages"]
