"""One shared local Spark session for the spark_plugin tests, plus generated data and comparisons."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pyspark = pytest.importorskip("pyspark")
pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import spark_plugin  # noqa: E402
from spark_plugin import _hook  # noqa: E402

#: Relative tolerance for floating point results (summation order differs from Spark's).
FLOAT_REL_TOL = 1e-9


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    # Spark's Python workers must run this interpreter and find this checkout.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("spark_plugin tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        # Tables that tests create (saveAsTable) stay out of the checkout.
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    spark_plugin.disable(session)
    session.stop()


@pytest.fixture(params=[True, False], ids=["ansi", "non_ansi"])
def ansi(request: pytest.FixtureRequest, spark: Any):
    """Both ANSI settings; Spark 4.3's default (on) first."""
    spark.conf.set("spark.sql.ansi.enabled", "true" if request.param else "false")
    yield request.param
    spark.conf.set("spark.sql.ansi.enabled", "true")


@pytest.fixture(autouse=True)
def _plugin_off(spark: Any):
    spark_plugin.disable(spark)
    spark.conf.unset(_hook.CONF_STRICT)
    yield
    spark_plugin.disable(spark)
    spark.conf.unset(_hook.CONF_STRICT)


# -- generated data --------------------------------------------------------------------------

_D = decimal.Decimal


def _rows() -> dict[str, list[Any]]:
    """Corner cases first (nulls, NaN, ±0.0, ±inf, extremes, empty strings), then a regular tail."""
    i32_min, i32_max = -(2**31), 2**31 - 1
    i64_min, i64_max = -(2**63), 2**63 - 1
    special = {
        "k": [None, 1, 1, 2, None, 3, 2, 1, 3, 2],
        "m": [None, 0, -7, 7, 100, -100, 3, None, 1, -1],
        "i": [None, i32_min, i32_max, 0, 1, -1, 42, None, 7, -7],
        "l": [None, i64_min, i64_max, 0, 1, -1, 10**12, None, 5, -5],
        "d": [
            None,
            float("nan"),
            0.0,
            -0.0,
            float("inf"),
            float("-inf"),
            1.5,
            -2.25,
            1e300,
            -1e-300,
        ],
        "dec": [
            None,
            _D("0.00"),
            _D("-0.01"),
            _D("99999999.99"),
            _D("-99999999.99"),
            _D("1.25"),
            _D("2.50"),
            _D("0.05"),
            None,
            _D("3.33"),
        ],
        "s": [None, "", "abc", "ABC", "a%b", "a_b", "xyz", "héllo", "b", "aa"],
        "dt": [
            None,
            dt.date(1970, 1, 1),
            dt.date(1969, 12, 31),
            dt.date(2000, 2, 29),
            dt.date(1, 1, 3),
            dt.date(9999, 12, 31),
            dt.date(2024, 6, 30),
            None,
            dt.date(1995, 3, 15),
            dt.date(2000, 1, 1),
        ],
        "b": [None, True, False, True, None, False, True, False, True, False],
    }
    import random

    rng = random.Random(20261123)
    n = 190
    tail = {
        "k": [rng.choice([None, 1, 2, 3, 4]) for _ in range(n)],
        "m": [rng.choice([None, *range(-50, 51)]) for _ in range(n)],
        "i": [rng.randint(-1000, 1000) for _ in range(n)],
        "l": [rng.randint(-(10**9), 10**9) for _ in range(n)],
        "d": [
            rng.choice([None, float("nan"), -0.0, round(rng.uniform(-1e3, 1e3), 3)])
            for _ in range(n)
        ],
        "dec": [rng.choice([None, _D(rng.randint(-(10**6), 10**6)) / 100]) for _ in range(n)],
        "s": [rng.choice([None, "", "abc", "a%", "zz", "ab_c", "Straße"]) for _ in range(n)],
        "dt": [
            rng.choice([None, dt.date(2000, 1, 1) + dt.timedelta(days=rng.randint(-9000, 9000))])
            for _ in range(n)
        ],
        "b": [rng.choice([None, True, False]) for _ in range(n)],
    }
    return {c: special[c] + tail[c] for c in special}


def _schema() -> Any:
    return pa.schema(
        [
            ("k", pa.int32()),
            ("m", pa.int32()),
            ("i", pa.int32()),
            ("l", pa.int64()),
            ("d", pa.float64()),
            ("dec", pa.decimal128(10, 2)),
            ("s", pa.string()),
            ("dt", pa.date32()),
            ("b", pa.bool_()),
        ]
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Parquet files of generated data: ``t`` (corner cases, two files), ``u`` (join partner),
    ``e`` (empty)."""
    root = tmp_path_factory.mktemp("spark_plugin_data")
    rows = _rows()
    table = pa.table(rows, schema=_schema())
    (root / "t").mkdir()
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), root / "t" / "part-0.parquet", row_group_size=37)
    pq.write_table(table.slice(half), root / "t" / "part-1.parquet", row_group_size=41)
    partner = pa.table(
        {
            "uk": pa.array([None, 1, 1, 2, 5, None], pa.int32()),
            "uv": pa.array(["one", "uno", None, "two", "five", "null-key"], pa.string()),
        }
    )
    pq.write_table(partner, root / "u.parquet")
    pq.write_table(table.slice(0, 0), root / "e.parquet")
    return root


@pytest.fixture(scope="session")
def tables(spark: Any, data_dir: Path) -> Path:
    spark.read.parquet(str(data_dir / "t")).createOrReplaceTempView("t")
    spark.read.parquet(str(data_dir / "u.parquet")).createOrReplaceTempView("u")
    spark.read.parquet(str(data_dir / "e.parquet")).createOrReplaceTempView("e")
    return data_dir


def tpch_module() -> Any:
    """``benchmarks/tpch/generate.py`` (DuckDB's dbgen to Parquet, the 22 queries)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tpch_generate", REPO_ROOT / "benchmarks" / "tpch" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tpch_tables(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TPC-H SF 0.01 as Parquet, registered as Spark temp views."""
    pytest.importorskip("duckdb")
    tpch = tpch_module()
    root = Path(tpch.generate(0.01, tmp_path_factory.mktemp("tpch_sf0.01")))
    for table in tpch.TABLES:
        spark.read.parquet(str(root / f"{table}.parquet")).createOrReplaceTempView(table)
    return root


# -- comparing with plain Spark -----------------------------------------------------------------


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=FLOAT_REL_TOL)
    if type(a) is not type(b):
        return False
    return bool(a == b)


def _canonical(rows: list[Any]) -> list[Any]:
    """Rows in a fixed order (for results whose order SQL leaves undefined)."""

    def key(row: Any) -> tuple[tuple[int, str], ...]:
        # -0.0 + 0.0 is 0.0: Spark and we may pick either zero for the same group.
        return tuple(
            (0, "") if v is None else (1, str(v + 0.0 if isinstance(v, float) else v)) for v in row
        )

    return sorted(rows, key=key)


def assert_rows_equal(plain: list[Any], offloaded: list[Any], ordered: bool) -> None:
    assert len(plain) == len(offloaded), f"{len(plain)} rows from Spark, {len(offloaded)} offloaded"
    if plain and offloaded:
        assert list(plain[0].asDict().keys()) == list(offloaded[0].asDict().keys())
    left = plain if ordered else _canonical(plain)
    right = offloaded if ordered else _canonical(offloaded)
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert _same_value(x, y), f"row {index}: Spark {a} vs offloaded {b}"


def run_both(spark: Any, query: Any, *, ordered: bool = False) -> tuple[list[Any], list[Any]]:
    """Plain Spark's rows, then the offloaded rows (strict: a fallback fails the test)."""
    df = query() if callable(query) else spark.sql(query)
    plain = df.collect()
    spark_plugin.enable(spark, strict=True)
    try:
        offloaded = df.collect()
    finally:
        spark_plugin.disable(spark)
    assert _hook.STATS.last_offloaded, "the query was not offloaded"
    assert_rows_equal(plain, offloaded, ordered)
    return plain, offloaded
