"""``python -m accel demo``: runs, compares, fits 100 columns, says plainly when there is no GPU,
shows no third-party noise, times only the work, and leaves no temporary data behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from accel import _demo, _device
from accel._demo_api import DemoStep

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the first demo printed before its table: JVM/log4j start-up lines and PySpark's warning.
NOISE = ("WARN", "Warning", "warning", "log4j", "Setting default log level", "incubator", "SLF4J")
NO_GPU = not _device.probe_gpu().available


def _demo_process(tmp_path: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """The demo in a fresh interpreter whose temporary files go to ``tmp_path/tmp``."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env["TMPDIR"] = str(scratch)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "accel", "demo", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=timeout,
        check=False,
    )


def _assert_clean(proc: subprocess.CompletedProcess, tmp_path: Path) -> None:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == "", proc.stderr
    for line in proc.stdout.splitlines():
        assert len(line) <= _demo.WIDTH, line
        assert not any(word in line for word in NOISE), line
    assert list((tmp_path / "tmp").iterdir()) == [], "the demo left temporary data behind"


def test_demo_pandas_part(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    proc = _demo_process(
        tmp_path, "--rows", "20000", "--rounds", "2", "--skip", "vector,spark", "--json", str(out)
    )
    _assert_clean(proc, tmp_path)
    if NO_GPU:
        assert "no GPU here: both columns are the same engine, so ratios show only noise" in (
            proc.stdout
        )
        assert "device: CPU only" in proc.stdout
    assert proc.stdout.count("device:") == 1, "one device line above the table, not per row"
    if NO_GPU:  # no GPU ran: no chart written, and none talked about
        assert not (tmp_path / "accel-demo.png").exists()
        assert "chart" not in proc.stdout
    rows = json.loads(out.read_text())
    assert [r["step"] for r in rows] == [
        "pandas: generate",
        "pandas: join",
        "pandas: groupby",
        "pandas: strings",
        "pandas: datetime",
        "sklearn fit",
    ]
    assert all(r["agree"] is True for r in rows)
    assert all(r["plain_seconds"] > 0 and r["accel_seconds"] > 0 for r in rows)
    assert rows[1]["device"] == ("cpu (pandas)" if NO_GPU else rows[1]["device"])
    for column in ("step", "accel ran on", "plain s", "accel s", "ratio", "same"):
        assert column in proc.stdout


@pytest.mark.slow
def test_whole_demo_fits_100_columns_is_quiet_and_cleans_up(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    pytest.importorskip("faiss")
    proc = _demo_process(tmp_path, "--rows", "20000", "--scale", "0.05", "--rounds", "2")
    _assert_clean(proc, tmp_path)
    table = proc.stdout.split("\n\n")[-1]
    spark = [line for line in table.splitlines() if line.startswith("spark: TPC-H")]
    assert len(spark) == 2, table
    assert all(line.endswith("yes") for line in spark), table
    if NO_GPU:
        # the one real CPU speed-up is marked, and the mark explained above the table
        assert all("x*" in line for line in spark), table
        assert "except the spark rows (*)" in proc.stdout
    assert sum(line.startswith("vector: ") for line in table.splitlines()) == 3, table


def test_a_shadowing_vector_package_stops_the_demo_with_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "elsewhere" / "vector"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("# another project's vector (scikit-hep's, say)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(REPO_ROOT)])
    proc = subprocess.run(
        [sys.executable, "-m", "accel", "demo", "--skip", "pandas,spark"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "name clash: `import vector` finds" in line
    assert str(fake) in line
    assert "way out" in line


def test_render_fits_the_width_and_marks_real_cpu_speedups() -> None:
    rows = [
        _demo.Row("ok " + "x" * 150, "cpu (pandas)", 1.0, 0.5, True),
        _demo.Row("bad", "cpu", 1.0, 1.0, False, "x: values differ " * 10),
        _demo.Row("spark: TPC-H Q1", "polars-cpu stages", 2.0, 1.0, True, real_on_cpu=True),
    ]
    text = _demo.render(rows, gpu=False)
    assert all(len(line) <= _demo.WIDTH for line in text.splitlines()), text
    assert "2.00x*" in text
    assert "NO" in text
    assert "bad: x: values differ" in text  # the reason, below the table
    assert "2.00x*" not in _demo.render(rows, gpu=True)


def test_provider_steps_set_up_once_untimed_warm_up_and_clean_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def setup() -> None:
        calls.append("setup")
        time.sleep(0.3)

    def cleanup() -> None:
        calls.append("cleanup")

    def plain() -> list[int]:
        calls.append("plain")
        return [1, 2]

    fake = types.ModuleType("vector._demo")
    fake.demo_steps = lambda scale: [  # type: ignore[attr-defined]
        DemoStep("same", plain, lambda: [1, 2], lambda a, b: a == b, lambda: "cpu", setup, cleanup),
        DemoStep(
            "differs", lambda: 1, lambda: 2, lambda a, b: a == b, lambda: "cpu", setup, cleanup
        ),
    ]
    monkeypatch.setitem(sys.modules, "vector._demo", fake)
    monkeypatch.setattr(_demo._device, "has_module", lambda name: name == "vector._demo")
    rows = _demo.provider_rows(1.0, skip=set(), rounds=3, say=lambda s: None)
    assert [(r.step, r.agree) for r in rows] == [("vector: same", True), ("vector: differs", False)]
    assert calls.count("setup") == 1
    assert calls.count("cleanup") == 1
    assert calls[-1] == "cleanup"
    assert calls.count("plain") == 4  # one warm-up and three rounds
    assert all(r.plain_seconds is not None and r.plain_seconds < 0.2 for r in rows)


def test_cleanup_runs_when_a_step_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    cleaned: list[bool] = []

    def boom() -> None:
        raise RuntimeError("step failed")

    fake = types.ModuleType("vector._demo")
    fake.demo_steps = lambda scale: [  # type: ignore[attr-defined]
        DemoStep(
            "x", boom, boom, lambda a, b: True, lambda: "cpu", None, lambda: cleaned.append(True)
        )
    ]
    monkeypatch.setitem(sys.modules, "vector._demo", fake)
    monkeypatch.setattr(_demo._device, "has_module", lambda name: name == "vector._demo")
    with pytest.raises(RuntimeError, match="step failed"):
        _demo.provider_rows(1.0, skip=set(), say=lambda s: None)
    assert cleaned == [True]


def test_chart_is_saved_as_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rows = [_demo.Row("pandas: join", "gpu", 1.0, 0.1, True), _demo.Row("x", "-", None, None, None)]
    path = _demo.save_chart(rows, str(tmp_path / "demo.png"), "device: GPU (a fake table)")
    assert path is not None
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_is_for_rows_that_ran_on_a_real_gpu() -> None:
    def ran(device: str) -> bool:
        return _demo.ran_on_gpu(_demo.Row("step", device, 1.0, 1.0, True))

    # what the demo's rows say where a GPU ran (pandas via accel's report, vector, spark)
    assert ran("gpu (cudf.pandas)")
    assert ran("gpu (cuVS)")
    assert ran("polars-gpu (cudf-polars) stages")
    # the CPU, the simulated device (GPU code on a host stand-in) and skipped rows do not count
    for device in (
        "cpu (pandas)",
        "cpu (faiss-cpu)",
        "simulated (cudf.pandas)",
        "simulated (stand-in)",
        "polars-cpu stages",
        "plain Spark",
        "-",
        "",
    ):
        assert not ran(device), device


def test_same_columns_tolerates_reduction_order_only() -> None:
    import numpy as np

    a = {"x": np.array([1.0, 2.0]), "k": np.array(["a", "b"], dtype=object)}
    assert _demo._same_columns(a, {"x": np.array([1.0, 2.0 + 1e-13]), "k": a["k"]})[0]
    assert not _demo._same_columns(a, {"x": np.array([1.0, 2.1]), "k": a["k"]})[0]
    assert not _demo._same_columns(a, {"x": a["x"], "k": np.array(["a", "c"], dtype=object)})[0]
    assert not _demo._same_columns(a, {"x": a["x"]})[0]


def test_the_workload_runs_without_scikit_learn(run_python, tmp_path: Path) -> None:
    out = tmp_path / "w.pkl"
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None  # as if scikit-learn were not installed\n"
        "from accel import _workload\n"
        f"sys.exit(_workload.main(['--rows', '2000', '--out', {str(out)!r}]))\n"
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    import pickle

    steps = list(pickle.loads(out.read_bytes())["results"])
    assert steps == ["generate", "join", "groupby", "strings", "datetime"]


def test_a_provider_whose_setup_fails_is_a_skipped_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_java() -> None:
        raise RuntimeError("Spark did not start (needs Java 17+): java: not found")

    fake = types.ModuleType("spark_plugin._demo")
    fake.demo_steps = lambda scale: [  # type: ignore[attr-defined]
        DemoStep("Q1", list, list, lambda a, b: True, lambda: "cpu", no_java, lambda: None)
    ]
    monkeypatch.setitem(sys.modules, "spark_plugin._demo", fake)
    monkeypatch.setattr(_demo._device, "has_module", lambda name: name == "spark_plugin._demo")
    (row,) = _demo.provider_rows(1.0, skip=set(), say=lambda s: None)
    assert row.step == "spark"
    assert row.note.startswith("skipped: Spark did not start (needs Java 17+)")
