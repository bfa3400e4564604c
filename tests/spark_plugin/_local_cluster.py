"""Run queries and writes plain and offloaded on one Spark master; for test_local_cluster.py.

Usage: ``python _local_cluster.py SPEC.json RESULT.json``. Its own process, because a process
holds one SparkContext and the test session's is ``local[2]``. SPEC: ``master``, ``tables``
(view name -> Parquet path), ``queries`` (``id``, ``sql``, ``ordered``) and ``writes`` (``id``,
``sql``, ``partition_by``, ``path``). RESULT: per query and write, whether it ran offloaded
and whether its rows equal plain Spark's (``problem`` says how not), and the executor count.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


def _conftest() -> Any:
    """The comparison helpers of the test suite (conftest.py, loaded by path)."""
    spec = importlib.util.spec_from_file_location("spark_plugin_conftest", HERE / "conftest.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _session(master: str) -> Any:
    # The executors' Python workers run this interpreter and import this checkout.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("spark_plugin local-cluster tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "1g")
        # Two executor JVMs of 1024 MB each (local-cluster[2,1,1024]): Spark's own share.
        .config("spark.executor.memory", "768m")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _compare(helpers: Any, plain: list[Any], offloaded: list[Any], ordered: bool) -> str:
    try:
        helpers.assert_rows_equal(plain, offloaded, ordered)
    except AssertionError as exc:
        return f"rows differ: {exc}"[:500]
    return ""


def _query(spark: Any, helpers: Any, item: dict[str, Any]) -> dict[str, Any]:
    import spark_plugin
    from spark_plugin import _hook

    df = spark.sql(item["sql"])
    plain = df.collect()
    spark_plugin.enable(spark)
    try:
        offloaded = df.collect()
    finally:
        spark_plugin.disable(spark)
    reasons = _hook.STATS.fallback_reasons[-1:] if not _hook.STATS.last_offloaded else []
    return {
        "id": item["id"],
        "offloaded": _hook.STATS.last_offloaded,
        "problem": _compare(helpers, plain, offloaded, bool(item.get("ordered"))),
        "fallback": [list(r) for r in reasons],
    }


def _write(spark: Any, helpers: Any, item: dict[str, Any]) -> dict[str, Any]:
    import spark_plugin
    from spark_plugin import _hook

    df = spark.sql(item["sql"])
    paths = {kind: str(Path(item["path"]) / kind) for kind in ("plain", "offloaded")}
    df.write.partitionBy(*item["partition_by"]).parquet(paths["plain"])
    spark_plugin.enable(spark, strict=True)
    try:
        df.write.partitionBy(*item["partition_by"]).parquet(paths["offloaded"])
    finally:
        spark_plugin.disable(spark)
    offloaded = _hook.STATS.last_offloaded
    plain_rows = spark.read.parquet(paths["plain"]).collect()
    rows = spark.read.parquet(paths["offloaded"]).collect()
    success = all((Path(p) / "_SUCCESS").exists() for p in paths.values())
    problem = _compare(helpers, plain_rows, rows, False) or ("" if success else "no _SUCCESS")
    return {"id": item["id"], "offloaded": offloaded, "problem": problem, "fallback": []}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    helpers = _conftest()
    started = time.perf_counter()
    spark = _session(spec["master"])
    results: list[dict[str, Any]] = []
    try:
        for name, path in spec["tables"].items():
            spark.read.parquet(path).createOrReplaceTempView(name)
        for item in [*spec["queries"], *spec["writes"]]:
            began = time.perf_counter()
            run = _query if item in spec["queries"] else _write
            results.append({**run(spark, helpers, item), "seconds": time.perf_counter() - began})
        # Executors other than the driver (local-cluster[2,...]: two).
        executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    finally:
        spark.stop()
    out = {"executors": executors, "results": results, "seconds": time.perf_counter() - started}
    Path(argv[1]).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
