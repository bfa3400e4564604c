"""``df.write``: the query runs offloaded, Spark's writer writes; files read back equal Spark's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from accel import core
from spark_plugin import _hook

from .conftest import assert_rows_equal

pytestmark = pytest.mark.usefixtures("tables")

#: Offloaded today (strict passes): a scan of every type, an aggregate, a join.
_QUERIES = [
    "SELECT * FROM t",
    "SELECT k, count(*) AS n, sum(i) AS total, avg(d) AS mean, min(s) AS first FROM t GROUP BY k",
    "SELECT t.k, t.s, u.uv FROM t JOIN u ON t.k = u.uk WHERE t.m > 0",
]
#: A window function that is not offloaded (ntile).
_NOT_OFFLOADED = "SELECT k, ntile(2) OVER (ORDER BY k) AS n FROM t"

Write = Callable[[Any, str], None]


def _files(root: Path) -> list[str]:
    """Data files and markers under ``root``, by directory (file names hold random ids)."""
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            kind = "_SUCCESS" if path.name == "_SUCCESS" else path.suffix
            out.append(f"{path.parent.relative_to(root)}/{kind}")
    return sorted(set(out))


def _read(spark: Any, path: Path) -> tuple[list[Any], Any]:
    df = spark.read.parquet(str(path))
    return df.collect(), df.schema


def _write_both(spark: Any, tmp_path: Path, sql: str, write: Write, *, strict: bool = True) -> None:
    """``write`` plainly and with the plugin on; the written files must read back the same."""
    df = spark.sql(sql)
    plain_dir, offloaded_dir = tmp_path / "plain", tmp_path / "offloaded"
    write(df, str(plain_dir))
    offloaded_before = _hook.STATS.offloaded
    spark_plugin.enable(spark, strict=strict)
    try:
        write(df, str(offloaded_dir))
    finally:
        spark_plugin.disable(spark)
    if strict:
        assert _hook.STATS.last_offloaded
        assert _hook.STATS.offloaded == offloaded_before + 1
    plain_rows, plain_schema = _read(spark, plain_dir)
    rows, schema = _read(spark, offloaded_dir)
    assert schema == plain_schema
    assert_rows_equal(plain_rows, rows, ordered=False)
    assert _files(offloaded_dir) == _files(plain_dir)


@pytest.mark.parametrize("sql", _QUERIES)
def test_parquet_write_equals_spark(spark: Any, tmp_path: Path, sql: str) -> None:
    before = core.ledger.snapshot().calls.get(("spark", "DataFrame.write.parquet"))
    _write_both(spark, tmp_path, sql, lambda df, path: df.write.parquet(path))
    after = core.ledger.snapshot().calls[("spark", "DataFrame.write.parquet")]
    assert after.cpu_calls + after.gpu_calls == 1 + (
        0 if before is None else before.cpu_calls + before.gpu_calls
    )


def test_builder_calls_are_replayed(spark: Any, tmp_path: Path) -> None:
    def write(df: Any, path: str) -> None:
        (
            df.write.format("parquet")
            .mode("overwrite")
            .option("compression", "gzip")
            .options(parquet_block_size=1 << 20)
            .partitionBy("k", "b")
            .save(path)
        )

    _write_both(spark, tmp_path, _QUERIES[0], write)
    # The replayed option reached Spark's writer: the files are gzip-compressed.
    assert any(p.name.endswith(".gz.parquet") for p in (tmp_path / "offloaded").rglob("*"))


def test_partition_by_equals_spark(spark: Any, tmp_path: Path) -> None:
    _write_both(
        spark, tmp_path, _QUERIES[1], lambda df, path: df.write.partitionBy("k").parquet(path)
    )
    # One directory per key, nulls in Spark's default partition, as Spark writes them.
    names = sorted(p.name for p in (tmp_path / "offloaded").iterdir() if p.is_dir())
    assert names == ["k=1", "k=2", "k=3", "k=4", "k=__HIVE_DEFAULT_PARTITION__"]


def test_save_modes_equal_spark(spark: Any, tmp_path: Path) -> None:
    from pyspark.errors import AnalysisException

    def sequence(df: Any, path: str) -> list[int]:
        counts = []
        df.write.parquet(path)
        counts.append(spark.read.parquet(path).count())
        df.write.mode("append").parquet(path)
        counts.append(spark.read.parquet(path).count())
        df.write.mode("overwrite").parquet(path)
        counts.append(spark.read.parquet(path).count())
        df.write.mode("ignore").parquet(path)
        counts.append(spark.read.parquet(path).count())
        with pytest.raises(AnalysisException, match="PATH_ALREADY_EXISTS"):
            df.write.mode("errorifexists").parquet(path)
        counts.append(spark.read.parquet(path).count())
        return counts

    df = spark.sql(_QUERIES[1])
    plain = sequence(df, str(tmp_path / "plain"))
    offloaded_before, fallbacks_before = _hook.STATS.offloaded, _hook.STATS.fallbacks
    spark_plugin.enable(spark)
    try:
        offloaded = sequence(df, str(tmp_path / "offloaded"))
    finally:
        spark_plugin.disable(spark)
    assert plain == offloaded == [5, 10, 5, 5, 5]
    # The first write, append and overwrite ran offloaded (and the four counts); ignore and
    # errorifexists went straight to Spark, which writes nothing over an existing path.
    assert _hook.STATS.offloaded == offloaded_before + 3 + 5
    assert _hook.STATS.fallbacks == fallbacks_before
    assert_rows_equal(
        _read(spark, tmp_path / "plain")[0], _read(spark, tmp_path / "offloaded")[0], ordered=False
    )


def test_save_as_table_and_insert_into_equal_spark(spark: Any, tmp_path: Path) -> None:
    from pyspark.errors import AnalysisException

    df = spark.sql(_QUERIES[1])

    def sequence(name: str, path: Path) -> None:
        df.write.option("path", str(path)).saveAsTable(name)
        df.write.insertInto(name)
        df.write.mode("overwrite").option("path", str(path)).saveAsTable(name)
        df.write.insertInto(name, overwrite=False)

    try:
        sequence("w_plain", tmp_path / "plain")
        spark_plugin.enable(spark, strict=True)
        offloaded_before = _hook.STATS.offloaded
        try:
            sequence("w_offloaded", tmp_path / "offloaded")
            fallbacks = _hook.STATS.fallbacks
            # An existing table: Spark's own refusal, even in strict mode; nothing is offloaded.
            with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_ALREADY_EXISTS"):
                df.write.option("path", str(tmp_path / "other")).saveAsTable("w_offloaded")
            assert _hook.STATS.fallbacks == fallbacks
        finally:
            spark_plugin.disable(spark)
        assert _hook.STATS.offloaded == offloaded_before + 4
        plain, offloaded = spark.table("w_plain").collect(), spark.table("w_offloaded").collect()
        assert len(plain) == 10
        assert_rows_equal(plain, offloaded, ordered=False)
        assert spark.table("w_offloaded").schema == spark.table("w_plain").schema
    finally:
        spark.sql("DROP TABLE IF EXISTS w_plain")
        spark.sql("DROP TABLE IF EXISTS w_offloaded")


def test_strict_write_of_a_query_not_offloaded_raises_and_writes_nothing(
    spark: Any, tmp_path: Path
) -> None:
    df = spark.sql(_NOT_OFFLOADED)
    spark_plugin.enable(spark, strict=True)
    try:
        with pytest.raises(spark_plugin.OffloadError, match=r"write\.parquet"):
            df.write.parquet(str(tmp_path / "out"))
    finally:
        spark_plugin.disable(spark)
    assert not (tmp_path / "out").exists()


def test_a_write_not_offloaded_falls_back_to_spark(spark: Any, tmp_path: Path) -> None:
    fallbacks = _hook.STATS.fallbacks
    _write_both(
        spark, tmp_path, _NOT_OFFLOADED, lambda df, path: df.write.parquet(path), strict=False
    )
    assert _hook.STATS.fallbacks == fallbacks + 1
    assert not _hook.STATS.last_offloaded
    action, reason = _hook.STATS.fallback_reasons[-1]
    assert action == "write.parquet"
    assert "Window" in reason


@pytest.mark.parametrize("strict", [False, True], ids=["rerun_on_spark", "strict"])
def test_a_failing_write_task_leaves_no_output(spark: Any, tmp_path: Path, strict: bool) -> None:
    """ANSI overflow in one split task (t is read in several; the others succeed): the job
    aborts, Spark's commit protocol leaves no part file and no _SUCCESS."""
    spark.conf.set("spark.sql.ansi.enabled", "true")
    # Tiny splits: t is read by several tasks, and the ones without the overflow succeed.
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2k")
    spark.conf.set("spark.sql.files.openCostInBytes", "1k")
    try:
        _fail_a_write(spark, tmp_path, strict)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.unset("spark.sql.files.openCostInBytes")
        spark.conf.unset("spark.sql.ansi.enabled")


def _fail_a_write(spark: Any, tmp_path: Path, strict: bool) -> None:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    sql = "SELECT k, l * 2 AS doubled FROM t"
    report = spark_plugin.explain(spark.sql(sql))
    assert report.offloaded
    assert report.stage_plan is not None
    assert len(report.stage_plan.splits or ()) > 1
    plain_out, out = tmp_path / "plain", tmp_path / "offloaded"
    with pytest.raises((PySparkException, Py4JJavaError), match="ARITHMETIC_OVERFLOW"):
        spark.sql(sql).write.parquet(str(plain_out))
    spark_plugin.enable(spark, strict=strict)
    errors = (spark_plugin.OffloadError,) if strict else (PySparkException, Py4JJavaError)
    try:
        # Not strict: the offloaded attempt fails, the rerun on Spark raises Spark's own error.
        with pytest.raises(errors, match=r"ARITHMETIC_OVERFLOW|SPARK_ANSI_ERROR"):
            spark.sql(sql).write.parquet(str(out))
    finally:
        spark_plugin.disable(spark)
    assert not _hook.STATS.last_offloaded
    # Plain Spark leaves an empty directory; so does the rerun. Strict: the offloaded attempt's
    # empty directory is removed (it did not exist before).
    assert plain_out.exists()
    assert _files(plain_out) == []
    if strict:
        assert not out.exists()
    else:
        assert out.exists()
        assert _files(out) == []
