"""``import accel`` (and its siblings) loads no GPU library, no pandas, and stays cheap."""

from __future__ import annotations

import json

import pytest

GPU_MODULES = ("cupy", "cudf", "cuml", "cuvs", "rmm", "pylibcudf", "numba", "cuda", "cudf_polars")

PROBE = """
import json, sys, time
start = time.perf_counter()
import {package}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "modules": sorted(sys.modules)}}))
"""


def _gpu_modules(modules: list[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in GPU_MODULES}


@pytest.mark.parametrize("package", ["accel", "spark_plugin", "vector"])
def test_import_loads_no_gpu_library(run_python, package: str) -> None:
    # Some wheels load modules at interpreter start (cuda-bindings' .pth imports `cuda`):
    # what a bare interpreter already has is not ours.
    bare = run_python("import sys, json; print(json.dumps(sorted(sys.modules)))")
    already = _gpu_modules(json.loads(bare.stdout))
    proc = run_python(PROBE.format(package=package))
    assert proc.returncode == 0, proc.stderr
    assert _gpu_modules(json.loads(proc.stdout)["modules"]) - already == set()


def test_import_accel_is_cheap_and_leaves_pandas_alone(run_python) -> None:
    # Best of three fresh interpreters: the budget is 150 ms; a CPU-only import takes ~20 ms.
    timings = []
    for _ in range(3):
        proc = run_python(PROBE.format(package="accel"))
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        timings.append(result["seconds"])
        # accel must not import pandas itself: cudf.pandas has to get there first.
        assert "pandas" not in result["modules"]
        assert "numpy" not in result["modules"]
    assert min(timings) < 0.15, timings
