"""GPU tier: the demo workload on real cudf.pandas, equal to pandas, no fallbacks on what we claim.

Skipped without a GPU; ``pytest --require-gpu -m gpu`` on the lent machine makes a skip a failure.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

#: The workload steps whose pandas calls we claim run on cuDF: each must make device calls.
CLAIMED_ON_GPU = ("join", "groupby", "strings", "datetime")


def test_workload_on_cudf_equals_pandas(run_python, tmp_path: Path) -> None:
    results = {}
    for accelerated in (False, True):
        out = tmp_path / f"{accelerated}.pkl"
        args = ["-m", "accel._workload", "--rows", "1000000", "--out", str(out)]
        proc = run_python(
            "", *args, *(["--accelerated"] if accelerated else []), env={"ACCEL_DEVICE": "gpu"}
        )
        assert proc.returncode == 0, proc.stderr
        results[accelerated] = pickle.loads(out.read_bytes())
    fast = results[True]
    assert fast["devices"]["pandas"] == "gpu (cudf.pandas)"
    for step, (_, plain_cols) in results[False]["results"].items():
        fast_cols = fast["results"][step][1]
        for column, values in plain_cols.items():
            a, b = np.asarray(values), np.asarray(fast_cols[column])
            if a.dtype.kind == "f":
                np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=f"{step}.{column}")
            else:
                assert np.array_equal(a.astype(object), b.astype(object)), (step, column)
    assert fast["report"]["calls"], "cudf.pandas calls must be counted"


def test_claimed_operations_do_not_fall_back(run_python) -> None:
    code = """
import json, accel
accel.install(device="gpu", strict=True)
from accel._workload import run
steps = {}
def after_step(step):
    steps[step] = sum(c.gpu_calls for c in accel.report().calls.values())
    accel.reset_report()
run(200_000, after_step=after_step)
print(json.dumps({"report": accel.report().to_dict(), "steps": steps}))
"""
    proc = run_python(code, env={"CUDF_PANDAS_RMM_MODE": "pool"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["report"]["libraries"]["pandas"]["device"] == "gpu"
    # strict mode: no step fell back (a fallback raised); and each claimed step ran on cuDF
    on_device = {step: out["steps"][step] for step in CLAIMED_ON_GPU}
    assert all(n > 0 for n in on_device.values()), on_device


def test_explicit_gpu_installs_cudf_pandas(run_python) -> None:
    proc = run_python(
        "import accel, pandas as pd; accel.install(device='gpu');"
        "print(accel.report().libraries['pandas'].engine)"
    )
    # pandas was imported first: refused clearly, not silently wrong
    assert "pandas was imported before accel.install()" in proc.stderr + proc.stdout
    proc = run_python(
        "import accel; accel.install(device='gpu'); import pandas as pd;"
        "import json; s = pd.Series([1, 2, 3]); print(int(s.sum()));"
        "print(json.dumps(accel.report().to_dict()['libraries']))"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "6"
    assert json.loads(lines[1])["pandas"]["engine"] == "cudf.pandas"


def test_cuml_keeps_accels_memory_mode(run_python, gpu_import) -> None:
    # pandas imported first: cudf.pandas sets no memory resource, so cuml.accel would switch RMM
    # to managed memory on its own unless accel tells it not to (ACCEL_RMM_MODE=pool).
    gpu_import("cuml")  # a skip here, a failure under --require-gpu
    proc = run_python(
        "import pandas, accel, rmm; accel.install(device='gpu', quiet=True);"
        "mr = rmm.mr.get_current_device_resource();"
        "print(type(mr).__name__, type(getattr(mr, 'upstream_mr', None)).__name__,"
        " accel.report().libraries['scikit-learn'].device)",
        env={"ACCEL_RMM_MODE": "pool"},
    )
    assert proc.returncode == 0, proc.stderr
    resource, upstream, sklearn_device = proc.stdout.split()
    assert "Managed" not in resource + upstream
    assert sklearn_device == "gpu"


def test_memory_setup_failure_leaves_no_hook(run_python) -> None:
    # cudf.pandas puts its import hook on before it sets up memory; a mode it refuses must
    # leave pandas plain, reported on the CPU with the reason.
    proc = run_python(
        "import sys, accel; accel.install(device='gpu', quiet=True); import pandas;"
        "from cudf.pandas.module_accelerator import ModuleAccelerator;"
        "print('_fsproxy_slow' in vars(pandas), any(isinstance(f, ModuleAccelerator)"
        " for f in sys.meta_path), '|', accel.report().libraries['pandas'].reason)",
        env={"CUDF_PANDAS_RMM_MODE": "not-a-mode"},
    )
    assert proc.returncode == 0, proc.stderr
    flags, reason = proc.stdout.strip().split(" | ")
    assert flags == "False False"
    assert reason.startswith("cuDF could not start (CUDAStartError: cudf.pandas could not set up")


def test_uninstall_and_install_again_on_the_gpu(run_python) -> None:
    code = """
import json, accel
accel.install(device="gpu", quiet=True)
import pandas as pd
accel.uninstall()
import pandas as plain
accel.install(device="gpu", quiet=True)
import importlib
again = importlib.import_module("pandas")
total = int(again.Series([1, 2, 3]).sum())
calls = {c["call"]: c for c in accel.report().to_dict()["calls"]}
print(json.dumps(["_fsproxy_slow" in vars(plain), "_fsproxy_slow" in vars(again), total,
                  calls["Series.sum"]["gpu_calls"]]))
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [False, True, 6, 1]
    assert "already configured memory resource" not in proc.stderr
