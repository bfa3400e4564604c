"""Casts NumPy reports (overflow, invalid) are reported on device arrays too, as NumPy does."""

from __future__ import annotations

from tests.accel.numpy.test_layer import run

ALL_DEVICE = {"ACCEL_MIN_GPU_ELEMENTS": "0"}

CASES = """
import warnings

def outcome(numpy, op, dtype, value):
    # what NumPy says under the default errstate and under errstate(all='raise')
    try:
        with numpy.errstate(all="ignore"):
            op(numpy, dtype, value)
    except (ValueError, OverflowError) as exc:  # e.g. arr[0] = nan into integers
        return {"error": type(exc).__name__, "quiet_type": None}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = op(numpy, dtype, value)
    try:
        with numpy.errstate(all="raise"):
            op(numpy, dtype, value)
        raised = None
    except FloatingPointError as exc:
        raised = str(exc)
    with numpy.errstate(all="ignore"):
        quiet = op(numpy, dtype, value)
    return {
        "warnings": sorted(str(w.message) for w in seen if issubclass(w.category, RuntimeWarning)),
        "raised": raised,
        "result": real_np.asarray(result).tolist() if dtype.kind in "iu" else None,
        "quiet_type": type(quiet).__name__,
    }

def astype(numpy, dtype, value):
    return numpy.array([value, 1.0, value]).astype(dtype)

def setitem(numpy, dtype, value):
    arr = numpy.zeros(3, dtype=dtype)
    arr[0] = value
    return arr

def fill(numpy, dtype, value):
    arr = numpy.zeros(3, dtype=dtype)
    arr.fill(value)
    return arr

def copyto(numpy, dtype, value):
    arr = numpy.zeros(3, dtype=dtype)
    numpy.copyto(arr, numpy.array([value, value, 2.0]), casting="unsafe")
    return arr

cases = [(np.dtype("float16"), 70000.0), (np.dtype("float32"), 1e300),
         (np.dtype("int32"), float("nan")), (np.dtype("int16"), 1e10), (np.dtype("int64"), 3.0)]
out = {}
for op in (astype, setitem, fill, copyto):
    for dtype, value in cases:
        key = f"{op.__name__}-{dtype}-{value}"
        out[key] = [outcome(np, op, dtype, value), outcome(real_np, op, dtype, value)]
out["reasons"] = {k: v["fallback_reasons"] for k, v in calls().items() if v["fallback_reasons"]}
print(json.dumps(out))
"""


def test_overflowing_and_invalid_casts_warn_and_raise_as_numpy(run_python) -> None:
    out = run(run_python, CASES, env=ALL_DEVICE)
    reasons = out.pop("reasons")
    for key, (accel_said, numpy_said) in out.items():
        quiet_type = accel_said.pop("quiet_type")
        numpy_said.pop("quiet_type")
        assert accel_said == numpy_said, key
        if "astype" in key:
            assert quiet_type == "DeviceArray", key  # errstate ignore: the cast stays on device
    assert any(out[k][1]["warnings"] for k in out)  # the cases do cast out of range
    assert not any(out[k][1]["warnings"] for k in out if "int64-3.0" in k)
    assert all(
        list(r)
        == [
            "the cast may overflow or be invalid: NumPy reports it (np.errstate), "
            "the device does not"
        ]
        for r in reasons.values()
    ), reasons


def test_integer_division_by_zero_and_overflow_warn_as_numpy(run_python) -> None:
    out = run(
        run_python,
        """
        import warnings
        def said(numpy):
            a = numpy.array([1, 2, -128, 7], dtype=numpy.int8)
            cases = {"zero": lambda: a // numpy.array([1, 0, 1, 1], dtype=numpy.int8),
                     "divmod": lambda: numpy.divmod(a, numpy.array([1, 0, 1, 1], dtype=numpy.int8)),
                     "overflow": lambda: a // numpy.int8(-1),
                     "fine": lambda: a // numpy.int8(3)}
            result = {}
            for key, op in cases.items():
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    value = op()
                try:
                    with numpy.errstate(all="raise"):
                        op()
                    raised = None
                except FloatingPointError as exc:
                    raised = str(exc)
                result[key] = [sorted(str(w.message) for w in seen), raised,
                               real_np.asarray(value[0] if isinstance(value, tuple) else value).tolist()]
            return result
        print(json.dumps([said(np), said(real_np), type(np.array([4, 6]) // 2).__name__]))
        """,
        env=ALL_DEVICE,
    )
    accel_said, numpy_said, clean_type = out
    assert accel_said == numpy_said
    assert numpy_said["zero"][0]
    assert numpy_said["overflow"][0]
    assert not numpy_said["fine"][0]
    assert clean_type == "DeviceArray"  # no zero divisor: the division stays on the device
