"""accel.report(): counting, fallbacks with reasons, strict mode, table/dict/JSON/rich output."""

from __future__ import annotations

import json

import pytest

from accel._fallbacks import Ledger
from accel._magics import _difference
from accel._report import AccelFallbackError, LibraryStatus


@pytest.fixture
def recorder() -> Ledger:
    rec = Ledger()
    rec.set_library(LibraryStatus("pandas", "gpu", "cudf.pandas", "memory resource: pool"))
    return rec


def test_counts_gpu_calls_and_fallbacks_with_reasons(recorder: Ledger) -> None:
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.5, bytes_to_device=2048)
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.25)
    recorder.record("pandas", "Series.apply", on_gpu=False, seconds=1.0, reason="TypeError: udf")
    recorder.record("pandas", "Series.apply", on_gpu=False, seconds=1.0, reason="TypeError: udf")
    report = recorder.snapshot()
    merge = report.calls[("pandas", "DataFrame.merge")]
    assert (merge.gpu_calls, merge.cpu_calls, merge.gpu_seconds) == (2, 0, 0.75)
    apply = report.calls[("pandas", "Series.apply")]
    assert apply.cpu_calls == 2
    assert apply.reasons == {"TypeError: udf": 2}
    assert report.fallbacks == 2


def test_snapshot_is_a_copy(recorder: Ledger) -> None:
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    snap = recorder.snapshot()
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    assert snap.calls[("pandas", "f")].gpu_calls == 1


def test_dict_and_json_round_trip(recorder: Ledger) -> None:
    recorder.record("pandas", "read_csv", on_gpu=False, seconds=0.1, reason="NotImplementedError")
    data = json.loads(recorder.snapshot().to_json())
    assert data["libraries"]["pandas"] == {
        "device": "gpu",
        "engine": "cudf.pandas",
        "reason": "memory resource: pool",
    }
    assert data["calls"] == [
        {
            "library": "pandas",
            "call": "read_csv",
            "engine": "cudf.pandas",
            "gpu_calls": 0,
            "cpu_calls": 1,
            "fallbacks": 1,
            "gpu_seconds": 0.0,
            "cpu_seconds": 0.1,
            "fallback_reasons": {"NotImplementedError": 1},
            "fallback_kinds": {"unsupported": 1},
            "bytes_to_device": 0,
            "bytes_to_host": 0,
        }
    ]


def test_table_is_readable(recorder: Ledger) -> None:
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.002, bytes_to_host=3 << 20)
    recorder.record("pandas", "Series.apply", on_gpu=False, seconds=0.001, reason="TypeError: x")
    text = str(recorder.snapshot())
    assert "pandas        GPU  via cudf.pandas: memory resource: pool" in text
    lines = text.splitlines()
    header = next(line for line in lines if "CPU fallback reasons" in line)
    assert header.split()[:5] == ["library", "call", "GPU", "CPU", "time"]
    merge = next(line for line in lines if "DataFrame.merge" in line)
    assert merge.split()[2:7] == ["1", "0", "2.0", "ms", "3.0"]
    assert "TypeError: x (x1)" in text


def test_empty_report_says_not_installed() -> None:
    assert "accel is not installed in this process" in str(Ledger().snapshot())


def test_rich_rendering(recorder: Ledger) -> None:
    from rich.console import Console

    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.1)
    console = Console(record=True, width=140)
    console.print(recorder.snapshot())
    text = console.export_text()
    assert "DataFrame.merge" in text
    assert "cudf.pandas" in text


def test_strict_mode_turns_a_fallback_into_an_error(recorder: Ledger) -> None:
    recorder.strict = True
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.1)
    with pytest.raises(AccelFallbackError, match=r"Series.apply fell back to the CPU \(TypeError"):
        recorder.record("pandas", "Series.apply", on_gpu=False, seconds=0.1, reason="TypeError")
    # the fallback is still counted
    assert recorder.snapshot().fallbacks == 1


def test_reset_keeps_library_status(recorder: Ledger) -> None:
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    recorder.reset()
    snap = recorder.snapshot()
    assert snap.calls == {}
    assert "pandas" in snap.libraries


def test_cell_difference_only_shows_new_calls(recorder: Ledger) -> None:
    recorder.record("pandas", "old", on_gpu=True, seconds=0.1)
    recorder.record("pandas", "both", on_gpu=True, seconds=0.1)
    before = recorder.snapshot()
    recorder.record("pandas", "both", on_gpu=False, seconds=0.2, reason="R")
    recorder.record("pandas", "new", on_gpu=True, seconds=0.3)
    diff = _difference(recorder.snapshot(), before)
    assert set(diff.calls) == {("pandas", "both"), ("pandas", "new")}
    both = diff.calls[("pandas", "both")]
    assert (both.gpu_calls, both.cpu_calls, dict(both.reasons)) == (0, 1, {"R": 1})


def test_public_report_function() -> None:
    import accel

    assert isinstance(accel.report(), accel.Report)
    accel.reset_report()
    assert accel.report().calls == {}


def test_cpu_calls_on_the_simulated_device_are_fallbacks_too() -> None:
    rec = Ledger()
    rec.set_library(LibraryStatus("pandas", "simulated", "cudf.pandas", "no CUDA"))
    rec.set_library(LibraryStatus("scikit-learn", "cpu", "scikit-learn", "no engine"))
    rec.record("pandas", "Series.sum", on_gpu=False, seconds=0.1, reason="CUDARuntimeError")
    rec.record("scikit-learn", "fit", on_gpu=False, seconds=0.1)
    assert rec.snapshot().fallbacks == 1


# --- one ledger for every package, one report across them -------------------------------


def test_ledger_counts_calls_and_fallbacks_of_any_library() -> None:
    from accel.core import Device, Ledger

    ledger = Ledger()
    ledger.record_call("vector", "IndexFlatL2.search", device=Device.SIMULATED, seconds=0.02)
    ledger.record_call("spark", "DataFrame.collect", device="cpu", seconds=0.5, engine="polars-cpu")
    ledger.fallback("vector", "IndexFlat.add", "no cuVS equivalent for METRIC_L1")
    report = ledger.snapshot()
    assert report.calls[("vector", "IndexFlatL2.search")].gpu_calls == 1
    spark = report.calls[("spark", "DataFrame.collect")]
    assert (spark.cpu_calls, spark.fallbacks, spark.engine) == (1, 0, "polars-cpu")
    # a CPU call by choice is not a fallback; one that left the device is, with its reason
    assert report.fallbacks == 1
    assert report.calls[("vector", "IndexFlat.add")].reasons == {
        "no cuVS equivalent for METRIC_L1": 1
    }


def test_strict_is_decided_by_the_ledger_per_library() -> None:
    from accel import core
    from spark_plugin._engine import GPUFallbackError
    from spark_plugin._hook import OffloadError

    ledger = core.Ledger()
    ledger.set_strict(True, "pandas")
    ledger.fallback("vector", "search", "not strict for vector")  # counted, no error
    with pytest.raises(AccelFallbackError) as failure:
        ledger.fallback("pandas", "Series.apply", "TypeError: udf", error=AccelFallbackError)
    error = failure.value
    assert isinstance(error, core.FallbackError)
    assert (error.library, error.call, error.reason, error.kind) == (
        "pandas",
        "Series.apply",
        "TypeError: udf",
        "unsupported",
    )
    # the caller's own switch (a Spark session's spark.accel.strict) is OR-ed in
    with pytest.raises(core.OutOfMemoryFallback) as oom:
        ledger.fallback("spark", "stage", "MemoryError", kind="out_of_memory", strict=True)
    assert oom.value.kind == "out_of_memory"
    assert ledger.snapshot().fallbacks == 3
    assert issubclass(OffloadError, core.FallbackError)
    assert issubclass(GPUFallbackError, core.FallbackError)


def test_calls_are_sorted_by_time_with_totals() -> None:
    from accel.core import Device, Ledger

    ledger = Ledger()
    ledger.record_call("pandas", "fast", device=Device.GPU, seconds=0.001)
    ledger.record_call("numpy", "slow", device=Device.GPU, seconds=0.5, bytes_to_host=1024)
    ledger.fallback("numpy", "middle", "TypeError", seconds=0.01)
    report = ledger.snapshot()
    assert [row[1] for row in report.rows()] == ["slow", "middle", "fast"]
    assert report.totals() == (
        "total",
        "3 calls",
        "2",
        "1",
        "511.0 ms",
        "1.0 KiB",
        "",
        "1 fallbacks",
    )
    text = str(report)
    assert text.splitlines()[-1].split()[:4] == ["total", "3", "calls", "2"]
    # the per-library table: numpy first (slower), then pandas
    by_library = [row[0] for row in report.library_rows()]
    assert by_library == ["numpy", "pandas"]


def test_jupyter_shows_a_table(recorder: Ledger) -> None:
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.1)
    recorder.record("pandas", "Series.apply", on_gpu=False, seconds=0.1, reason="a <b> c")
    report = recorder.snapshot()
    page = report._repr_html_()
    assert page.count("<table>") == 3  # libraries, per library, calls
    assert "<td>DataFrame.merge</td>" in page
    assert "a &lt;b&gt; c (x1)" in page  # escaped
    from IPython.lib.pretty import pretty

    assert pretty(report) == str(report)


def test_spark_stage_reruns_reach_the_report() -> None:
    from accel import core
    from spark_plugin import _hook

    core.ledger.reset()
    _hook._count_gpu_fallbacks(["MemoryError: out of device memory", "NotImplementedError: x"])
    stats = core.ledger.snapshot().calls[("spark", _hook.STAGE_RERUN)]
    assert (stats.fallbacks, dict(stats.kinds)) == (2, {"out_of_memory": 1, "unsupported": 1})
    assert stats.engine == "polars-gpu (cudf-polars)"
    core.ledger.reset()


_SPARK_AND_VECTOR = r"""
import importlib.util, json, tempfile
import numpy as np
import accel

spec = importlib.util.spec_from_file_location("tpch", "benchmarks/tpch/generate.py")
tpch = importlib.util.module_from_spec(spec); spec.loader.exec_module(tpch)
root = tpch.generate(0.01, tempfile.mkdtemp())

from pyspark.sql import SparkSession
import spark_plugin
spark = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "1").config("spark.sql.session.timeZone", "UTC")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
for table in ("lineitem", "nation"):
    spark.read.parquet(f"{root}/{table}.parquet").createOrReplaceTempView(table)
spark_plugin.enable(spark)
q1 = spark.sql(tpch.query(1)).collect()
spark.sql("SELECT collect_list(n_name) AS names FROM nation").collect()  # no offload: Spark

import vector
rng = np.random.default_rng(0)
xb = rng.standard_normal((200, 8)).astype(np.float32)
index = vector.IndexFlatL2(8, device="simulated")
index.add(xb)
_, ids = index.search(xb[:5], 1)
odd = vector.IndexFlat(8, vector.METRIC_L1, device="simulated")  # no cuVS metric: faiss-cpu
report = accel.report()
print(json.dumps({"q1_rows": len(q1), "ids": ids.ravel().tolist(),
                  "device": str(index.device), "odd_reason": odd.fallback_reason,
                  "report": report.to_dict(), "text": str(report)}))
spark.stop()
"""


def _spark_ready() -> str:
    import importlib.util
    import shutil

    for module in ("pyspark", "duckdb", "polars", "faiss"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return "" if shutil.which("java") else "no Java for Spark"


def test_report_shows_a_tpch_query_and_a_vector_search_in_one_table(run_python) -> None:
    """Issue 12's done-when: TPC-H Q1 offloaded, a query left to Spark, and a vector search
    on the simulated device, each with its engine and fallbacks, in one accel.report()."""
    import sys

    missing = _spark_ready()
    if missing:
        pytest.skip(missing)
    proc = run_python(_SPARK_AND_VECTOR, env={"PYSPARK_PYTHON": sys.executable}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["q1_rows"] == 4  # TPC-H Q1: four (returnflag, linestatus) groups
    assert out["ids"] == [0, 1, 2, 3, 4]
    calls = {(c["library"], c["call"]): c for c in out["report"]["calls"]}
    collect = calls[("spark", "DataFrame.collect")]
    # Q1 ran offloaded on Polars' CPU engine (no GPU here); the collect_list query fell back
    assert collect["engine"] == "polars-cpu"
    assert (collect["cpu_calls"], collect["fallbacks"]) == (2, 1), collect
    assert any("CollectList" in reason for reason in collect["fallback_reasons"])
    # vector records into the same ledger: the search ran on the simulated device, with its
    # engine, and the METRIC_L1 index fell back to faiss-cpu with vector's reason
    assert out["device"] == "simulated"
    vector_calls = {c["call"]: c for c in out["report"]["calls"] if c["library"] == "vector"}
    search = vector_calls["IndexFlatL2.search"]
    assert (search["gpu_calls"], search["fallbacks"], search["engine"]) == (1, 0, "simulated cuVS")
    odd = vector_calls["IndexFlat"]  # the fallback's row names the engine it was meant for
    assert (odd["gpu_calls"], odd["fallbacks"], odd["engine"]) == (0, 1, "simulated cuVS"), odd
    assert any(r in out["odd_reason"] and "metric" in r for r in odd["fallback_reasons"]), odd
    table = out["text"].splitlines()
    header = next(i for i, line in enumerate(table) if "CPU fallback reasons" in line)
    rows = table[header + 2 :]
    assert any(r.split()[:2] == ["spark", "DataFrame.collect"] and "polars-cpu" in r for r in rows)
    assert any(r.split()[:2] == ["vector", "IndexFlatL2.search"] for r in rows)
    assert any(r.split()[:2] == ["vector", "IndexFlat"] and "simulated cuVS" in r for r in rows)
    assert rows[-1].startswith("  total")
