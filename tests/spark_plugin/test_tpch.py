"""TPC-H SF 0.01 (DuckDB dbgen → Parquet): all 22 queries, plain Spark vs the plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import spark_plugin
from spark_plugin import _hook

from .conftest import assert_rows_equal, tpch_module

pytest.importorskip("duckdb")
tpch = tpch_module()

#: Queries whose ORDER BY fixes the full row order (the others are compared ignoring order).
_TOTALLY_ORDERED = {1, 4, 5, 7, 8, 9, 12, 13, 16, 22}
_OFFLOADED: dict[int, bool] = {}


@pytest.mark.parametrize("number", range(1, 23), ids=[f"q{n}" for n in range(1, 23)])
def test_tpch_query_equals_spark(spark: Any, tpch_tables: Path, number: int) -> None:
    df = spark.sql(tpch.query(number))
    plain = df.collect()
    report = spark_plugin.explain(df)
    spark_plugin.enable(spark)
    try:
        offloaded = df.collect()
    finally:
        spark_plugin.disable(spark)
    _OFFLOADED[number] = report.offloaded and _hook.STATS.last_offloaded
    assert_rows_equal(plain, offloaded, ordered=number in _TOTALLY_ORDERED)
    # Today every query is offloaded; a regression to fallback should be seen, not hidden.
    assert _OFFLOADED[number], "\n".join(report.reasons) or str(_hook.STATS.fallback_reasons[-1:])


def test_tpch_offload_count_recorded(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs after the 22 queries (same module, file order): writes and checks the tally."""
    if len(_OFFLOADED) != 22:
        pytest.skip("needs the 22 query tests of this module in the same run")
    count = sum(_OFFLOADED.values())
    out = tmp_path_factory.mktemp("tpch_tally") / "offloaded.json"
    out.write_text(json.dumps({"offloaded": count, "of": 22, "per_query": _OFFLOADED}))
    print(f"TPC-H SF0.01: {count}/22 fully offloaded")
    assert count >= 18


@pytest.mark.gpu
@pytest.mark.parametrize("number", [1, 3, 5, 6, 9, 13, 18], ids=lambda n: f"q{n}")
def test_gpu_engine_stage_equals_cpu_engine(
    spark: Any, tpch_tables: Path, number: int, gpu_import: Any
) -> None:
    """GPU tier: the first stage of each query (scan → joins → partial aggregate, whole table),
    run on cudf-polars with no CPU rerun allowed, equals the Polars CPU engine's output."""
    gpu_import("cudf_polars")
    import polars as pl

    from spark_plugin import _execute, _worker

    report = spark_plugin.explain(spark.sql(tpch.query(number)))
    stages = report.stage_plan
    assert stages is not None
    partial = stages.aggregate is not None and not stages.raw_aggregate
    if partial:
        assert stages.aggregate is not None
        fields = _execute._partial_fields(stages.aggregate)
    else:
        fields = _execute._transport(stages.lower.output)

    def run(device: str) -> Any:
        stage = _worker.Stage(
            report.settings,
            device,
            plan=stages.lower,
            split=stages.split,
            aggregate=stages.aggregate if partial else None,
            aggregate_mode="partial" if partial else "",
            output_fields=fields,
            output_columns=tuple(n for n, _ in fields),
            strict=True,  # a GPU failure raises instead of rerunning on the CPU engine
        )
        frame = _worker.run_stage(stage, None, None)
        structs = [n for n, t in fields if isinstance(t, tuple)]
        frame = frame.with_columns(
            [
                pl.col(n).struct.rename_fields([f"{n}.{f}" for f, _ in t])
                for n, t in fields
                if isinstance(t, tuple)
            ]
        )
        return frame.unnest(structs) if structs else frame

    cpu = run("cpu")
    gpu = run("gpu")
    assert cpu.sort(cpu.columns).equals(gpu.sort(gpu.columns))
