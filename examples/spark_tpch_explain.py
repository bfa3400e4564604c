"""spark_plugin on a TPC-H query: explain what is offloaded, then run it both ways.

Run: ``python examples/spark_tpch_explain.py`` (generates SF 0.01 data with DuckDB 1.2.2 into a
temporary directory, removed at the end: ``pip install duckdb==1.2.2`` first, it is in the test
extra only; Spark needs Java 17+ and runs locally on 2 cores; the stage engine is Polars on the
CPU unless a GPU and cudf-polars are found).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

# PySpark 4 warns about pandas 3 (the version RAPIDS pins) on every pandas-using call.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)

import importlib.util

from pyspark.sql import SparkSession

import spark_plugin

spec = importlib.util.spec_from_file_location("tpch", ROOT / "benchmarks/tpch/generate.py")
assert spec is not None
assert spec.loader is not None
tpch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tpch)

data = tpch.generate(0.01, Path(tempfile.mkdtemp(prefix="tpch_")))
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
for table in tpch.TABLES:
    spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)

df = spark.sql(tpch.query(3))
print(spark_plugin.explain(df))

start = time.perf_counter()
plain = df.collect()
print(f"plain Spark: {len(plain)} rows in {time.perf_counter() - start:.2f}s")

spark_plugin.enable(spark)
start = time.perf_counter()
offloaded = df.collect()
print(f"with spark_plugin: {len(offloaded)} rows in {time.perf_counter() - start:.2f}s")
print("same answer:", plain == offloaded, "| stats:", spark_plugin.stats())

# Something the plugin does not offload: it says why and Spark answers.
spark.sql("SELECT collect_list(n_name) FROM nation").collect()
print("fallback reason:", spark_plugin.stats().fallback_reasons[-1])
spark_plugin.disable(spark)
spark.stop()
shutil.rmtree(data, ignore_errors=True)
