"""Steps for ``python -m accel demo``: TPC-H Q1 and Q3 on generated data, plain Spark vs the plugin."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from accel.core import DemoStep

_QUERIES = {
    "TPC-H Q1": """
        SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,
               sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem WHERE l_shipdate <= DATE '1998-09-02'
        GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus""",
    "TPC-H Q3": """
        SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue,
               o_orderdate, o_shippriority
        FROM customer JOIN orders ON c_custkey = o_custkey
             JOIN lineitem ON l_orderkey = o_orderkey
        WHERE c_mktsegment = 'BUILDING' AND o_orderdate < DATE '1995-03-15'
              AND l_shipdate > DATE '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate, l_orderkey LIMIT 10""",
}
TABLES = ("customer", "orders", "lineitem")
# Only errors from Spark's JVM, for the demo's session (the default prints a banner and WARNs).
_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
"""

_state: dict[str, Any] = {}


def generate_tpch(folder: Path, sf: float, seed: int = 0) -> None:
    """The columns Q1 and Q3 read, with TPC-H's row counts and value rules (spec 4.2.3), as
    Parquet in ``folder``. NumPy and pyarrow only (both already needed by ``[spark]``), so the
    demo needs no dbgen; the keys are dense and the comments are left out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    money = pa.decimal128(15, 2)

    def decimal(cents: Any) -> Any:
        return pa.array(np.asarray(cents) / 100.0).cast(money)

    n_cust, n_orders = max(int(150_000 * sf), 10), max(int(1_500_000 * sf), 10)
    segments = np.array(["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"])
    customer = {
        "c_custkey": np.arange(1, n_cust + 1, dtype=np.int64),
        "c_mktsegment": segments[rng.integers(0, 5, n_cust)],
    }
    start, end = dt.date(1992, 1, 1).toordinal(), dt.date(1998, 12, 31).toordinal()
    epoch = dt.date(1970, 1, 1).toordinal()
    order_days = rng.integers(start, end - 151 + 1, n_orders) - epoch
    orders = {
        "o_orderkey": np.arange(1, n_orders + 1, dtype=np.int64),
        "o_custkey": rng.integers(1, n_cust + 1, n_orders),
        "o_orderdate": pa.array(order_days.astype("int32"), pa.date32()),
        "o_shippriority": np.zeros(n_orders, dtype=np.int32),
    }
    lines = rng.integers(1, 8, n_orders)  # 1..7 lines per order
    n = int(lines.sum())
    orderkey = np.repeat(orders["o_orderkey"], lines)
    ship = np.repeat(order_days, lines) + rng.integers(1, 122, n)
    receipt = ship + rng.integers(1, 31, n)
    current = dt.date(1995, 6, 17).toordinal() - epoch
    quantity = rng.integers(1, 51, n)
    partkey = rng.integers(1, int(200_000 * sf) + 2, n)
    retail_cents = 90_000 + (partkey // 10) % 20_001 + 100 * (partkey % 1_000)
    lineitem = {
        "l_orderkey": orderkey,
        "l_quantity": decimal(quantity * 100),
        "l_extendedprice": decimal(quantity * retail_cents),
        "l_discount": decimal(rng.integers(0, 11, n)),
        "l_returnflag": np.where(
            receipt <= current, np.array(["R", "A"])[rng.integers(0, 2, n)], "N"
        ),
        "l_linestatus": np.where(ship > current, "O", "F"),
        "l_shipdate": pa.array(ship.astype("int32"), pa.date32()),
    }
    for name, columns in zip(TABLES, (customer, orders, lineitem), strict=True):
        pq.write_table(pa.table(columns), folder / f"{name}.parquet")


def setup(scale: float = 1.0) -> None:
    """Generate the data and start the session (not timed; the demo says it is setting up)."""
    if "spark" in _state:
        return
    from pyspark.sql import SparkSession

    data = Path(tempfile.mkdtemp(prefix="accel_demo_tpch_"))
    _state["data"] = data
    generate_tpch(data, 0.05 * scale)
    active = SparkSession.getActiveSession()
    if active is None:
        spark = _start_session(data)
        _state["owned"] = True
    else:
        spark = active  # a caller's session (the tests'): used, not stopped
    for table in TABLES:
        spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)
    _state["spark"] = spark


def _start_session(data: Path) -> Any:
    """A local[2] session whose JVM writes to ``data/spark.log``, not the terminal (its banner,
    the JDK's incubator notice, and the Python workers' stderr all go there)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    (data / "log4j2.properties").write_text(_LOG4J)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    root = Path(__file__).resolve().parent.parent
    _state["pythonpath"] = os.environ.get("PYTHONPATH")
    # the Python workers run this checkout's spark_plugin
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    conf = (
        SparkConf()
        .setMaster("local[2]")
        .setAppName("accel demo")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", "2")
        .set("spark.sql.session.timeZone", "UTC")
        .set(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j2.configurationFile=file:{data}/log4j2.properties",
        )
    )
    log = open(data / "spark.log", "wb")  # noqa: SIM115 - the JVM writes it until cleanup()
    _state["log"] = log
    try:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
    except RuntimeError as exc:  # PySparkRuntimeError: the JVM did not start; its log says why
        log.flush()
        why = (data / "spark.log").read_text(errors="replace").strip()[-1500:]
        raise RuntimeError(f"Spark did not start (needs Java 17+): {why or exc}") from exc
    spark = SparkSession(SparkContext(conf=conf, gateway=gateway))
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def cleanup() -> None:
    """Stop the session the demo started and remove its data."""
    spark = _state.pop("spark", None)
    if spark is not None and _state.pop("owned", False):
        spark.stop()
    if "pythonpath" in _state:
        value = _state.pop("pythonpath")
        if value is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = value
    log = _state.pop("log", None)
    if log is not None:
        log.close()
    data = _state.pop("data", None)
    if data is not None:
        shutil.rmtree(data, ignore_errors=True)


def _run(sql: str, offload: bool) -> list[Any]:
    import spark_plugin

    spark = _state["spark"]
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
        return f"plain Spark: fell back: {reason}"
    report = stats.last_report
    return f"{report.engine if report else 'polars'} stages"


def demo_steps(scale: float = 1.0) -> list[DemoStep]:
    """Two TPC-H queries on generated data (SF 0.05 times ``scale``) in a local[2] session."""
    prepare = functools.partial(setup, scale)
    return [
        DemoStep(
            name=name,
            plain=functools.partial(_run, sql, False),
            accelerated=functools.partial(_run, sql, True),
            same=_same,
            device=_device,
            setup=prepare,
            cleanup=cleanup,
            # Polars instead of Spark's JVM engine: a real difference even with no GPU
            engine_differs_on_cpu=True,
        )
        for name, sql in _QUERIES.items()
    ]
