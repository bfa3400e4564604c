"""Host<->device copies of one call, each counted: arguments in, results out, fallback copies."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from accel._fallbacks import ledger
from accel._numpy._array import DeviceArray
from accel._numpy._state import DEVICE_DTYPE_CHARS, LIBRARY, STATE


class Moved:
    """Bytes copied between host and device during one call."""

    __slots__ = ("to_device", "to_host")

    def __init__(self) -> None:
        self.to_device = 0
        self.to_host = 0

    def record(self, call: str, start: float) -> None:
        """Count ``call`` (begun at ``perf_counter()`` ``start``) on the device, with these bytes."""
        ledger.record_call(
            LIBRARY,
            call,
            device=STATE.kind,
            seconds=time.perf_counter() - start,
            bytes_to_device=self.to_device,
            bytes_to_host=self.to_host,
        )


class StaysOnHost(Exception):
    """A value the device cannot hold (its dtype, its type, or the backend refused the copy):
    the call runs on NumPy. ``kind`` is the ledger's fallback kind ("out_of_memory" or
    "unsupported"); ``str()`` is the reason the report shows."""

    def __init__(self, reason: str, kind: str = "unsupported") -> None:
        super().__init__(reason)
        self.kind = kind


def device_error_reason(exc: BaseException) -> tuple[str, str]:
    """The reason a backend error gives in the report, and its fallback kind."""
    if isinstance(exc, MemoryError):
        return f"device out of memory ({type(exc).__name__})", "out_of_memory"
    return f"{type(exc).__name__}: {str(exc)[:120]}", "unsupported"


def to_host(array: DeviceArray, call: str) -> np.ndarray:
    """One counted device-to-host copy (what libraries get when they call ``np.asarray``)."""
    start = time.perf_counter()
    host, copied = host_copy(array._fast)
    ledger.record_call(
        LIBRARY,
        call,
        device=STATE.kind,
        seconds=time.perf_counter() - start,
        bytes_to_host=copied,
    )
    return host


def host_copy(fast: Any) -> tuple[np.ndarray, int]:
    """A new host array holding a device array's data, and the bytes copied (callers count
    them). A view keeps its layout on the host, as NumPy holds it: axes in the same memory
    order (F-ordered stays F-ordered), reversed axes reversed, so that ``np.nditer`` walks
    the copy in the device array's memory order; a broadcast axis (stride 0, as made by
    ``broadcast_to`` or ``as_strided``) is copied once and broadcast again, read-only (a
    2**53-element view of one element stays 8 bytes)."""
    if fast.size <= 1 or fast.flags.c_contiguous:
        host = np.asarray(fast.get())
        return host, host.nbytes
    strides = tuple(fast.strides)
    picks = tuple(
        slice(0, 1) if s == 0 else slice(None, None, -1) if s < 0 else slice(None) for s in strides
    )
    order = sorted(range(len(strides)), key=lambda axis: -abs(strides[axis]))
    # read forwards in memory order on the device, then back to the logical axes on the host
    host = np.asarray(fast[picks].transpose(order).get()).transpose(np.argsort(order))
    copied = host.nbytes
    host = host[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in strides)]
    if 0 in strides:
        # read-only, as NumPy's broadcast views are: a write would land in every aliased place
        viewed = tuple(0 if s == 0 else h for s, h in zip(strides, host.strides, strict=True))
        host = np.lib.stride_tricks.as_strided(host, fast.shape, viewed, writeable=False)
    return host, copied


def move_to_device(host: np.ndarray, moved: Moved) -> Any:
    """``host`` copied to the device (counted in ``moved``); :class:`StaysOnHost` if it cannot."""
    if host.dtype.char not in DEVICE_DTYPE_CHARS:
        raise StaysOnHost(f"TypeError: dtype {host.dtype} is not supported on the device")
    try:
        fast = STATE.xp.asarray(host)
    except STATE.fallback_errors as exc:  # the backend refused: no room, a dtype it lacks
        raise StaysOnHost(*device_error_reason(exc)) from exc
    moved.to_device += host.nbytes
    return fast


def _from_device_memory(value: Any) -> Any:
    # memory already on the device (cuDF, Numba, cudf.pandas' ndarray proxy): CuPy takes it
    # without a copy (not yet run on a GPU)
    try:
        return STATE.xp.asarray(value)
    except STATE.fallback_errors as exc:
        raise StaysOnHost(*device_error_reason(exc)) from exc


def to_fast(value: Any, moved: Moved) -> Any:
    """A call argument as the backend takes it: device arrays unwrapped, host arrays and
    array-likes copied to the device (counted); :class:`StaysOnHost` where that cannot be."""
    if isinstance(value, DeviceArray):
        return value._fast
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            if STATE.kind.is_gpu() and hasattr(value, "__cuda_array_interface__"):
                return _from_device_memory(value)
            # masked arrays, matrix
            raise StaysOnHost(f"TypeError: {type(value).__name__} stays on NumPy")
        return move_to_device(value, moved)
    if isinstance(value, tuple):
        return tuple(to_fast(v, moved) for v in value)
    if isinstance(value, list):
        return [to_fast(v, moved) for v in value]
    if isinstance(value, dict):
        return {k: to_fast(v, moved) for k, v in value.items()}
    if hasattr(value, "__array__") and not isinstance(value, (np.generic, str, bytes, type)):
        if STATE.kind.is_gpu() and hasattr(value, "__cuda_array_interface__"):
            return _from_device_memory(value)
        # pandas objects and other array-likes: one counted copy through the host (the
        # stand-in never asks for __cuda_array_interface__: cudf.pandas raises for it
        # without a GPU)
        try:
            host = np.asarray(value)
        except ValueError as exc:
            made = device_array_from(value) if str(exc) == _NOT_AN_ARRAY else None
            if made is None:
                raise
            return made._fast
        return move_to_device(host, moved)
    return value


# NumPy's words when an object's __array__ hands back something that is not a NumPy array
_NOT_AN_ARRAY = "object __array__ method not producing an array"


def device_array_from(value: Any) -> DeviceArray | None:
    """The device array a user object's ``__array__`` makes (None for anything else): under
    accel, user code's ``def __array__(self): return np.asarray(self.data)`` returns one, and
    NumPy's C code refuses it."""
    if isinstance(value, (np.ndarray, DeviceArray)) or not hasattr(type(value), "__array__"):
        return None
    made = value.__array__()
    return made if isinstance(made, DeviceArray) else None


def retrying_user_array_likes(
    call: Callable[[tuple[Any, ...], dict[str, Any]], Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """``call(args, kwargs)``; when NumPy refuses a user object whose ``__array__`` gives a
    device array, once more with that array in its place."""
    try:
        return call(args, kwargs)
    except ValueError as exc:
        retry = _user_array_likes(exc, args, kwargs)
        if retry is None:
            raise
        return call(*retry)


def _user_array_likes(
    exc: ValueError, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """``args`` and ``kwargs`` with the user objects whose ``__array__`` gives device arrays
    replaced by those arrays, when ``exc`` is NumPy refusing one; None otherwise (re-raise)."""
    if str(exc) != _NOT_AN_ARRAY:
        return None
    made = [device_array_from(v) for v in args]
    made_kw = {k: device_array_from(v) for k, v in kwargs.items()}
    if not any(m is not None for m in (*made, *made_kw.values())):
        return None
    new_args = tuple(v if m is None else m for v, m in zip(args, made, strict=True))
    new_kwargs = {k: v if made_kw[k] is None else made_kw[k] for k, v in kwargs.items()}
    return new_args, new_kwargs


class HostCopies:
    """Host copies of the device arguments of one fallback call (one copy per array)."""

    def __init__(self, moved: Moved) -> None:
        self.moved = moved
        self.copies: dict[int, tuple[DeviceArray, np.ndarray]] = {}

    def convert(self, value: Any) -> Any:
        if isinstance(value, DeviceArray):
            seen = self.copies.get(id(value))
            if seen is None:
                host, copied = host_copy(value._fast)
                self.moved.to_host += copied
                seen = self.copies[id(value)] = (value, host)
            return seen[1]
        if isinstance(value, tuple):
            return tuple(self.convert(v) for v in value)
        if isinstance(value, list):
            return [self.convert(v) for v in value]
        if isinstance(value, dict):
            return {k: self.convert(v) for k, v in value.items()}
        return value

    def write_back(self, array: DeviceArray) -> None:
        """What NumPy wrote into the host copy of ``array`` goes back to the device."""
        entry = self.copies.get(id(array))
        if entry is not None:
            # no other place for the data: the backend's own error, if any, reaches the user
            array._fast[...] = STATE.xp.asarray(entry[1])
            self.moved.to_device += entry[1].nbytes


def wrap_result(
    fres: Any, scalar_result: bool, moved: Moved, owner: DeviceArray | None = None
) -> Any:
    """The backend's result as user code gets it: device arrays wrapped, 0-d ones as NumPy
    scalars where NumPy gives scalars (counted copies)."""
    xp = STATE.xp
    if isinstance(fres, xp.ndarray):
        if fres.ndim == 0 and scalar_result:
            # NumPy gives a scalar here; CuPy gives a 0-d device array.
            host, copied = host_copy(fres)
            moved.to_host += copied
            return host[()]
        base = None
        if owner is not None and fres.base is not None:
            base = owner._base if owner._base is not None else owner
        return DeviceArray(fres, base)
    if isinstance(fres, tuple):
        wrapped = tuple(wrap_result(v, scalar_result, moved) for v in fres)
        return type(fres)(*wrapped) if hasattr(fres, "_fields") else wrapped
    if isinstance(fres, list):
        return [wrap_result(v, scalar_result, moved) for v in fres]
    return fres


def back_to_device(result: Any, moved: Moved) -> Any:
    """Data that was on the device stays there, even when NumPy had to compute it."""
    if type(result) is np.ndarray and result.dtype.char in DEVICE_DTYPE_CHARS:
        try:
            return DeviceArray(move_to_device(result, moved))
        except StaysOnHost:
            return result  # no room on the device: the host array is a correct answer
    if isinstance(result, tuple):
        values = tuple(back_to_device(v, moved) for v in result)
        return type(result)(*values) if hasattr(result, "_fields") else values
    if isinstance(result, list):
        return [back_to_device(v, moved) for v in result]
    return result


def call_on_host(func: Any, call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``func`` (NumPy C code that reads array memory) on host copies of the device arrays in
    its arguments (counted); what it wrote into them goes back to the device."""
    start = time.perf_counter()
    moved = Moved()
    copies = HostCopies(moved)
    try:
        return func(*copies.convert(args), **copies.convert(kwargs))
    finally:
        for array, _ in copies.copies.values():
            if not array._readonly:
                copies.write_back(array)  # inputs too: one counted copy each, data unchanged
        moved.record(call, start)
