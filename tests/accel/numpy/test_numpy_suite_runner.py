"""``benchmarks/numpy_suite.py``'s guards: a slow or memory-hungry test fails alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy_suite  # noqa: E402

TESTS = """
import time
import numpy as np

def test_slow():
    time.sleep(30)

def test_balloon():
    np.ones(2**29)  # 4 GiB, over the 1 GiB limit

def test_fine():
    assert np.ones(3).sum() == 3
"""


def test_slow_and_ballooning_tests_fail_alone(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "test_guarded.py").write_text(TESTS)
    monkeypatch.setitem(numpy_suite.LIMITS, "memory_gb", 1.0)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO / "benchmarks"),
        "NUMPY_SUITE_TEST_TIMEOUT": "1",
        "NUMPY_SUITE_CURRENT_TEST": str(tmp_path / "current"),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "numpy_suite_guard",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
            "test_guarded.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=numpy_suite._limit_memory,
        check=False,
    )
    out = proc.stdout
    assert "FAILED test_guarded.py::test_slow - numpy_suite_guard.PerTestTimeout" in out, out
    assert "FAILED test_guarded.py::test_balloon" in out, out
    assert "MemoryError" in out, out
    assert "PASSED test_guarded.py::test_fine" in out, out
    assert (tmp_path / "current").read_text() == "test_guarded.py::test_fine"


def test_test_name_deselects_by_function() -> None:
    assert numpy_suite._test_name("m.py::TestA::test_b[x-1]") == "test_b"
    assert numpy_suite._test_name("m.py::test_c") == "test_c"
    assert numpy_suite._test_name("") is None
