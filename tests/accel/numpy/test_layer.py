"""The NumPy layer's machinery, each case in a fresh interpreter (it wraps ``__import__``)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

SIMULATED = {"ACCEL_DEVICE": "simulated"}

PRELUDE = """
import json, sys
import accel
accel.install(quiet=True)
import numpy as np
real_np = sys.modules["numpy"]

def calls():
    return {c["call"]: c for c in accel.report().to_dict()["calls"]}
"""


def run(run_python, body: str, env: dict[str, str] | None = None) -> dict:
    proc = run_python(PRELUDE + textwrap.dedent(body), env={**SIMULATED, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cpu_auto_leaves_numpy_alone(run_python) -> None:
    # No GPU here: `import accel.auto` must not even import the NumPy layer.
    proc = run_python(
        "import sys, accel.auto, numpy, accel\n"
        "print('accel._numpy' in sys.modules, type(numpy).__name__, "
        "'numpy' in accel.report().libraries, __import__ is __builtins__.__import__)"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "module", "False", "True"]


def test_user_code_gets_accel_libraries_get_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        import sysconfig, pandas, scipy.ndimage, numpy.linalg
        from numpy import linalg as la
        from numpy.fft import fft
        from accel._numpy import _hook
        site = sysconfig.get_paths()["purelib"]
        print(json.dumps({
            "user": type(np).__name__,
            "submodule": type(numpy.linalg).__name__,
            "from_import": type(la).__name__,
            "from_sub_import": fft.__module__,
            "pandas": pandas.core.frame.np is real_np,
            "scipy": scipy.ndimage._filters.np is real_np,
            "sys_modules": sys.modules["numpy"] is real_np and type(real_np).__name__,
            "site_file": _hook.is_user_module({"__name__": "lib", "__file__": site + "/lib.py"}),
            "repo_file": _hook.is_user_module({"__name__": "m", "__file__": "/work/x/m.py"}),
            "our_packages": _hook.is_user_module({"__name__": "vector._io", "__file__": "/x.py"}),
            "notebook": _hook.is_user_module({"__name__": "__main__"}),
            # what `pytest -p accel._numpy._pytest` does for NumPy's own tests
            "marked": (_hook.treat_as_user_code(site + "/numpy/_core/tests"),
                       _hook.is_user_module({"__name__": "numpy._core.tests.t",
                                             "__file__": site + "/numpy/_core/tests/t.py"}))[1],
        }))
        """,
    )
    assert out == {
        "user": "AcceleratedModule",
        "submodule": "AcceleratedModule",
        "from_import": "AcceleratedModule",
        "from_sub_import": "numpy.fft",
        "pandas": True,
        "scipy": True,
        "sys_modules": "module",
        "site_file": False,
        "repo_file": True,
        "our_packages": False,
        "notebook": True,
        "marked": True,
    }


def test_placement_by_size(run_python) -> None:
    out = run(
        run_python,
        """
        small, big = np.arange(1000.0), np.arange(200_000.0)
        host_big = real_np.ones(150_000)
        moved = np.sin(host_big)  # a host array of device size moves once, counted
        print(json.dumps({
            "small": type(small).__name__, "big": type(big).__name__,
            "small_op": type(np.sqrt(small)).__name__,
            "stays": type(big[:10] + 1).__name__,
            "moved": type(moved).__name__,
            "moved_bytes": calls()["sin"]["bytes_to_device"],
            "threshold": accel.report().libraries["numpy"].reason,
        }))
        """,
    )
    assert out["small"] == out["small_op"] == "ndarray"
    assert out["big"] == out["stays"] == out["moved"] == "DeviceArray"
    assert out["moved_bytes"] == 150_000 * 8
    assert "100,000" in out["threshold"]


def test_threshold_is_configurable(run_python) -> None:
    out = run(
        run_python,
        "print(json.dumps([type(np.arange(10)).__name__, type(np.arange(9)).__name__]))",
        env={"ACCEL_MIN_GPU_ELEMENTS": "10"},
    )
    assert out == ["DeviceArray", "ndarray"]


def test_library_hand_off_is_one_counted_copy(run_python) -> None:
    out = run(
        run_python,
        """
        import scipy.ndimage
        a = np.arange(200_000, dtype=np.float64)
        accel.reset_report()
        smooth = scipy.ndimage.uniform_filter1d(a, 3)
        c = calls()["ndarray.__array__ (to host)"]
        print(json.dumps({
            "type": type(smooth).__name__, "copies": c["gpu_calls"], "bytes": c["bytes_to_host"],
            "ok": bool(real_np.allclose(smooth[1:-1], real_np.arange(1, 199_999))),
        }))
        """,
    )
    assert out == {"type": "ndarray", "copies": 1, "bytes": 1_600_000, "ok": True}


def test_dlpack_hands_over_the_device_memory_without_a_copy(run_python) -> None:
    # A DLPack consumer (here NumPy's own from_dlpack; PyTorch or JAX on a GPU) shares the device
    # array's memory: the stand-in's is host memory, so the consumer sees the same buffer.
    out = run(
        run_python,
        """
        a = np.arange(200_000, dtype=np.float64)
        accel.reset_report()
        shared = real_np.from_dlpack(a)
        copied = sum(c["bytes_to_host"] for c in calls().values())
        shared[0] = 42.0
        frozen = np.lib.stride_tricks.sliding_window_view(a, 2)
        try:
            real_np.from_dlpack(frozen)
            refused = "no error"
        except BufferError as exc:
            refused = str(exc)
        print(json.dumps({
            "device": type(a).__name__, "first": float(a[0]), "host_copies": copied,
            "dlpack_device": list(a.__dlpack_device__()), "read_only": refused,
        }))
        """,
    )
    assert out["device"] == "DeviceArray"
    assert out["first"] == 42.0  # the consumer wrote into the device array's memory
    assert out["host_copies"] == 0
    assert out["dlpack_device"] == [1, 0]  # kDLCPU: the stand-in's memory
    assert "read-only" in out["read_only"]


def test_unsupported_dtype_falls_back_with_reason(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(200_000)
        objs = a.astype(object)  # the device has no object dtype
        c = calls()["ndarray.astype"]
        print(json.dumps({
            "type": type(objs).__name__, "dtype": str(objs.dtype), "first": objs[5],
            "cpu": c["cpu_calls"], "reasons": list(c["fallback_reasons"]),
        }))
        """,
    )
    assert out["type"] == "ndarray"
    assert out["dtype"] == "object"
    assert out["first"] == 5
    assert out["cpu"] == 1
    assert "Unsupported dtype object" in out["reasons"][0]


def test_missing_device_function_falls_back_and_data_stays_on_device(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(200_000.0)
        r = np.maximum.accumulate(a[::-1])  # the stand-in, like CuPy, has no maximum.accumulate
        c = calls()["maximum.accumulate"]
        print(json.dumps({"type": type(r).__name__, "ends": [float(r[0]), float(r[-1])],
                          "reasons": list(c["fallback_reasons"]), "to_host": c["bytes_to_host"]}))
        """,
    )
    assert out["type"] == "DeviceArray"
    assert out["ends"] == [199_999.0, 199_999.0]
    assert out["reasons"] == ["NotImplementedError: `cupy_maximum.accumulate` is not supported yet"]
    assert out["to_host"] == 1_600_000


def test_device_out_of_memory_falls_back(run_python) -> None:
    out = run(
        run_python,
        """
        from accel._numpy import _simulated
        _simulated.set_capacity(1_000_000)
        a = np.arange(200_000.0)  # 1.6 MB does not fit
        c = calls()["arange"]
        print(json.dumps({"type": type(a).__name__, "sum": float(a.sum()),
                          "reasons": list(c["fallback_reasons"])}))
        """,
    )
    assert out == {
        "type": "ndarray",
        "sum": float(sum(range(200_000))),
        "reasons": ["device out of memory (OutOfMemoryError)"],
    }


def test_numpy_errors_are_numpy_errors(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(200_000.0)
        errors = []
        for bad in (lambda: a.reshape(7, 3), lambda: a[300_000], lambda: a + np.ones(3),
                    lambda: np.linalg.inv(np.ones((400, 400)) + a[:160_000].reshape(400, 400))):
            try:
                bad()
            except Exception as exc:
                errors.append(type(exc).__name__)
        print(json.dumps(errors))
        """,
    )
    assert out == ["ValueError", "IndexError", "ValueError", "LinAlgError"]


def test_strict_mode_turns_numpy_fallback_into_error(run_python) -> None:
    out = run(
        run_python,
        """
        accel.install(strict=True)  # already installed: switches strict mode on
        a = np.arange(200_000.0)
        ok = float(np.sin(a).sum())
        try:
            np.maximum.accumulate(a)
            print(json.dumps("no error"))
        except accel.AccelFallbackError as exc:
            print(json.dumps(str(exc)))
        """,
    )
    assert "numpy call maximum.accumulate fell back to the CPU" in out


def test_random_seed_gives_numpys_numbers_unless_device_streams(run_python) -> None:
    out = run(
        run_python,
        """
        from accel import _numpy
        np.random.seed(0)
        draws = np.random.rand(200_000)
        expected = real_np.random.RandomState(0).rand(200_000)
        same = bool(real_np.array_equal(real_np.asarray(draws), expected))
        _numpy.set_device_random(True)
        np.random.seed(0)
        device = np.random.rand(200_000)
        print(json.dumps({
            "type": type(draws).__name__, "same": same,
            "device_type": type(device).__name__,
            "device_same": bool(real_np.array_equal(real_np.asarray(device), expected)),
            "device_in_range": bool(((device >= 0) & (device < 1)).all()),
        }))
        """,
    )
    assert out == {
        "type": "DeviceArray",
        "same": True,
        "device_type": "DeviceArray",
        "device_same": False,
        "device_in_range": True,
    }


def test_pickle_round_trip_and_plain_process(run_python, tmp_path: Path) -> None:
    target = tmp_path / "a.pkl"
    out = run(
        run_python,
        f"""
        import pickle
        a = np.arange(200_000, dtype=np.int32).reshape(400, 500)
        back = pickle.loads(pickle.dumps(a))
        open({str(target)!r}, "wb").write(pickle.dumps(a))
        print(json.dumps({{"type": type(back).__name__, "equal": bool((back == a).all()),
                           "dtype": str(back.dtype)}}))
        """,
    )
    assert out == {"type": "DeviceArray", "equal": True, "dtype": "int32"}
    plain = run_python(
        f"import pickle, numpy; a = pickle.load(open({str(target)!r}, 'rb'));"
        "print(type(a).__name__, a.shape, int(a.sum()))"
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == ["ndarray", "(400,", "500)", str(sum(range(200_000)))]


def test_uninstall_restores_numpy_and_keeps_device_arrays_working(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(200_000.0)
        accel.uninstall()
        import numpy as fresh
        print(json.dumps({"fresh": type(fresh).__name__, "still": float((a * 2).sum()),
                          "new_stays_host": type(np.arange(200_000.0)).__name__}))
        """,
    )
    assert out == {
        "fresh": "module",
        "still": float(sum(range(200_000)) * 2),
        "new_stays_host": "ndarray",
    }


def test_report_covers_numpy_calls(run_python) -> None:
    proc = run_python(
        "import accel; accel.install(quiet=True)\n"
        "import numpy as np\n"
        "a = np.ones(200_000); b = (a @ a)\n"
        "print(accel.report())",
        env=SIMULATED,
    )
    assert proc.returncode == 0, proc.stderr
    assert "numpy         SIMULATED via accel.numpy on a host stand-in for CuPy" in proc.stdout
    assert "matmul" in proc.stdout


def test_broken_cupy_leaves_numpy_on_the_cpu(run_python, tmp_path: Path) -> None:
    fake = tmp_path / "cupy"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise RuntimeError('CUDA driver version is insufficient')\n")
    proc = run_python(
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from accel import _numpy\n"
        "st = _numpy.enable('gpu', 10)\n"
        "import numpy\n"
        "print(st.device, '|', st.reason, '|', type(numpy).__name__)"
    )
    assert proc.returncode == 0, proc.stderr
    device, reason, numpy_type = (s.strip() for s in proc.stdout.split("|"))
    assert device == "cpu"
    assert numpy_type == "module"
    assert reason == "CuPy could not start (RuntimeError: CUDA driver version is insufficient)"


@pytest.mark.gpu
def test_real_cupy_serves_numpy(run_python) -> None:
    proc = run_python(
        "import accel; accel.install(quiet=True)\n"
        "import numpy as np\n"
        "a = np.arange(10_000_000, dtype=np.float32)\n"
        "print(type(a._fast).__module__.split('.')[0], accel.report().libraries['numpy'].device)",
        env={"ACCEL_DEVICE": "gpu"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["cupy", "gpu"]


def test_function_and_ufunc_proxies_stand_in_for_numpys(run_python) -> None:
    out = run(
        run_python,
        """
        import pickle
        from numpy.testing import assert_array_equal
        a = np.arange(200_000.0)
        assert_array_equal(a * 1, real_np.arange(200_000.0))  # testing helpers get host copies
        print(json.dumps({
            "eq": [np.add == real_np.add, np.sum == real_np.sum, real_np.sum in [np.sum]],
            "hash": {real_np.add: 1}.get(np.add) == 1 and {real_np.mean: 2}.get(np.mean) == 2,
            "pickled": pickle.loads(pickle.dumps(np.sum)) is real_np.sum,
            "ufunc_pickled": pickle.loads(pickle.dumps(np.add)) is real_np.add,
            "isinstance_ufunc": isinstance(np.add, np.ufunc),
            "name": np.linalg.inv.__name__,
            "testing_copies": calls()["ndarray.__array__ (to host)"]["gpu_calls"],
        }))
        """,
    )
    assert out == {
        "eq": [True, True, True],
        "hash": True,
        "pickled": True,
        "ufunc_pickled": True,
        "isinstance_ufunc": True,
        "name": "inv",
        "testing_copies": 1,
    }
