"""CAST from and to strings, and trim / replace / lpad / rpad: equal to plain Spark, ANSI on and
off, over generated strings (every whitespace Spark trims or not, signs, exponents, huge
numbers, Java's spellings of NaN and Infinity, Unicode digits, date forms).

Per row: Spark's legacy CAST and (for ANSI) ``try_cast`` against our compiled expression on
the same strings (an ANSI error is our failing check; a failing check where Spark has a value
is a hand-back to Spark, allowed). Whole queries: offloaded and equal (or both raise).
"""

from __future__ import annotations

import decimal
import math
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import spark_plugin
from spark_plugin import _ir
from spark_plugin._compile import Compiler
from spark_plugin._ir import Call, Col

from ._fuzz import runner
from ._fuzz import strings as fuzz_strings
from .conftest import run_both

_TARGETS = {
    "int": "integer",
    "bigint": "long",
    "tinyint": "byte",
    "smallint": "short",
    "double": "double",
    "boolean": "boolean",
    "decimal(10,2)": "decimal(10,2)",
    "decimal(38,0)": "decimal(38,0)",
    "decimal(5,5)": "decimal(5,5)",
    "date": "date",
}


@pytest.fixture(scope="module")
def strings_table(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> list[str | None]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(11)
    values = [None, *fuzz_strings._WORDS] + [fuzz_strings._string(rng) for _ in range(500)]
    root = tmp_path_factory.mktemp("string_casts")
    table = pa.table(
        {"i": pa.array(range(len(values)), pa.int32()), "s": pa.array(values, pa.string())}
    )
    pq.write_table(table, root / "gs.parquet", row_group_size=128)
    spark.read.parquet(str(root / "gs.parquet")).createOrReplaceTempView("gs")
    return values


def _ours(strings: list[str | None], target: str, ansi: bool) -> list[Any]:
    """Our expression per row: its value, or "RAISE" where its check fails the stage."""
    call: _ir.Expr = Call("cast_from_string", (Col("s", "string"),), target, (ansi,))
    if target == "date":  # years past 9999 do not fit Python's dates
        call = Call("cast_to_string", (call,), "string")

    def run(values: list[str | None]) -> list[Any]:
        compiler = Compiler(_ir.Settings(ansi=ansi, time_zone="UTC"), None, None)  # type: ignore[arg-type]
        frame = pl.DataFrame({"s": values}, schema={"s": pl.String}).lazy()
        frame, exprs, _ = compiler._on(frame, lambda: [compiler.expr(call).alias("v")])
        return frame.select(exprs).collect()["v"].to_list()

    try:
        return run(strings)
    except pl.exceptions.PolarsError:
        out: list[Any] = []
        for s in strings:
            try:
                out.append(run([s])[0])
            except pl.exceptions.PolarsError:
                out.append("RAISE")
        return out


def _same(want: Any, got: Any, target: str) -> bool:
    if target.startswith("decimal") and got is not None:
        scale = int(target.rstrip(")").split(",")[1])
        got = decimal.Decimal(int(got)).scaleb(-scale, decimal.Context(prec=60))
    if isinstance(want, float) and isinstance(got, float):
        if math.isnan(want):
            return math.isnan(got)
        return want == got and math.copysign(1, want) == math.copysign(1, got)
    return type(want) is type(got) and want == got


@pytest.mark.parametrize("spark_type", list(_TARGETS))
def test_cast_from_string_per_row(spark: Any, strings_table: Any, spark_type: str) -> None:
    value = "CAST(CAST(s AS {t}) AS STRING)" if spark_type == "date" else "CAST(s AS {t})"
    spark.conf.set("spark.sql.ansi.enabled", "false")
    legacy = spark.sql(f"SELECT s, {value.format(t=spark_type)} AS v FROM gs ORDER BY i").collect()
    spark.conf.set("spark.sql.ansi.enabled", "true")
    tried = value.replace("CAST(s", "try_cast(s")
    ansi = spark.sql(f"SELECT {tried.format(t=spark_type)} AS v FROM gs ORDER BY i").collect()
    strings = [row.s for row in legacy]
    target = _TARGETS[spark_type]
    for mode, spark_values in ((False, [r.v for r in legacy]), (True, [r.v for r in ansi])):
        ours = _ours(strings, target, mode)
        computed, handed_back, wrong = 0, 0, []
        for s, want, got in zip(strings, spark_values, ours, strict=True):
            raises = mode and s is not None and want is None
            if got == "RAISE":
                handed_back += not raises  # else Spark's own ANSI error
                continue
            computed += 1
            if raises or not _same(want, got, target):
                wrong.append((s, "raises" if raises else want, got))
        assert not wrong, f"ansi={mode}: {wrong[:10]}"
        assert computed > 0
        assert handed_back < len(strings) // 4, f"ansi={mode}: {handed_back} left to Spark"


_CLEAN = {
    "int": "'  12 ', '-0', '+7', '2147483647', '-2147483648', '\t3\n', NULL",
    "bigint": "'9223372036854775807', ' -9223372036854775808', '0012'",
    "double": "'1.5', ' -2e3 ', 'NaN', '-Infinity', 'inf', '1d', '.5', '1e400'",
    "decimal(10,2)": "'1.005', '-0.004', ' 99999999.99', '+.5', '7.'",
    "boolean": "' TRUE', 'n', 'Yes', '0', 'f'",
    "date": "'2024', '2024-2', '2024-2-29 10:00', ' 2000-01-01T', '0001-01-01'",
}


@pytest.mark.parametrize("spark_type", list(_CLEAN))
def test_valid_strings_offloaded(spark: Any, ansi: bool, spark_type: str, tmp_path: Path) -> None:
    spark.sql(f"SELECT explode(array({_CLEAN[spark_type]})) AS s").write.parquet(
        str(tmp_path / "v")
    )
    spark.read.parquet(str(tmp_path / "v")).createOrReplaceTempView("valid_strings")
    run_both(spark, f"SELECT s, CAST(s AS {spark_type}) AS v FROM valid_strings")


def test_invalid_string_raises_under_ansi_only(spark: Any, ansi: bool, tmp_path: Path) -> None:
    spark.sql("SELECT explode(array('12', '1.5', 'x', '')) AS s").write.parquet(str(tmp_path / "b"))
    df = spark.read.parquet(str(tmp_path / "b")).selectExpr("s", "CAST(s AS INT) AS v")
    if not ansi:
        run_both(spark, lambda: df)
        return
    with pytest.raises(Exception, match="CAST_INVALID_INPUT"):
        df.collect()
    spark_plugin.enable(spark)
    try:
        with pytest.raises(Exception, match="CAST_INVALID_INPUT"):
            df.collect()  # our check fails the stage; Spark reruns it and raises its own error
    finally:
        spark_plugin.disable(spark)


@pytest.mark.usefixtures("tables")
def test_to_string(spark: Any, ansi: bool) -> None:
    run_both(
        spark,
        "SELECT CAST(m AS STRING), CAST(l AS STRING), CAST(dec AS STRING), CAST(b AS STRING),"
        " CAST(dt AS STRING), CAST(CAST(dec AS DECIMAL(12,0)) AS STRING) FROM t",
    )


def test_double_to_string_refused(spark: Any, strings_table: Any) -> None:
    report = spark_plugin.explain(spark.sql("SELECT CAST(CAST(s AS DOUBLE) AS STRING) FROM gs"))
    assert not report.offloaded
    assert any("cast from double to string" in r for r in report.reasons)


@pytest.mark.parametrize(
    "expr",
    [
        "trim(s), ltrim(s), rtrim(s)",
        "trim(BOTH '0 1' FROM s), trim(LEADING '' FROM s), trim(TRAILING '.é' FROM s)",
        "replace(s, '1', 'ab'), replace(s, ''), replace(s, '', 'x'), replace(s, '-', '')",
        "lpad(s, 5, '*'), rpad(s, 3), lpad(s, 0, 'x'), rpad(s, -2, 'x'), lpad(s, 4, '')",
        "rpad(s, 30, 'é'), lpad(s, 2, ' ')",
    ],
)
def test_string_functions(spark: Any, strings_table: Any, ansi: bool, expr: str) -> None:
    run_both(spark, f"SELECT s, {expr} FROM gs")


def test_try_functions_refused_whatever_their_alias(spark: Any, strings_table: Any) -> None:
    # try_add(i, i) AS z prints as (i + i) AS z: the eval mode itself says TRY.
    for sql in (
        "SELECT try_add(i, 2147483647) AS z FROM gs",
        "SELECT try_multiply(i, i) AS z FROM gs",
        "SELECT try_cast(s AS INT) AS z FROM gs",
    ):
        report = spark_plugin.explain(spark.sql(sql))
        assert not report.offloaded, sql
        assert any("try_*" in r for r in report.reasons), report.reasons


def test_fuzz_strings_batch(spark: Any, tmp_path: Path) -> None:
    tally = runner.Tally()
    for seed in (1, 2):
        table = fuzz_strings.make_table(seed, tmp_path / f"seed{seed}")
        spark.read.parquet(str(tmp_path / f"seed{seed}" / table.name)).createOrReplaceTempView(
            table.name
        )
        for number in range(12):
            query = fuzz_strings.query(random.Random(f"{seed}:{number}"), [table])
            runner.run(spark, query, tally, f"strings seed {seed} query {number}")
    print(tally.line())
    assert tally.counts["offloaded"] > 0, tally.line()
    assert not tally.mismatches, "\n".join(tally.mismatches)
