"""The pandas layer on real cudf.pandas (rapids tier: cuDF installed, GPU or not).

Without a GPU, ``ACCEL_DEVICE=simulated`` runs cudf.pandas' own import hook and proxies with no
CUDA, so every call tries cuDF, fails, and falls back to pandas: the counting, naming, strict
mode and uninstall/reinstall run on the real machinery. Each case runs in a fresh interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import textwrap

import pytest

from accel import _device

pytestmark = [
    pytest.mark.rapids,
    pytest.mark.skipif(
        importlib.util.find_spec("cudf") is None, reason="cuDF is not installed (make test-rapids)"
    ),
]

# With a GPU, cuDF runs these calls instead of falling back (tests/accel/test_gpu.py covers it).
no_cuda = pytest.mark.skipif(
    _device.probe_gpu().available, reason="a GPU is present: these calls would not fall back"
)

PRELUDE = """
import json, sys
import accel

def calls():
    return {c["call"]: c for c in accel.report().to_dict()["calls"]}

def hooked():
    from cudf.pandas.module_accelerator import ModuleAccelerator
    return any(isinstance(f, ModuleAccelerator) for f in sys.meta_path)
"""


def run(run_python, body: str, env: dict[str, str] | None = None) -> dict:
    proc = run_python(PRELUDE + textwrap.dedent(body), env={"ACCEL_QUIET": "1", **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_calls_are_named_and_counted_once(run_python) -> None:
    out = run(
        run_python,
        """
        accel.install(device="simulated")
        import pandas as pd
        df = pd.DataFrame({"k": [1, 2, 1], "v": [1.0, 2.0, 3.0]})
        accel.reset_report()
        merged = df.merge(df, on="k")
        total = df.groupby("k")["v"].sum()
        shifted = df["v"] + 1
        # these two go through cudf.pandas' _wrappers, which imported the call function by name
        dtypes, columns = df.dtypes, df.columns
        import numpy as np
        roots = np.sqrt(df["v"].values)  # an ndarray proxy's __array_ufunc__ (_wrappers.numpy)
        result = [len(merged), total.to_dict(), shifted.tolist(), list(columns), str(dtypes["v"]),
                  [float(r) ** 2 for r in roots]]
        print(json.dumps({"calls": calls(), "result": result,
                          "fallbacks": accel.report().fallbacks,
                          "library": accel.report().to_dict()["libraries"]["pandas"]}))
        """,
    )
    calls = out["calls"]
    assert out["result"][:5] == [5, {"1": 4.0, "2": 2.0}, [2.0, 3.0, 4.0], ["k", "v"], "float64"]
    assert out["result"][5] == pytest.approx([1.0, 2.0, 3.0])
    assert out["library"]["device"] == "simulated"
    assert out["library"]["engine"] == "cudf.pandas"
    for name in (
        "DataFrame.merge",
        "DataFrame.groupby",
        "DataFrameGroupBy.__getitem__",
        "SeriesGroupBy.sum",
        "Series.__add__",
        "DataFrame.dtypes",
        "DataFrame.columns",
        "numpy.sqrt",
    ):
        assert name in calls, sorted(calls)
    merge = calls["DataFrame.merge"]
    assert merge["gpu_calls"] + merge["cpu_calls"] == 1
    assert not {"NoneType", "getattr", "<lambda>"} & set(calls), sorted(calls)
    assert not any("<locals>" in name for name in calls), sorted(calls)
    assert out["fallbacks"] == sum(c["cpu_calls"] for c in calls.values())


@no_cuda
def test_fallbacks_carry_cudfs_own_error(run_python) -> None:
    out = run(
        run_python,
        """
        accel.install(device="simulated")
        import pandas as pd
        s = pd.Series([3, 1, 2])
        accel.reset_report()
        print(json.dumps({"sorted": s.sort_values().tolist(), "calls": calls()}))
        """,
    )
    assert out["sorted"] == [1, 2, 3]
    sort = out["calls"]["Series.sort_values"]
    assert (sort["gpu_calls"], sort["cpu_calls"]) == (0, 1)
    (reason,) = sort["fallback_reasons"]
    assert "CUDA" in reason or "cuda" in reason, reason


@no_cuda
def test_strict_mode_raises_accels_error_after_counting(run_python) -> None:
    out = run(
        run_python,
        """
        accel.install(device="simulated", strict=True)
        import pandas as pd
        try:
            pd.Series([1, 2])
            error = None
        except accel.AccelFallbackError as exc:
            error = [type(exc).__name__, str(exc)]
        print(json.dumps({"error": error, "calls": calls(),
                          "fallbacks": accel.report().fallbacks}))
        """,
    )
    assert out["error"][0] == "AccelFallbackError"
    assert out["error"][1].startswith("pandas call Series fell back to the CPU (")
    assert out["calls"]["Series"]["cpu_calls"] == 1
    assert out["fallbacks"] == 1


@no_cuda
def test_cudfs_own_strict_switch_is_counted_and_becomes_accels_error(run_python) -> None:
    out = run(
        run_python,
        """
        accel.install(device="simulated", strict=True)
        import pandas as pd
        from cudf.pandas.fast_slow_proxy import FallbackError
        try:
            pd.Series([1, 2])
        except accel.AccelFallbackError as exc:
            error = [type(exc).__name__, isinstance(exc.__context__, FallbackError)]
        print(json.dumps({"error": error, "calls": calls()}))
        """,
        env={"CUDF_PANDAS_FAIL_ON_FALLBACK": "True"},
    )
    assert out["error"] == ["AccelFallbackError", True]
    assert out["calls"]["Series"]["cpu_calls"] == 1


def test_uninstall_and_install_again_in_one_process(run_python) -> None:
    out = run(
        run_python,
        """
        import importlib
        accel.install(device="simulated")
        import pandas as pd
        first = pd.DataFrame({"a": [1, 2]})
        steps = [("on", "_fsproxy_slow" in vars(pd), hooked())]
        accel.uninstall()
        plain = importlib.import_module("pandas")
        import pandas.core.frame
        steps.append(("off", "_fsproxy_slow" in vars(plain), hooked()))
        is_plain = plain.DataFrame is pandas.core.frame.DataFrame
        libraries_off = sorted(accel.report().libraries)
        accel.install(device="simulated")
        again = importlib.import_module("pandas")
        steps.append(("on again", "_fsproxy_slow" in vars(again), hooked()))
        accel.reset_report()
        total = int(again.Series([4, 5]).sum()) + int(first["a"].sum())
        print(json.dumps({
            "steps": steps, "plain": is_plain, "libraries_off": libraries_off, "total": total,
            "status": accel.report().to_dict()["libraries"]["pandas"]["device"],
            "counted": sorted(calls()),
        }))
        """,
    )
    assert out["steps"] == [["on", True, True], ["off", False, False], ["on again", True, True]]
    assert out["plain"] is True
    assert out["libraries_off"] == []
    assert out["total"] == 12
    assert out["status"] == "simulated"
    assert {"Series", "Series.sum", "DataFrame.__getitem__"} <= set(out["counted"])


def test_pandas_imported_before_the_first_install_is_still_refused(run_python) -> None:
    proc = run_python(
        "import pandas, accel; accel.install(device='simulated');"
        "print(accel.report().libraries['pandas'].reason)",
        env={"ACCEL_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pandas was imported before accel.install()")


FAKE_GPU = """
from accel import _device
_device.probe_gpu = lambda: _device.GPUProbe(True, 1, ("Fake GPU",), "13.0")
"""


@no_cuda
def test_cuda_that_cannot_start_leaves_pandas_on_the_cpu_with_the_reason(run_python) -> None:
    # The driver "sees a GPU" but the CUDA runtime cannot start (as with a driver older than the
    # runtime): cudf.pandas would install its hook and only warn; accel must say CPU, and why.
    proc = run_python(
        PRELUDE
        + FAKE_GPU
        + textwrap.dedent(
            """
            accel.install()
            import pandas as pd
            libs = accel.report().to_dict()["libraries"]
            print(json.dumps({"proxied": "_fsproxy_slow" in vars(pd), "hooked": hooked(),
                              "pandas": libs["pandas"], "sklearn": libs["scikit-learn"],
                              "sum": int(pd.Series([1, 2]).sum())}))
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["proxied"], out["hooked"], out["sum"]) == (False, False, 3)
    assert out["pandas"]["device"] == "cpu"
    assert out["pandas"]["reason"].startswith("cuDF could not start (CUDAStartError: the CUDA")
    assert out["sklearn"]["device"] == "cpu"
    assert "CUDAStartError" in out["sklearn"]["reason"]
    assert "pandas runs on the CPU" in proc.stderr
    assert "Failed to check cudaDevAttrConcurrentManagedAccess" not in proc.stderr


@no_cuda
def test_cuda_that_cannot_start_is_an_error_in_strict_mode(run_python) -> None:
    proc = run_python(
        PRELUDE
        + FAKE_GPU
        + textwrap.dedent(
            """
            try:
                accel.install(strict=True)
            except RuntimeError as exc:
                print(json.dumps([type(exc).__name__, hooked()]))
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["CUDAStartError", False]


# The pieces accel's install is built from, on cudf.pandas installed by hand (as the GPU path
# does): the counting wrapper and the hook's removal.
BY_HAND = """
import json, sys, warnings
import cudf.pandas
from cudf.pandas import fast_slow_proxy
from accel import _fastslow, _gpu
from accel._fallbacks import Ledger
from accel._report import LibraryStatus
recorder = Ledger()
recorder.set_library(LibraryStatus("pandas", "gpu", "cudf.pandas", "by hand"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # without CUDA, install() warns and keeps its hook on
    cudf.pandas.install()
_fastslow.instrument(fast_slow_proxy, recorder)
import pandas as pd
"""


def test_wrapper_on_real_fast_slow_proxy_names_every_call(run_python) -> None:
    proc = run_python(
        BY_HAND
        + textwrap.dedent(
            """
            df = pd.DataFrame({"a": [1, 2]})
            df.dtypes, df.columns, df.sum()
            names = sorted(call for _, call in recorder.snapshot().calls)
            _fastslow.uninstrument(fast_slow_proxy)
            from cudf.pandas._wrappers import pandas as wrappers
            restored = (
                fast_slow_proxy._fast_slow_function_call is wrappers._fast_slow_function_call
                and fast_slow_proxy._fast_slow_function_call.__name__ == "_fast_slow_function_call"
            )
            print(json.dumps({"names": names, "restored": restored}))
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"DataFrame", "DataFrame.dtypes", "DataFrame.columns", "DataFrame.sum"} <= set(
        out["names"]
    ), out["names"]
    assert not {"NoneType", "getattr"} & set(out["names"])
    assert out["restored"] is True


def test_disable_pandas_removes_the_proxy_modules(run_python) -> None:
    proc = run_python(
        BY_HAND
        + textwrap.dedent(
            """
            proxied = "_fsproxy_slow" in vars(sys.modules["pandas"])
            _gpu.disable_pandas()
            import pandas
            import pandas.core.frame
            print(json.dumps([proxied, "_fsproxy_slow" in vars(pandas),
                              pandas.DataFrame is pandas.core.frame.DataFrame]))
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [True, False, True]


@no_cuda
def test_strict_wrapper_turns_cudfs_fallback_error_into_accels(run_python) -> None:
    # accel's strict mode used to set CUDF_PANDAS_FAIL_ON_FALLBACK, whose error escaped uncounted.
    proc = run_python(
        BY_HAND
        + textwrap.dedent(
            """
            recorder.strict = True
            import accel
            try:
                pd.Series([1, 2])
            except accel.AccelFallbackError as exc:
                print(json.dumps([type(exc).__name__, recorder.snapshot().fallbacks]))
            """
        ),
        env={"CUDF_PANDAS_FAIL_ON_FALLBACK": "True"},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["AccelFallbackError", 1]


@no_cuda
def test_cuda_that_cannot_start_leaves_faiss_alone(run_python) -> None:
    # Same fault as above: faiss was reported as "GPU via vector (cuVS)" and aliased to vector.
    pytest.importorskip("cuvs")
    proc = run_python(
        PRELUDE
        + FAKE_GPU
        + textwrap.dedent(
            """
            accel.install(quiet=True)
            import faiss
            libs = accel.report().to_dict()["libraries"]
            print(json.dumps({"module": faiss.__name__, "faiss": libs["faiss"]}))
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["module"] == "faiss"
    assert out["faiss"]["device"] == "cpu"
    assert "CUDA could not start" in out["faiss"]["reason"]
