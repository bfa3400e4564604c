"""Defects NumPy's own suite and review found in the layer, each against plain NumPy's answer:
each case in a fresh interpreter on the stand-in, every array on the device."""

from __future__ import annotations

import json
import textwrap

PRELUDE = """
import importlib, json, sys
import accel
accel.install(quiet=True)
import numpy as np
real_np = importlib.import_module("numpy")

def calls():
    return {c["call"]: c for c in accel.report().to_dict()["calls"]}

def fallbacks():
    return {k: list(c["fallback_reasons"]) for k, c in calls().items() if c["cpu_calls"]}

def error(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return "no error"
"""
ALL_ON_DEVICE = {"ACCEL_DEVICE": "simulated", "ACCEL_MIN_GPU_ELEMENTS": "0"}


def run(run_python, body: str) -> dict:
    proc = run_python(PRELUDE + textwrap.dedent(body), env=ALL_ON_DEVICE)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_as_strided_views_the_device_array(run_python) -> None:
    out = run(
        run_python,
        """
        from numpy.lib.stride_tricks import as_strided
        def writes(xp, strided):
            a = xp.zeros(10)
            view = strided(a, shape=(5,), strides=(2 * a.itemsize,))
            view[...] = 7.0
            frozen = strided(a, shape=(2,), strides=(a.itemsize,), writeable=False)
            return a.tolist(), frozen.flags.writeable, error(lambda: frozen.__setitem__(0, 1.0))
        host = real_np.zeros(4)
        host_view = as_strided(host, shape=(2,), strides=(2 * host.itemsize,))
        host_view[...] = 3.0
        print(json.dumps({
            "accel": writes(np, as_strided),
            "numpy": writes(real_np, real_np.lib.stride_tricks.as_strided),
            "same_function": np.lib.stride_tricks.as_strided is as_strided,
            "device_view": type(as_strided(np.arange(4), shape=(2,))).__name__,
            "host": [type(host_view).__name__, host.tolist()],
            "fallbacks": fallbacks(),
        }))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == [7.0, 0.0] * 5  # the writes reached the array
    assert out["same_function"] is True
    assert out["device_view"] == "DeviceArray"
    assert out["host"] == ["ndarray", [3.0, 0.0, 3.0, 0.0]]  # a host array's view stays a view
    assert out["fallbacks"] == {}


def test_sliding_window_view_of_a_device_array_is_a_device_view(run_python) -> None:
    # CuPy refuses writeable=True: before, the call fell back to NumPy on a host copy, and the
    # writes through the view never reached the device array.
    out = run(
        run_python,
        """
        def windows(xp):
            a = xp.zeros(6)
            view = xp.lib.stride_tricks.sliding_window_view(a, 3, writeable=True)
            view[1, 0] = 5.0
            frozen = xp.lib.stride_tricks.sliding_window_view(a, (2,))
            return [a.tolist(), real_np.asarray(frozen).tolist(), frozen.flags.writeable,
                    error(lambda: frozen.__setitem__((0, 0), 1.0))]
        print(json.dumps({
            "accel": windows(np),
            "numpy": windows(real_np),
            "device_view": type(np.lib.stride_tricks.sliding_window_view(np.arange(4), 2)).__name__,
            "fallbacks": fallbacks(),
        }))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == [0.0, 5.0, 0.0, 0.0, 0.0, 0.0]  # the write reached the array
    assert out["device_view"] == "DeviceArray"
    assert out["fallbacks"] == {}


def test_take_and_put_raise_for_out_of_bounds_indices_as_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            a = xp.arange(6).reshape(2, 3)
            flat = xp.arange(5)
            return [
                error(lambda: xp.take(a, [7])),
                error(lambda: xp.take(a, xp.asarray([3]), axis=1)),
                error(lambda: a.take([-7])),
                error(lambda: xp.put(flat, [9], 1)),
                error(lambda: flat.put([5], 0)),
                error(lambda: xp.take_along_axis(a, xp.asarray([[3]]), axis=1)),
                error(lambda: xp.take(a, [0], axis=2))[0],
                xp.take(a, [7], mode="wrap").tolist(),
                xp.take(a, [-1, 9], mode="clip").tolist(),
                xp.take(a, [1, -2], axis=1).tolist(),
                flat.tolist(),
            ]
        accel_cases = cases(np)
        in_bounds = fallbacks()
        print(json.dumps({"accel": accel_cases, "numpy": cases(real_np),
                          "take_fell_back": "take" in in_bounds}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == ["IndexError", "index 7 is out of bounds for axis 0 with size 6"]
    assert out["accel"][3] == ["IndexError", "index 9 is out of bounds for axis 0 with size 5"]
    assert out["take_fell_back"] is True  # the out-of-bounds ones went to NumPy, counted


def test_in_bounds_take_stays_on_the_device(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(10) * 3
        print(json.dumps({"take": np.take(a, [1, 9, -1]).tolist(),
                          "method": a.take(np.asarray([2])).tolist(),
                          "fallbacks": fallbacks()}))
        """,
    )
    assert out == {"take": [3, 27, 27], "method": [6], "fallbacks": {}}


def test_stringdtype_arrays_stay_on_the_host_and_cast_as_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        from numpy.dtypes import StringDType
        def cases(xp):
            words = xp.array(["1.5", "2", "x" * 40], dtype=StringDType())
            numbers = xp.array(["1.5", "-2"], dtype=StringDType())
            return [
                type(words).__name__,
                str(words.dtype),
                numbers.astype(xp.float64).tolist(),
                error(lambda: xp.array(["300"], dtype=StringDType()).astype(xp.int8)),
                error(lambda: words.astype(xp.float64))[0],
                xp.arange(3.0).astype(StringDType()).tolist(),
                (words == "2").tolist(),
            ]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == "ndarray"  # no device holds StringDType's host arena
    assert out["accel"][3][0] == "OverflowError"


def test_integer_division_check_copies_nothing_to_the_host(run_python) -> None:
    out = run(
        run_python,
        """
        a = np.arange(1, 1001)
        q = a // 7
        r = np.remainder(a, 7)
        c = calls()
        print(json.dumps({"q": int(q.sum()), "r": int(r.sum()),
                          "copies": sorted(k for k in c if "to host" in k),
                          "bytes_to_host": c["floor_divide"]["bytes_to_host"]}))
        """,
    )
    plain = list(range(1, 1001))
    assert out["q"] == sum(x // 7 for x in plain)
    assert out["r"] == sum(x % 7 for x in plain)
    assert out["copies"] == []  # the dtype check once copied both operands to the host
    assert out["bytes_to_host"] == 0


def test_a_bug_in_accels_own_conversion_is_not_a_fallback(run_python) -> None:
    out = run(
        run_python,
        """
        from accel._numpy import _transfer
        a = np.arange(5.0)
        real_to_fast = _transfer.to_fast
        def broken(value, moved):
            raise ValueError("a bug in accel's conversion")
        _transfer.to_fast = broken
        raised = error(lambda: np.add(a, 1.0))
        _transfer.to_fast = real_to_fast
        # what the backend refuses still falls back (CuPy has no maximum.accumulate)
        acc = np.maximum.accumulate(a[::-1])
        print(json.dumps({"raised": raised, "add": "add" in fallbacks(),
                          "acc": acc.tolist(), "acc_fell_back": "maximum.accumulate" in fallbacks()}))
        """,
    )
    assert out["raised"] == ["ValueError", "a bug in accel's conversion"]
    assert out["add"] is False
    assert out["acc"] == [4.0] * 5
    assert out["acc_fell_back"] is True


def test_broadcast_views_reach_the_host_as_views(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            size = xp.iinfo(xp.intp).max // 1024
            huge = xp.lib.stride_tricks.as_strided(xp.zeros(1), (size,), (0,))
            rows = xp.broadcast_to(xp.arange(3.0), (4, 3))
            return [error(lambda: xp.nditer((huge, huge[:, None]))),
                    [float(x) for x in xp.nditer(rows)][:4], real_np.asarray(rows).tolist()]
        accel_cases = cases(np)
        copied = {k: c["bytes_to_host"] for k, c in calls().items() if c["bytes_to_host"]}
        print(json.dumps({"accel": accel_cases, "numpy": cases(real_np), "copied": copied}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == ["ValueError", "iterator is too large"]
    # each copy holds the distinct elements only: 8 bytes for each 2**53-element view
    # (huge and huge[:, None]), 24 for the 4x3 rows
    assert out["copied"] == {"nditer (to host)": 8 + 8 + 24, "ndarray.__array__ (to host)": 24}


def test_flags_compare_as_numpys(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            a, b = xp.arange(6.0).reshape(2, 3), xp.ones((2, 3))
            frozen = xp.zeros((2, 3))
            frozen.flags.writeable = False
            return [xp.zeros((2, 3)).flags == b.flags, a.flags == b.flags, a.flags != b.flags,
                    b.flags == b.T.flags, b.flags == frozen.flags, xp.clip(a, 1, 4).flags == b.flags]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"] == [True, False, True, False, False, True]  # a view owns no data


def test_out_given_by_position_receives_the_result(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            ones, line = xp.ones(3), xp.linspace(-2, 2, 3)
            host_out = real_np.zeros((3, 3))
            device_out = xp.zeros((3, 3))
            clipped = real_np.zeros(3)
            taken = real_np.zeros(2, dtype=int)
            returned = xp.outer(ones, line, host_out)
            xp.outer(line, ones, device_out)
            xp.clip(line, -1, 1, clipped)
            xp.take(xp.arange(5), [1, 3], None, taken)
            summed, bounded = real_np.zeros(3), real_np.zeros(3)
            device_out.sum(0, None, summed)  # methods take out by position too
            line.clip(-1, 1, bounded)
            return [host_out.tolist(), returned is host_out, device_out.tolist(),
                    clipped.tolist(), taken.tolist(), summed.tolist(), bounded.tolist()]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == [[-2.0, 0.0, 2.0]] * 3
    assert out["accel"][1] is True


def test_views_made_by_functions_name_their_base(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            a = xp.arange(24).reshape(2, 3, 4).copy()
            views = [xp.rollaxis(a, 2), xp.reshape(a, -1), xp.moveaxis(a, 0, -1), xp.transpose(a)]
            copies = [xp.ravel(a.T), xp.sum(a, 0), xp.cumsum(a)]
            return [[v.base is a and not v.flags["OWNDATA"] for v in views],
                    [c.base is None and c.flags["OWNDATA"] for c in copies]]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"] == [[True] * 4, [True] * 3]


def test_host_copies_keep_the_layout_nditer_walks(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            a = xp.arange(6)
            flipped = a.reshape(2, 3)[::-1, ::-1]
            fortran = xp.asfortranarray(a.reshape(2, 3))
            every_other = xp.arange(12).reshape(3, 4)[:, ::2].T
            return [[int(x) for x in xp.nditer(v)] for v in (flipped, fortran, every_other)] + [
                real_np.asarray(fortran).flags.f_contiguous, real_np.asarray(flipped).tolist()]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == [0, 1, 2, 3, 4, 5]  # memory order, not the view's logical order


def test_nditer_is_a_class_as_in_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        import inspect
        def cases(xp):
            host_iter, device_iter = xp.nditer(real_np.arange(3)), xp.nditer(xp.arange(3))
            return [isinstance(host_iter, xp.nditer), isinstance(device_iter, xp.nditer),
                    str(inspect.signature(xp.nditer)),
                    sorted(n for n, f in vars(xp.nditer).items() if callable(f) and n[0] != "_"),
                    [int(x) for x in device_iter]]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][:2] == [True, True]
    assert "reset" in out["accel"][3]


def test_dtypes_cupy_lacks_stay_on_the_host(run_python) -> None:
    out = run(
        run_python,
        """
        from numpy._core._multiarray_umath import _get_sfloat_dtype
        scaled = _get_sfloat_dtype()(2.0)
        def cases(xp):
            wide = xp.arange(4, dtype=xp.longdouble)
            custom = xp.array([1.0, 2.0], dtype=scaled)
            return [type(wide).__name__, str((wide * 2).dtype), float(wide.sum()),
                    type(custom).__name__, (custom + custom).view(xp.float64).tolist()]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == out["accel"][3] == "ndarray"


def test_attributes_set_on_numpy_reach_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        import pickle
        class Marker:
            pass
        Marker.__module__, Marker.__qualname__ = "numpy", "_AccelTestMarker"
        np._AccelTestMarker = Marker
        same = pickle.loads(pickle.dumps(Marker)) is Marker
        seen = real_np._AccelTestMarker is Marker
        del np._AccelTestMarker
        print(json.dumps({"same": same, "seen": seen, "gone": hasattr(real_np, "_AccelTestMarker")}))
        """,
    )
    assert out == {"same": True, "seen": True, "gone": False}


def test_user_array_likes_whose_array_method_gives_device_arrays(run_python) -> None:
    out = run(
        run_python,
        """
        def cases(xp):
            class Wrapper:  # user code: np.asarray gives a device array under accel
                def __init__(self, data):
                    self.data = data
                def __array__(self, dtype=None, copy=None):
                    return xp.asarray(self.data)
            w = Wrapper(xp.arange(5.0))
            return [float(xp.sum(w)), xp.add(w, 1).tolist(), (xp.arange(5.0) + w).tolist(),
                    xp.sqrt(w).tolist()[:2], xp.asarray(w).tolist()]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == 10.0


def test_unaligned_views_and_numpys_casting_helpers(run_python) -> None:
    out = run(
        run_python,
        """
        from numpy.lib.stride_tricks import as_strided
        from numpy._core._multiarray_umath import _get_castingimpl
        def cases(xp):
            raw = xp.zeros(33, dtype=xp.uint8)
            unaligned = as_strided(raw[1:].view(xp.uint8), (4,), (8,))
            shifted = as_strided(raw[1:25].view(xp.float64), (3,), (8,))
            source, target = xp.arange(4.0), xp.zeros(4, dtype=xp.float32)
            cast = _get_castingimpl(type(xp.dtype("f8")), type(xp.dtype("f4")))
            cast._simple_strided_call((source, target))  # NumPy's C code writes into target
            return [xp.zeros(4).flags.aligned, unaligned.flags.aligned,
                    shifted.flags.aligned, target.tolist()]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"] == [True, True, False, [0.0, 1.0, 2.0, 3.0]]


def test_choose_takes_its_choices_by_position(run_python) -> None:
    out = run(
        run_python,
        """
        import warnings
        def cases(xp):
            picks = xp.asarray([2, 0, 1])
            rows = [xp.arange(3) * 10 ** k for k in range(3)]
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                xp.lib.math, xp.lib.math  # each access warns, as in NumPy
            return [picks.choose(*rows).tolist(), picks.choose(rows).tolist(), len(seen)]
        print(json.dumps({"accel": cases(np), "numpy": cases(real_np)}))
        """,
    )
    assert out["accel"] == out["numpy"]
    assert out["accel"][0] == [0, 1, 20]
