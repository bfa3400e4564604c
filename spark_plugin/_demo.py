"""Steps for ``python -m accel demo``: TPC-H Q1 and Q3 on generated data, plain Spark vs the plugin."""

from __future__ import annotations

import functools
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from accel._demo_api import DemoStep

_QUERIES = {
    "Q1 pricing summary": """
        SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
               sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem WHERE l_shipdate <= DATE '1998-09-02'
        GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus""",
    "Q3 shipping priority": """
        SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue,
               o_orderdate, o_shippriority
        FROM customer JOIN orders ON c_custkey = o_custkey
             JOIN lineitem ON l_orderkey = o_orderkey
        WHERE c_mktsegment = 'BUILDING' AND o_orderdate < DATE '1995-03-15'
              AND l_shipdate > DATE '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate, l_orderkey LIMIT 10""",
}

_state: dict[str, Any] = {}


def _session(scale: float) -> Any:
    if "spark" in _state:
        return _state["spark"]
    import duckdb
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    root = Path(__file__).resolve().parent.parent
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    data = Path(tempfile.mkdtemp(prefix="accel_demo_tpch_"))
    con = duckdb.connect()
    con.execute(f"CALL dbgen(sf={0.05 * scale})")
    for table in ("customer", "orders", "lineitem"):
        con.execute(f"COPY {table} TO '{data / table}.parquet' (FORMAT parquet)")
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in ("customer", "orders", "lineitem"):
        spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)
    _state["spark"] = spark
    return spark


def _run(scale: float, sql: str, offload: bool) -> list[Any]:
    import spark_plugin

    spark = _session(scale)
    df = spark.sql(sql)
    if not offload:
        return list(df.collect())
    spark_plugin.enable(spark)
    try:
        return list(df.collect())
    finally:
        spark_plugin.disable(spark)


def _same(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) and isinstance(v, float):
                if not math.isclose(u, v, rel_tol=1e-9):
                    return False
            elif u != v:
                return False
    return True


def _device() -> str:
    import spark_plugin

    stats = spark_plugin.stats()
    if not stats.last_offloaded:
        reason = stats.fallback_reasons[-1][1] if stats.fallback_reasons else "unknown"
        return f"plain Spark (fell back: {reason[:80]})"
    report = stats.last_report
    return f"Spark + {report.engine if report else 'polars'} stages in the Python workers"


def demo_steps(scale: float = 1.0) -> list[DemoStep]:
    """Two TPC-H queries on DuckDB-generated data (SF 0.05 times ``scale``) in a local[2] session."""
    return [
        DemoStep(
            name=f"Spark SQL TPC-H {name}",
            plain=functools.partial(_run, scale, sql, False),
            accelerated=functools.partial(_run, scale, sql, True),
            same=_same,
            device=_device,
        )
        for name, sql in _QUERIES.items()
    ]
