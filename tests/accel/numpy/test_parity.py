"""What CuPy does differently from NumPy, as user code sees it under accel (issue 9): each
case in a fresh interpreter on the stand-in, every array on the device."""

from __future__ import annotations

import json
import textwrap

import pytest

PRELUDE = """
import json, sys
import accel
accel.install(quiet=True)
import numpy as np
real_np = sys.modules["numpy"]

def fallbacks():
    return {c["call"]: list(c["fallback_reasons"])
            for c in accel.report().to_dict()["calls"] if c["cpu_calls"]}
"""
ALL_ON_DEVICE = {"ACCEL_DEVICE": "simulated", "ACCEL_MIN_GPU_ELEMENTS": "0"}


def run(run_python, body: str) -> dict:
    proc = run_python(PRELUDE + textwrap.dedent(body), env=ALL_ON_DEVICE)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_lists_cupy_refuses_become_device_arrays(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(10) * 2
        print(json.dumps({"searchsorted": np.searchsorted(a, [2, 7]).tolist(),
                          "isin": np.isin(a, [4, 9]).nonzero()[0].tolist(),
                          "type": type(np.isin(a, [4, 9])).__name__,
                          "fallbacks": fallbacks()}))
        """,
    )
    assert out == {"searchsorted": [1, 4], "isin": [2], "type": "DeviceArray", "fallbacks": {}}


def test_reductions_cupy_lacks_run_as_its_equivalents(run_python) -> None:
    out = run(
        run_python,
        """
        m = np.arange(12.0).reshape(3, 4)
        print(json.dumps({"max": np.maximum.reduce(m).tolist(),
                          "min": float(np.minimum.reduce(m, axis=None)),
                          "all": np.logical_and.reduce(m > 0, axis=1).tolist(),
                          "fallbacks": fallbacks()}))
        """,
    )
    assert out == {
        "max": [8.0, 9.0, 10.0, 11.0],
        "min": 0.0,
        "all": [False, True, True],
        "fallbacks": {},
    }


def test_numpys_result_types(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.eye(3) * 2
        eigh, svd, qr = np.linalg.eigh(a), np.linalg.svd(a), np.linalg.qr(a)
        sign, logdet = np.linalg.slogdet(a)
        print(json.dumps({
            "named": [type(r).__name__ for r in (eigh, svd, qr, np.linalg.slogdet(a))],
            "fields": [eigh.eigenvalues.tolist(), svd.S.tolist(), qr.R.shape[0],
                       float(np.linalg.slogdet(a).logabsdet)],
            "bools": [np.allclose(a, a), np.array_equal(a, a), np.array_equiv(a, a)],
            "bool_types": [type(np.allclose(a, a)).__name__, type(np.array_equal(a, a)).__name__],
        }))
        """,
    )
    assert out["named"] == ["EighResult", "SVDResult", "QRResult", "SlogdetResult"]
    assert out["fields"][:3] == [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0], 3]
    assert out["bools"] == [True, True, True]  # json.dumps took them: Python bools
    assert out["bool_types"] == ["bool", "bool"]


def test_flags_and_read_only_arrays(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(6.0)
        before = [a.flags.writeable, a.flags.aligned, a.flags["C_CONTIGUOUS"], a.flags.owndata,
                  a[1:].flags.owndata]
        a.flags.writeable = False
        errors = []
        for write in (lambda: a.__setitem__(0, 1.0), lambda: np.add(a, 1, out=a),
                      lambda: a[2:].__setitem__(0, 1.0)):
            try:
                write()
            except ValueError as exc:
                errors.append(str(exc))
        print(json.dumps({"before": before, "errors": errors, "after": a.flags.writeable,
                          "unchanged": a.tolist()}))
        """,
    )
    assert out["before"] == [True, True, True, True, False]
    assert out["errors"] == ["assignment destination is read-only"] * 3
    assert out["after"] is False
    assert out["unchanged"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_out_of_bounds_indices_raise_as_in_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(5)
        m = np.arange(6).reshape(2, 3)
        errors = []
        for bad in (lambda: a[[1, 5]], lambda: a[np.array([-6])], lambda: m[:, [0, 3]],
                    lambda: a.__setitem__([7], 0), lambda: m[..., np.array([3])]):
            try:
                bad()
                errors.append("no error")
            except IndexError as exc:
                errors.append(str(exc))
        print(json.dumps({"errors": errors, "ok": a[[1, -5]].tolist()}))
        """,
    )
    assert out["errors"] == [
        "index 5 is out of bounds for axis 0 with size 5",
        "index -6 is out of bounds for axis 0 with size 5",
        "index 3 is out of bounds for axis 1 with size 3",
        "index 7 is out of bounds for axis 0 with size 5",
        "index 3 is out of bounds for axis 1 with size 3",
    ]
    assert out["ok"] == [1, 0]


def test_errstate_raise_is_honoured(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(3.0)
        with np.errstate(divide="raise"):
            try:
                a / 0
                raised = "no error"
            except FloatingPointError as exc:
                raised = str(exc)
        with np.errstate(all="ignore"):
            quiet = (a / 0).tolist()
        print(json.dumps({"raised": raised, "quiet": [str(v) for v in quiet],
                          "fallbacks": list(fallbacks())}))
        """,
    )
    assert out["raised"] == "divide by zero encountered in divide"
    assert out["quiet"] == ["nan", "inf", "inf"]
    # the raising call ran on NumPy and raised NumPy's error; "ignore" stays on the device
    assert out["fallbacks"] == []


def test_shuffles_change_the_users_array(run_python) -> None:
    out = run(
        run_python,
        """
        np.random.seed(1)
        a = np.arange(10)
        np.random.shuffle(a)
        expected = real_np.arange(10)
        real_np.random.seed(1)
        real_np.random.shuffle(expected)
        m = np.arange(100_000).reshape(50_000, 2)
        rng = np.random.default_rng(3)
        rng.shuffle(m)
        host = real_np.arange(100_000).reshape(50_000, 2)
        real_np.random.default_rng(3).shuffle(host)
        rs = np.random.RandomState(5)
        b = np.arange(8)
        rs.shuffle(b)
        expected_b = real_np.arange(8)
        real_np.random.RandomState(5).shuffle(expected_b)
        print(json.dumps({
            "module": a.tolist() == expected.tolist(), "type": type(a).__name__,
            "distinct_rows": len(np.unique(m[:, 0]).tolist()),
            "generator": bool((np.asarray(m) == host).all()),
            "random_state": b.tolist() == expected_b.tolist(),
            "is_generator": isinstance(rng, real_np.random.Generator),
        }))
        """,
    )
    assert out == {
        "module": True,
        "type": "DeviceArray",
        "distinct_rows": 50_000,
        "generator": True,
        "random_state": True,
        "is_generator": True,
    }


def test_device_generator_hands_back_device_arrays(run_python) -> None:
    out = run(
        run_python,
        """
        from accel import _numpy
        _numpy.set_device_random(True)
        rng = np.random.default_rng(0)
        draws = rng.random(5)
        print(json.dumps({"type": type(draws).__name__, "in_range": bool(((draws >= 0)
                          & (draws < 1)).all()), "sum_type": type(draws.sum()).__name__}))
        """,
    )
    assert out == {"type": "DeviceArray", "in_range": True, "sum_type": "float64"}


def test_nditer_writes_reach_the_device_array(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(6.0)
        with np.nditer(a, op_flags=["readwrite"]) as it:
            for x in it:
                x[...] = 2 * x
        b = np.arange(4)
        for x in np.nditer(b, op_flags=["readwrite"]):
            x[...] = x + 1
        read = [float(x) for x in np.nditer(np.arange(3.0))]
        print(json.dumps({"with": a.tolist(), "loop": b.tolist(), "read": read,
                          "type": type(a).__name__}))
        """,
    )
    assert out == {
        "with": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0],
        "loop": [1, 2, 3, 4],
        "read": [0.0, 1.0, 2.0],
        "type": "DeviceArray",
    }


def test_emath_gives_complex_for_negatives(run_python) -> None:
    out = run(
        run_python,
        """
        x = np.array([-4.0, 4.0])
        r, l = np.emath.sqrt(x), np.emath.log(np.array([-1.0]))
        print(json.dumps({"sqrt": [[v.real, v.imag] for v in r.tolist()],
                          "log_imag": l.imag.tolist(), "plain_sqrt_nan": bool(np.isnan(np.sqrt(x))[0])}))
        """,
    )
    assert out["sqrt"] == [[0.0, 2.0], [2.0, 0.0]]
    assert out["log_imag"] == pytest.approx([3.141592653589793])
    assert out["plain_sqrt_nan"] is True


def test_functions_that_write_into_an_argument(run_python) -> None:
    out = run(
        run_python,
        """
        dst = np.zeros(3)
        np.copyto(dst, [1, 2, 3])  # on the device; CuPy wants an array: the list is moved
        host = real_np.zeros(3)
        np.copyto(host, np.arange(3.0) + 5)  # into a host array: it must land there
        p = np.arange(5)
        np.put(p, [0, 4], [-1, -2])
        f = np.zeros((3, 3))
        np.fill_diagonal(f, 7)
        c = np.zeros(4)
        np.add.at(c, [0, 0, 3], 1)
        print(json.dumps({"dst": dst.tolist(), "host": host.tolist(), "put": p.tolist(),
                          "diag": np.diag(f).tolist(), "at": c.tolist()}))
        """,
    )
    assert out == {
        "dst": [1.0, 2.0, 3.0],
        "host": [5.0, 6.0, 7.0],
        "put": [-1, 1, 2, 3, -2],
        "diag": [7.0, 7.0, 7.0],
        "at": [2.0, 0.0, 0.0, 1.0],
    }


def test_flat_and_shape_assignment(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(12.0).reshape(3, 4)
        t = a.T
        t.flat[1] = -1  # not C-contiguous: written back through the array
        a.flat[0] = 100
        a.flat = 5 if False else a.flat[...]
        s = np.arange(60)
        s.shape = (3, 4, 5)
        print(json.dumps({"a": a.tolist(), "third": float(a.flat[3]),
                          "iter": [float(v) for v in t.flat][:3], "len": len(a.flat),
                          "base": a.flat.base is a, "shape": list(s.shape),
                          "last": int(s[2, 3, 4])}))
        """,
    )
    assert out["a"][0] == [100.0, 1.0, 2.0, 3.0]
    assert out["a"][1][0] == -1.0
    assert out["third"] == 3.0
    assert out["iter"] == [100.0, -1.0, 8.0]
    assert out["len"] == 12
    assert out["base"] is True
    assert out["shape"] == [3, 4, 5]
    assert out["last"] == 59


def test_unbound_ufunc_methods(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(6.0)
        print(json.dumps({
            "reduce": float(np.ufunc.reduce(np.add, a)),
            "accumulate": np.ufunc.accumulate(np.add, a).tolist()[-1],
            "outer": list(np.ufunc.outer(np.multiply, a, a).shape),
            "reduceat": np.ufunc.reduceat(np.add, a, [0, 3]).tolist(),
            "resolve": [str(d) for d in np.ufunc.resolve_dtypes(
                np.add, (real_np.dtype("f4"), real_np.dtype("f4"), None))],
            "doc": bool(np.ufunc.__doc__),
        }))
        """,
    )
    assert out["reduce"] == 15.0
    assert out["accumulate"] == 15.0
    assert out["outer"] == [6, 6]
    assert out["reduceat"] == [3.0, 12.0]
    assert out["resolve"] == ["float32", "float32", "float32"]
    assert out["doc"] is True


@pytest.mark.rapids
def test_cupy_compile_errors_mean_fall_back() -> None:
    cupy = pytest.importorskip("cupy")
    from accel import _numpy

    assert cupy.cuda.compiler.CompileException in _numpy.cupy_fallback_errors(cupy)
