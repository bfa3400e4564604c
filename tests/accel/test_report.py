"""accel.report(): counting, fallbacks with reasons, strict mode, table/dict/JSON/rich output."""

from __future__ import annotations

import json

import pytest

from accel._magics import _difference
from accel._report import AccelFallbackError, LibraryStatus, Recorder


@pytest.fixture
def recorder() -> Recorder:
    rec = Recorder()
    rec.set_library(LibraryStatus("pandas", "gpu", "cudf.pandas", "memory resource: pool"))
    return rec


def test_counts_gpu_calls_and_fallbacks_with_reasons(recorder: Recorder) -> None:
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


def test_snapshot_is_a_copy(recorder: Recorder) -> None:
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    snap = recorder.snapshot()
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    assert snap.calls[("pandas", "f")].gpu_calls == 1


def test_dict_and_json_round_trip(recorder: Recorder) -> None:
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
            "gpu_calls": 0,
            "cpu_calls": 1,
            "gpu_seconds": 0.0,
            "cpu_seconds": 0.1,
            "fallback_reasons": {"NotImplementedError": 1},
            "bytes_to_device": 0,
            "bytes_to_host": 0,
        }
    ]


def test_table_is_readable(recorder: Recorder) -> None:
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
    assert "accel is not installed in this process" in str(Recorder().snapshot())


def test_rich_rendering(recorder: Recorder) -> None:
    from rich.console import Console

    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.1)
    console = Console(record=True, width=140)
    console.print(recorder.snapshot())
    text = console.export_text()
    assert "DataFrame.merge" in text
    assert "cudf.pandas" in text


def test_strict_mode_turns_a_fallback_into_an_error(recorder: Recorder) -> None:
    recorder.strict = True
    recorder.record("pandas", "DataFrame.merge", on_gpu=True, seconds=0.1)
    with pytest.raises(AccelFallbackError, match=r"Series.apply fell back to the CPU \(TypeError"):
        recorder.record("pandas", "Series.apply", on_gpu=False, seconds=0.1, reason="TypeError")
    # the fallback is still counted
    assert recorder.snapshot().fallbacks == 1


def test_reset_keeps_library_status(recorder: Recorder) -> None:
    recorder.record("pandas", "f", on_gpu=True, seconds=0.1)
    recorder.reset()
    snap = recorder.snapshot()
    assert snap.calls == {}
    assert "pandas" in snap.libraries


def test_cell_difference_only_shows_new_calls(recorder: Recorder) -> None:
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
    rec = Recorder()
    rec.set_library(LibraryStatus("pandas", "simulated", "cudf.pandas", "no CUDA"))
    rec.set_library(LibraryStatus("scikit-learn", "cpu", "scikit-learn", "no engine"))
    rec.record("pandas", "Series.sum", on_gpu=False, seconds=0.1, reason="CUDARuntimeError")
    rec.record("scikit-learn", "fit", on_gpu=False, seconds=0.1)
    assert rec.snapshot().fallbacks == 1
