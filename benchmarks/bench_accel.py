"""accel on a CPU-only machine: what ``import accel`` and the pass-through cost.

Targets (issue 2): ``import accel`` under 150 ms; ``import accel.auto`` + a pandas workload
within 2% of plain pandas. Each benchmark measures its plain baseline in the same run, alternating
runs so that drift on a shared machine hits both sides, and stores the ratio in ``extra_info``.

    .venv/bin/python -m pytest benchmarks/bench_accel.py --benchmark-only \
        --benchmark-json benchmarks/results/accel-cpu.json
"""

from __future__ import annotations

import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("ACCEL_BENCH_ROWS", "1000000"))
ROUNDS = int(os.environ.get("ACCEL_BENCH_ROUNDS", "5"))


def _python(*args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env["ACCEL_QUIET"] = "1"
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, env=env, cwd=REPO, capture_output=True)
    return time.perf_counter() - start


def _alternate(
    plain: list[str], accelerated: list[str], rounds: int
) -> tuple[list[float], list[float]]:
    plain_times, accel_times = [], []
    for _ in range(rounds):
        plain_times.append(_python(*plain))
        accel_times.append(_python(*accelerated))
    return plain_times, accel_times


@pytest.mark.benchmark(group="accel-cpu")
def test_import_accel(benchmark) -> None:
    """Wall time of a fresh interpreter importing accel, against one importing nothing."""
    plain, with_accel = _alternate(["-c", "pass"], ["-c", "import accel"], 15)
    benchmark.pedantic(_python, args=("-c", "import accel"), rounds=5, iterations=1)
    cost = statistics.median(with_accel) - statistics.median(plain)
    benchmark.extra_info["import_accel_ms"] = round(cost * 1e3, 1)
    benchmark.extra_info["bare_interpreter_ms"] = round(statistics.median(plain) * 1e3, 1)
    assert cost < 0.150, f"import accel took {cost * 1e3:.0f} ms (budget 150 ms)"


@pytest.mark.benchmark(group="accel-cpu")
def test_pandas_workload_pass_through(benchmark) -> None:
    """The demo workload plain vs with accel installed (no GPU), end to end in fresh processes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "r.pkl")
        base = ["-m", "accel._workload", "--rows", str(ROWS), "--out", out]
        plain, accelerated = _alternate(base, [*base, "--accelerated"], ROUNDS)
        benchmark.pedantic(_python, args=(*base, "--accelerated"), rounds=1, iterations=1)
    ratio = statistics.median(accelerated) / statistics.median(plain)
    benchmark.extra_info["rows"] = ROWS
    benchmark.extra_info["plain_median_s"] = round(statistics.median(plain), 4)
    benchmark.extra_info["accel_median_s"] = round(statistics.median(accelerated), 4)
    benchmark.extra_info["ratio_accel_vs_plain"] = round(ratio, 4)


def _steps_seconds(out: str, *args: str) -> float:
    """Run the workload; return the time its steps took (interpreter and CUDA start excluded)."""
    _python(*args)
    with open(out, "rb") as fh:
        return sum(seconds for seconds, _ in pickle.load(fh)["results"].values())


_GPU = __import__("accel._device", fromlist=["probe_gpu"]).probe_gpu()
GPU_ROWS = int(os.environ.get("ACCEL_BENCH_GPU_ROWS", "10000000"))


@pytest.mark.gpu
@pytest.mark.skipif(not _GPU.available, reason=f"no GPU: {_GPU.reason}")
@pytest.mark.benchmark(group="accel-gpu")
def test_workload_on_gpu_vs_pandas_and_bare_cudf_pandas(benchmark) -> None:
    """Issue 2's GPU goals: >= 20x plain pandas, within 5% of bare ``python -m cudf.pandas``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "r.pkl")
        base = ["-m", "accel._workload", "--rows", str(GPU_ROWS), "--out", out]
        plain = [_steps_seconds(out, *base) for _ in range(2)]
        bare = [_steps_seconds(out, "-m", "cudf.pandas", *base) for _ in range(3)]
        ours = [_steps_seconds(out, *base, "--accelerated") for _ in range(3)]
        benchmark.pedantic(_python, args=(*base, "--accelerated"), rounds=1, iterations=1)
    benchmark.extra_info.update(
        rows=GPU_ROWS,
        device=", ".join(_GPU.names),
        plain_median_s=round(statistics.median(plain), 3),
        bare_cudf_pandas_median_s=round(statistics.median(bare), 3),
        accel_median_s=round(statistics.median(ours), 3),
        speedup_vs_pandas=round(statistics.median(plain) / statistics.median(ours), 2),
        ratio_vs_bare_cudf_pandas=round(statistics.median(ours) / statistics.median(bare), 4),
    )
