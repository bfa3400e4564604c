"""`make bench` collects every benchmark module through pytest-benchmark, and a small one runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_make_bench_collects_every_benchmark_module() -> None:
    proc = _pytest("benchmarks", "--collect-only", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}
    modules = {f"benchmarks/{p.name}" for p in (REPO / "benchmarks").glob("bench_*.py")}
    assert modules
    assert collected == modules, f"not collected: {modules - collected}"


def test_numpy_crossover_benchmark_runs_small() -> None:
    proc = _pytest(
        "benchmarks/bench_numpy.py",
        "--benchmark-only",
        env={"BENCH_NUMPY_SIZES": "1e3", "BENCH_NUMPY_ROUNDS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
