"""Dispatch: one NumPy call on the backend (CuPy, or the stand-in), or on NumPy as a counted fallback.

Every NumPy call that reaches the layer goes through :func:`dispatch`:

1. **Placement** (:mod:`accel._numpy._placement`): small host-only calls run on NumPy untouched.
2. **Fast path**: arguments are moved explicitly (``xp.asarray``; bytes counted, see
   :mod:`accel._numpy._transfer`) and the backend's function of the same name runs.
3. **Fallback**: if the backend cannot do the call (no such function, unsupported dtype,
   out of device memory, a CUDA error...), device arguments are copied to the host (counted),
   NumPy runs the call, and the result goes back to the device. If NumPy raises too, that is
   NumPy's own error, exactly what plain NumPy would have raised.

Only the backend's own work is inside the fallback net: looking its function up
(NotImplementedError), copying an argument to the device (:class:`StaysOnHost`) and the call
itself. An error in accel's own code around them reaches the user as the bug it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from accel._errors import AccelFallbackError, FallbackError
from accel._fallbacks import ledger
from accel._numpy import _casts, _compat, _extras, _placement, _transfer
from accel._numpy._array import DeviceArray
from accel._numpy._state import LIBRARY, STATE

# What "the device path cannot do this call" looks like: a missing function or method
# (AttributeError, NotImplementedError), arguments or dtypes the backend refuses (TypeError,
# ValueError, IndexError, OverflowError), device memory (MemoryError: CuPy's
# OutOfMemoryError derives from it) and CUDA errors (RuntimeError). NumPy re-runs the call,
# so an error that NumPy would raise still reaches the user as NumPy's.
BASE_FALLBACK_ERRORS: tuple[type[BaseException], ...] = (
    AttributeError,
    NotImplementedError,
    TypeError,
    ValueError,
    IndexError,
    OverflowError,
    MemoryError,
    RuntimeError,
)


def dispatch(
    call: str,
    numpy_func: Callable[..., Any],
    fast_func: Callable[[], Callable[..., Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    scalar_result: bool = True,
    owner: DeviceArray | None = None,
    mutates: Any = None,
    created: int = 0,
) -> Any:
    """Run one NumPy call where the placement policy puts it (see the module docstring).

    ``fast_func`` returns the backend's function, or raises NotImplementedError when the
    backend has none (or gives another answer than NumPy would).
    """
    if STATE.xp is None or not _placement.wants_device(args, kwargs, created):
        return _placement.place_result(numpy_func(*args, **kwargs), call)
    start = time.perf_counter()
    moved = _transfer.Moved()
    if _placement.host_out(kwargs):
        return _fallback(call, numpy_func, args, kwargs, "out= is a host array", start, moved)
    if isinstance(mutates, np.ndarray):
        # the call writes into a host array: it runs where that array is, on NumPy
        return _fallback(call, numpy_func, args, kwargs, "writes into a host array", start, moved)
    _check_writeable(mutates, kwargs)
    if _casts.unreported_error(call, args, kwargs):
        return _fallback(call, numpy_func, args, kwargs, _casts.REASON, start, moved, mutates)
    if _extras.index_out_of_bounds(call, args, kwargs):
        return _fallback(
            call, numpy_func, args, kwargs, _extras.BOUNDS_REASON, start, moved, mutates
        )
    try:
        func = fast_func()
    except NotImplementedError as exc:
        reason, _ = _transfer.device_error_reason(exc)
        return _fallback(call, numpy_func, args, kwargs, reason, start, moved, mutates)
    try:
        fast_args = _transfer.to_fast(_compat.lists_to_arrays(call, args), moved)
        fast_kwargs = _transfer.to_fast(kwargs, moved)
    except _transfer.StaysOnHost as exc:
        return _fallback(call, numpy_func, args, kwargs, str(exc), start, moved, mutates, exc.kind)
    try:
        fres = func(*fast_args, **fast_kwargs)
    except FallbackError:
        raise  # strict mode, from a call nested in this one
    except STATE.fallback_errors as exc:
        reason, kind = _transfer.device_error_reason(exc)
        return _fallback(call, numpy_func, args, kwargs, reason, start, moved, mutates, kind)
    if "out" in kwargs and kwargs["out"] is not None:
        out = kwargs["out"]
        result = out[0] if isinstance(out, tuple) and len(out) == 1 else out
    elif mutates is not None and fres is None:
        result = None
    else:
        result = _same_object(fres, args)
        if result is None:
            wrapped = _transfer.wrap_result(fres, scalar_result, moved, owner)
            result = _compat.numpy_result(call, wrapped)
    moved.record(call, start)
    return result


def _check_writeable(mutates: Any, kwargs: dict[str, Any]) -> None:
    out = kwargs.get("out")
    targets = [mutates, *(out if isinstance(out, tuple) else (out,))]
    if any(isinstance(t, DeviceArray) for t in targets):
        for target in targets:
            _extras.check_writeable(target)


def _same_object(fres: Any, args: tuple[Any, ...]) -> DeviceArray | None:
    """``np.asarray(x) is x``: a call that hands back its device input gives back the proxy."""
    for arg in args:
        if isinstance(arg, DeviceArray) and arg._fast is fres:
            return arg
    return None


def _fallback(
    call: str,
    numpy_func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    reason: str,
    start: float,
    moved: _transfer.Moved,
    mutates: Any = None,
    kind: str = "unsupported",
) -> Any:
    copies = _transfer.HostCopies(moved)
    host_args = copies.convert(args)
    host_kwargs = copies.convert(kwargs)
    result = numpy_func(*host_args, **host_kwargs)  # NumPy's own error, if any, propagates
    on_device = bool(copies.copies)
    out = kwargs.get("out")
    if out is not None:
        outs = out if isinstance(out, tuple) else (out,)
        for target in outs:
            if isinstance(target, DeviceArray):
                copies.write_back(target)
        result = out[0] if isinstance(out, tuple) and len(out) == 1 else out
    elif isinstance(mutates, DeviceArray):
        copies.write_back(mutates)
    elif on_device:
        result = _transfer.back_to_device(result, moved)
    # counted, then AccelFallbackError if strict mode is on for NumPy
    ledger.fallback(
        LIBRARY,
        call,
        reason,
        kind=kind,
        error=AccelFallbackError,
        seconds=time.perf_counter() - start,
        bytes_to_device=moved.to_device,
        bytes_to_host=moved.to_host,
    )
    return result


# -- ufuncs and functions ----------------------------------------------------------------------


def call_ufunc(
    ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``ufunc.method(*inputs, **kwargs)`` through :func:`dispatch`."""
    name = ufunc.__name__
    call = name if method == "__call__" else f"{name}.{method}"
    numpy_func = ufunc if method == "__call__" else getattr(ufunc, method)

    def fast() -> Callable[..., Any]:
        if _compat.floating_errors_asked_for():
            raise NotImplementedError(
                "np.errstate asks for floating-point errors; the device reports none"
            )
        if _casts.unreported_division_error(name, method, inputs):
            raise NotImplementedError(_casts.DIVISION_REASON)
        equivalent = _compat.REDUCE_EQUIVALENTS.get(name)
        if method == "reduce" and equivalent and set(kwargs) <= {"axis", "keepdims", "out"}:
            return _reduce_as(equivalent)
        fast_ufunc = _lookup(STATE.xp, name, call)
        func = fast_ufunc if method == "__call__" else _lookup(fast_ufunc, method, call)
        if not isinstance(kwargs.get("out"), tuple) or len(kwargs["out"]) != 1:
            return func

        def single_out(*args: Any, out: tuple[Any, ...], **rest: Any) -> Any:
            # NumPy hands __array_ufunc__ out=(arr,); CuPy's ufuncs take the array itself
            return func(*args, out=out[0], **rest)

        return single_out

    mutates = inputs[0] if method == "at" and inputs else None
    return dispatch(
        call, numpy_func, fast, inputs, kwargs, scalar_result="out" not in kwargs, mutates=mutates
    )


def _reduce_as(reduction: str) -> Callable[..., Any]:
    """``maximum.reduce(a, axis)`` as ``xp.max(a, axis)``: CuPy has the one, not the other."""

    def reduce(array: Any, axis: Any = 0, **kwargs: Any) -> Any:
        if not isinstance(array, STATE.xp.ndarray):
            raise TypeError("not a device array")
        return getattr(STATE.xp, reduction)(array, axis=axis, **kwargs)

    return reduce


def function_name(func: Any) -> str:
    """``sum``, ``linalg.inv``, ``fft.fft``: a NumPy function's name below ``numpy``."""
    module = getattr(func, "__module__", "numpy") or "numpy"
    name = getattr(func, "__name__", type(func).__name__)
    sub = module.removeprefix("numpy").lstrip(".")
    if sub in {"linalg", "fft", "random"}:
        return f"{sub}.{name}"
    if getattr(np, name, None) is not func and getattr(np.emath, name, None) is func:
        return f"emath.{name}"  # np.emath.sqrt is not np.sqrt (complex results for negatives)
    return name


def _lookup(namespace: Any, name: str, call: str) -> Any:
    try:
        return getattr(namespace, name)
    except AttributeError:
        raise NotImplementedError(f"{STATE.engine} has no numpy.{call}") from None


def fast_function(func: Any) -> Callable[[], Callable[..., Any]]:
    """A getter for the backend's counterpart of the NumPy function ``func``."""
    return fast_function_by_name(function_name(func))


def fast_function_by_name(name: str) -> Callable[[], Callable[..., Any]]:
    """A getter for the backend's function called ``name`` (``sum``, ``linalg.inv``)."""

    def fast() -> Callable[..., Any]:
        namespace = STATE.xp
        for part in name.split(".")[:-1]:
            namespace = _lookup(namespace, part, name)
        return _lookup(namespace, name.rsplit(".", 1)[-1], name)

    return fast
