"""Casts and integer divisions NumPy would report (np.errstate) but the device would not: sent to NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from accel._numpy._array import DeviceArray
from accel._numpy._state import STATE

# The calls that cast values into an array's dtype, and where their source and target are.
CAST_CALLS = frozenset({"ndarray.astype", "copyto", "ndarray.fill", "ndarray.__setitem__"})
REASON = "the cast may overflow or be invalid: NumPy reports it (np.errstate), the device does not"


def _source_and_target(call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if call == "ndarray.astype":
        dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
        return args[0], dtype
    if call == "ndarray.fill":
        return (args[1] if len(args) > 1 else kwargs.get("value")), _dtype_of(args[0])
    if call == "ndarray.__setitem__":
        return args[2], _dtype_of(args[0])
    dst = args[0] if args else kwargs.get("dst")
    return (args[1] if len(args) > 1 else kwargs.get("src")), _dtype_of(dst)


def _dtype_of(array: Any) -> Any:
    return getattr(array, "dtype", None)


def unreported_error(call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``call`` casts values that NumPy, under today's ``np.geterr()``, would report.

    CuPy sets no floating-point flags, so such a cast would silently give inf or an arbitrary
    integer without NumPy's RuntimeWarning (or FloatingPointError under ``errstate='raise'``).
    A True here may be a false alarm (a masked ``copyto``, a value that rounds down): the call
    then merely runs on NumPy, which decides.
    """
    if call not in CAST_CALLS:
        return False
    try:
        source, target = _source_and_target(call, args, kwargs)
        target = np.dtype(target)
    except (TypeError, ValueError, IndexError):
        return False  # not a cast we can read: the call's own error, if any, comes later
    if target.kind in "iu":
        category = "invalid"
    elif target.kind in "fc":
        category = "over"
    else:
        return False
    if np.geterr().get(category) == "ignore":
        return False
    if isinstance(source, DeviceArray):
        return _escapes(source._fast, target, STATE.xp)
    if isinstance(source, (list, tuple)) and _holds_device(source):
        return True  # mixed device/host values: let NumPy look
    host = np.asarray(source) if not isinstance(source, np.ndarray) else source
    if host.dtype.kind not in "biufc":
        return host.size > 0  # strings, objects: NumPy parses them, it reports what it finds
    with np.errstate(all="ignore"):
        return _escapes(host, target, np)


def _holds_device(values: Any) -> bool:
    return any(
        isinstance(v, DeviceArray) or (isinstance(v, (list, tuple)) and _holds_device(v))
        for v in values
    )


def _escapes(values: Any, target: np.dtype[Any], xp: Any) -> bool:
    """Any value that a cast to ``target`` turns invalid (to integers) or infinite (to floats)."""
    kind = np.dtype(values.dtype).kind
    if values.size == 0 or kind == "b":
        return False
    if kind not in "iufc":
        return True  # strings (StringDType) and other kinds: NumPy parses and reports them
    parts = [values.real, values.imag] if kind == "c" else [values]
    if target.kind in "iu":
        if kind in "iu":
            return False  # integer to integer wraps silently in NumPy too
        info = np.iinfo(target)
        low, high = float(info.min), float(info.max) + 1.0
        bad = ~xp.isfinite(parts[0]) | (parts[0] < low) | (parts[0] >= high)
        return bool(xp.any(bad))
    limit = float(np.finfo(target).max)
    if kind in "iu":
        if np.dtype(values.dtype).itemsize < 8 and target.itemsize >= 4:
            return False
        return bool(xp.any((values > limit) | (values < -limit)))
    if np.finfo(values.dtype).max <= limit:
        return False  # a wider or equal float: nothing overflows
    return any(bool(xp.any(xp.isfinite(p) & (xp.abs(p) > limit))) for p in parts)


# Integer ufuncs that NumPy checks for division by zero and (signed) ``min // -1`` overflow.
INTEGER_DIVISIONS = frozenset({"floor_divide", "remainder", "fmod", "divmod"})
DIVISION_REASON = (
    "integer division by zero or overflow: NumPy reports it (np.errstate), the device does not"
)


def unreported_division_error(name: str, method: str, inputs: tuple[Any, ...]) -> bool:
    """Whether an integer ``floor_divide``/``remainder``/``fmod``/``divmod`` call would make
    NumPy warn or raise: a zero divisor ('divide'), or ``iinfo.min // -1`` ('over'). Each
    operand is checked on its own (one device reduction each), so a True may be a false alarm."""
    if name not in INTEGER_DIVISIONS or method != "__call__" or len(inputs) != 2:
        return False
    dividend, divisor = inputs
    # not getattr(v, "dtype", np.asarray(v).dtype): that default copies a device array to the host
    kinds = [(v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype).kind for v in inputs]
    if not all(k in "iub" for k in kinds):
        return False
    errors = np.geterr()

    def values(v: Any) -> tuple[Any, Any]:
        if isinstance(v, DeviceArray):
            return v._fast, STATE.xp
        return np.asarray(v), np

    if errors["divide"] != "ignore":
        fast, xp = values(divisor)
        if bool(xp.any(fast == 0)):
            return True
    if errors["over"] != "ignore" and name in ("floor_divide", "divmod"):
        typed = [v.dtype if isinstance(v, DeviceArray) else v for v in inputs]
        result = np.result_type(*typed)
        if result.kind == "i":
            low = np.iinfo(result).min
            fast, xp = values(divisor)
            if bool(xp.any(fast == -1)):
                fast, xp = values(dividend)
                return bool(xp.any(fast == low))
    return False
