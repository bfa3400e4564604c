"""The device array proxy and the per-call dispatch: placement, fast path, counted fallback.

Every NumPy call that reaches this module goes through :func:`dispatch`:

1. **Placement** (:func:`wants_device`): a call runs on the device when one of its arguments
   already lives there, or when its largest host array (or the array it creates) has at least
   ``min_gpu_elements`` elements (``ACCEL_MIN_GPU_ELEMENTS``, default 100 000). Everything
   else runs on NumPy untouched; that is placement policy, not a fallback, so it is not
   counted and strict mode allows it.
2. **Fast path**: arguments are moved explicitly (``xp.asarray``; bytes counted) and the
   backend's function of the same name runs (``xp`` is CuPy, or the host stand-in).
3. **Fallback**: if the backend cannot do the call (no such function, unsupported dtype,
   out of device memory, a CUDA error...), device arguments are copied to the host (counted),
   NumPy runs the call, and the result goes back to the device. If NumPy raises too, that is
   NumPy's own error, exactly what plain NumPy would have raised.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from accel._numpy import _casts, _compat
from accel._report import RECORDER, AccelFallbackError

LIBRARY = "numpy"

# dtype kinds no device backend holds (object, strings, bytes, structured, datetime).
HOST_ONLY_KINDS = frozenset("OUSVMm")


class _State:
    """Which backend serves the accelerated namespace in this process."""

    __slots__ = (
        "active",
        "device_random",
        "engine",
        "fallback_errors",
        "kind",
        "min_elements",
        "xp",
    )

    def __init__(self) -> None:
        self.xp: Any = None
        self.kind = "off"  # "simulated" | "gpu" | "off"; the backend outlives uninstall()
        # Whether host data may be moved to the device (False after uninstall(): device
        # arrays made before keep working, nothing new goes to the device).
        self.active = False
        self.engine = ""
        self.min_elements = 100_000
        self.device_random = False
        self.fallback_errors: tuple[type[BaseException], ...] = ()


STATE = _State()

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

# Functions and methods whose 0-d results NumPy returns as 0-d arrays (all others give scalars).
ARRAY_RESULT_CALLS = frozenset(
    {
        "array",
        "asarray",
        "asanyarray",
        "copy",
        "reshape",
        "squeeze",
        "transpose",
        "where",
        "empty",
        "zeros",
        "ones",
        "full",
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
        "broadcast_to",
        "moveaxis",
        "require",
        "ndarray.copy",
        "ndarray.reshape",
        "ndarray.astype",
        "ndarray.view",
        "ndarray.squeeze",
        "ndarray.transpose",
        "ndarray.swapaxes",
        "ndarray.conj",
        "ndarray.conjugate",
        "ndarray.__getitem__",
        "ndarray.__real__",
        "ndarray.__imag__",
    }
)
# Methods that change the array in place: after a host fallback the host copy is written back.
MUTATING_METHODS = frozenset(
    {"sort", "fill", "put", "partition", "itemset", "setfield", "__setitem__", "byteswap"}
)
# Methods whose result may be a view of the array (so ``.base`` must name the owner).
VIEW_METHODS = frozenset(
    {
        "reshape",
        "view",
        "transpose",
        "ravel",
        "squeeze",
        "swapaxes",
        "diagonal",
        "__getitem__",
        "__real__",
        "__imag__",
    }
)


class _Moved:
    """Bytes copied between host and device during one call."""

    __slots__ = ("to_device", "to_host")

    def __init__(self) -> None:
        self.to_device = 0
        self.to_host = 0


# -- the device array ----------------------------------------------------------------------


class DeviceArray(NDArrayOperatorsMixin):
    """An array whose data lives on the device (CuPy, or the host stand-in).

    In user code ``isinstance(x, np.ndarray)`` is true for it (the accelerated namespace's
    ``ndarray`` says so). Operators, ufuncs, NumPy functions (``__array_function__``) and
    ndarray methods dispatch to the device; ``np.asarray(x)`` (what libraries do) makes one
    host copy, counted in ``accel.report()``.
    """

    __slots__ = ("__weakref__", "_base", "_fast", "_readonly")
    __array_priority__ = 1000

    def __init__(self, fast: Any, base: DeviceArray | None = None) -> None:
        self._fast = fast
        self._base = base
        self._readonly = False

    # metadata lives with the array: no transfer
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._fast.shape)

    @shape.setter
    def shape(self, value: Any) -> None:
        self._fast.shape = value

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self._fast.dtype)

    @property
    def ndim(self) -> int:
        return int(self._fast.ndim)

    @property
    def size(self) -> int:
        return int(self._fast.size)

    @property
    def itemsize(self) -> int:
        return int(self._fast.itemsize)

    @property
    def nbytes(self) -> int:
        return int(self._fast.nbytes)

    @property
    def strides(self) -> tuple[int, ...]:
        return tuple(self._fast.strides)

    @property
    def flags(self) -> Any:
        from accel._numpy import _extras

        return _extras.DeviceFlags(self)

    @property
    def flat(self) -> Any:
        from accel._numpy import _extras

        return _extras.DeviceFlatIter(self)

    @flat.setter
    def flat(self, value: Any) -> None:
        self.flat[...] = value

    @property
    def base(self) -> DeviceArray | None:
        return self._base

    @property
    def T(self) -> Any:
        return self.transpose()

    @property
    def real(self) -> Any:
        return _method(self, "__real__", lambda a: a.real)

    @real.setter
    def real(self, value: Any) -> None:
        self.real[...] = value

    @property
    def imag(self) -> Any:
        return _method(self, "__imag__", lambda a: a.imag)

    @imag.setter
    def imag(self, value: Any) -> None:
        self.imag[...] = value

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        if self.ndim == 1:
            # one counted copy instead of one device read per element
            yield from to_host(self, "ndarray.__iter__")
            return
        for index in range(len(self)):
            yield self[index]

    def __getitem__(self, key: Any) -> Any:
        scalar = _is_integer_key(key)
        if not scalar and not isinstance(key, (slice, type(Ellipsis))):
            from accel._numpy import _extras

            _extras.check_index_bounds(self, key)  # CuPy wraps out-of-bounds indices
        return dispatch(
            "ndarray.__getitem__",
            operator.getitem,
            lambda: operator.getitem,
            (self, key),
            {},
            scalar_result=scalar,
            owner=self,
        )

    def __setitem__(self, key: Any, value: Any) -> None:
        if not _is_integer_key(key) and not isinstance(key, (slice, type(Ellipsis))):
            from accel._numpy import _extras

            _extras.check_index_bounds(self, key)
        dispatch(
            "ndarray.__setitem__",
            operator.setitem,
            lambda: operator.setitem,
            (self, key, value),
            {},
            mutates=self,
        )

    @property
    def __cuda_array_interface__(self) -> Any:
        # CUDA-aware libraries (cuDF, CuPy, Numba) take device arrays without a copy; the
        # stand-in has no such interface, so this raises AttributeError there.
        return self._fast.__cuda_array_interface__

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        host = to_host(self, "ndarray.__array__ (to host)")
        return host if dtype is None else host.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if not all(_ours(x) for x in inputs) or not all(_ours(x) for x in kwargs.get("out", ())):
            return NotImplemented
        return call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(
        self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not all(issubclass(t, (DeviceArray, np.ndarray)) for t in types):
            return NotImplemented
        name = function_name(func)
        return dispatch(
            name,
            func,
            _fast_function(func),
            args,
            kwargs,
            scalar_result=name not in ARRAY_RESULT_CALLS,
            mutates=_compat.mutated_argument(name, args, kwargs),
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        real = getattr(np.ndarray, name)  # AttributeError for what ndarray does not have
        if not callable(real):
            return _method(self, name, lambda a: getattr(a, name))

        def bound(*args: Any, **kwargs: Any) -> Any:
            return _method(self, name, _method_caller(name), *args, **kwargs)

        bound.__name__ = name
        bound.__doc__ = real.__doc__
        return bound

    # Whole-array conversions to Python objects: one explicit, counted copy (CuPy copies too).
    def tolist(self) -> Any:
        return to_host(self, "ndarray.tolist").tolist()

    def tobytes(self, order: Any = "C") -> bytes:
        return to_host(self, "ndarray.tobytes").tobytes(order)

    def __repr__(self) -> str:
        return repr(to_host(self, "ndarray.__repr__"))

    def __str__(self) -> str:
        return str(to_host(self, "ndarray.__str__"))

    def __format__(self, spec: str) -> str:
        return format(to_host(self, "ndarray.__format__"), spec)

    def __bool__(self) -> bool:
        return bool(to_host(self, "ndarray.__bool__"))

    def __int__(self) -> int:
        return int(to_host(self, "ndarray.__int__"))

    def __float__(self) -> float:
        return float(to_host(self, "ndarray.__float__"))

    def __complex__(self) -> complex:
        return complex(to_host(self, "ndarray.__complex__"))

    def __index__(self) -> int:
        return operator.index(to_host(self, "ndarray.__index__"))

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles hold host data; unpickling puts it back on the device where accel is on.
        return (_rebuild, (to_host(self, "ndarray.__reduce__ (pickle)"),))

    __hash__ = None  # type: ignore[assignment]


def _rebuild(host: np.ndarray) -> Any:
    if not STATE.active:
        return host
    moved = _Moved()
    try:
        fast = _move_to_device(host, moved)
    except STATE.fallback_errors:
        return host
    RECORDER.record(
        LIBRARY, "ndarray (unpickle)", on_gpu=True, seconds=0.0, bytes_to_device=moved.to_device
    )
    return DeviceArray(fast)


def _ours(value: Any) -> bool:
    """Whether a ufunc operand is something this layer computes with (not e.g. a Series)."""
    override = getattr(type(value), "__array_ufunc__", None)
    return (
        override is None or override is np.ndarray.__array_ufunc__ or isinstance(value, DeviceArray)
    )


def _is_integer_key(key: Any) -> bool:
    if isinstance(key, tuple):
        return all(_is_integer_key(k) for k in key) and not any(isinstance(k, tuple) for k in key)
    return isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_))


def _method_caller(name: str) -> Callable[..., Any]:
    def call(array: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(array, name)(*args, **kwargs)

    return call


def _method(self: DeviceArray, name: str, func: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    call = f"ndarray.{name}"
    return dispatch(
        call,
        func,
        lambda: func,
        (self, *args),
        kw,
        scalar_result=call not in ARRAY_RESULT_CALLS,
        owner=self if name in VIEW_METHODS else None,
        mutates=self if name in MUTATING_METHODS else None,
    )


# -- moving data -----------------------------------------------------------------------------


def to_host(array: DeviceArray, call: str) -> np.ndarray:
    """One counted device-to-host copy (what libraries get when they call ``np.asarray``)."""
    start = time.perf_counter()
    host = _get(array._fast)
    RECORDER.record(
        LIBRARY,
        call,
        on_gpu=True,
        seconds=time.perf_counter() - start,
        bytes_to_host=host.nbytes,
    )
    return host


def _get(fast: Any) -> np.ndarray:
    return np.asarray(fast.get())


def _move_to_device(host: np.ndarray, moved: _Moved) -> Any:
    if host.dtype.kind in HOST_ONLY_KINDS:
        raise TypeError(f"dtype {host.dtype} is not supported on the device")
    fast = STATE.xp.asarray(host)
    moved.to_device += host.nbytes
    return fast


def _to_fast(value: Any, moved: _Moved) -> Any:
    if isinstance(value, DeviceArray):
        return value._fast
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            if STATE.kind == "gpu" and hasattr(value, "__cuda_array_interface__"):
                # cudf.pandas' ndarray proxy over device memory: zero-copy (not yet run on a GPU)
                return STATE.xp.asarray(value)
            raise TypeError(f"{type(value).__name__} stays on NumPy")  # masked arrays, matrix
        return _move_to_device(value, moved)
    if isinstance(value, tuple):
        return tuple(_to_fast(v, moved) for v in value)
    if isinstance(value, list):
        return [_to_fast(v, moved) for v in value]
    if isinstance(value, dict):
        return {k: _to_fast(v, moved) for k, v in value.items()}
    if hasattr(value, "__array__") and not isinstance(value, (np.generic, str, bytes, type)):
        if STATE.kind == "gpu" and hasattr(value, "__cuda_array_interface__"):
            # device memory (cuDF, Numba): CuPy takes it without a copy (not yet run on a GPU)
            return STATE.xp.asarray(value)
        # pandas objects and other array-likes: one counted copy through the host (the
        # stand-in never asks for __cuda_array_interface__: cudf.pandas raises for it
        # without a GPU)
        return _move_to_device(np.asarray(value), moved)
    return value


class _HostCopies:
    """Host copies of the device arguments of one fallback call (one copy per array)."""

    def __init__(self, moved: _Moved) -> None:
        self.moved = moved
        self.copies: dict[int, tuple[DeviceArray, np.ndarray]] = {}

    def convert(self, value: Any) -> Any:
        if isinstance(value, DeviceArray):
            seen = self.copies.get(id(value))
            if seen is None:
                host = _get(value._fast)
                self.moved.to_host += host.nbytes
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
        entry = self.copies.get(id(array))
        if entry is not None:
            array._fast[...] = _move_to_device(entry[1], self.moved)


def _wrap_result(
    fres: Any, scalar_result: bool, moved: _Moved, owner: DeviceArray | None = None
) -> Any:
    xp = STATE.xp
    if isinstance(fres, xp.ndarray):
        if fres.ndim == 0 and scalar_result:
            # NumPy gives a scalar here; CuPy gives a 0-d device array.
            host = _get(fres)
            moved.to_host += host.nbytes
            return host[()]
        base = None
        if owner is not None and fres.base is not None:
            base = owner._base if owner._base is not None else owner
        return DeviceArray(fres, base)
    if isinstance(fres, tuple):
        wrapped = tuple(_wrap_result(v, scalar_result, moved) for v in fres)
        return type(fres)(*wrapped) if hasattr(fres, "_fields") else wrapped
    if isinstance(fres, list):
        return [_wrap_result(v, scalar_result, moved) for v in fres]
    return fres


# -- placement and dispatch ------------------------------------------------------------------


DEVICE = -1  # _scan's answer when device data is among the values


def _scan(values: Any) -> int:
    """One pass over call arguments: DEVICE if a device array is among them, else the size of
    the largest host array the device could hold. Long lists are sampled at both ends so that
    ``np.array(big_list)`` stays O(1) here (it is placed after NumPy builds it)."""
    largest = 0
    for value in values:
        cls = type(value)
        if cls is np.ndarray:
            if value.size > largest and value.dtype.kind not in HOST_ONLY_KINDS:
                largest = value.size
        elif cls is DeviceArray:
            return DEVICE
        elif (cls is list or cls is tuple) and value:
            inner = _scan(value if len(value) <= 64 else (value[0], value[-1]))
            if inner == DEVICE:
                return DEVICE
            largest = max(largest, inner)
    return largest


def _has_device(values: Any) -> bool:
    return _scan(values) == DEVICE


def _host_out(kwargs: dict[str, Any]) -> bool:
    out = kwargs.get("out")
    if out is None:
        return False
    outs = out if isinstance(out, tuple) else (out,)
    return any(isinstance(o, np.ndarray) for o in outs)


def wants_device(args: tuple[Any, ...], kwargs: dict[str, Any], created: int = 0) -> bool:
    """The placement policy: data already on the device stays there; otherwise a call goes
    to the device when its largest host array, or the array it creates, has at least
    ``min_gpu_elements`` elements and it does not write into a host ``out=`` array."""
    size = _scan(args)
    if size == DEVICE:
        return True
    if kwargs:
        in_kwargs = _scan(kwargs.values())
        if in_kwargs == DEVICE:
            return True
        if _host_out(kwargs):
            return False
        size = max(size, in_kwargs)
    return STATE.active and max(size, created) >= STATE.min_elements


def place_result(result: Any, call: str) -> Any:
    """A new host array of device size, made by a host call, moves to the device (counted)."""
    if (
        type(result) is np.ndarray
        and result.size >= STATE.min_elements
        and STATE.active
        and result.base is None
        and result.dtype.kind not in HOST_ONLY_KINDS
    ):
        start = time.perf_counter()
        moved = _Moved()
        try:
            fast = _move_to_device(result, moved)
        except STATE.fallback_errors:
            return result  # no room on the device: the host array is a correct answer
        RECORDER.record(
            LIBRARY,
            call,
            on_gpu=True,
            seconds=time.perf_counter() - start,
            bytes_to_device=moved.to_device,
        )
        return DeviceArray(fast)
    return result


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
    """Run one NumPy call where the placement policy puts it (see the module docstring)."""
    if STATE.xp is None or not wants_device(args, kwargs, created):
        return place_result(numpy_func(*args, **kwargs), call)
    start = time.perf_counter()
    moved = _Moved()
    if _host_out(kwargs):
        return _fallback(call, numpy_func, args, kwargs, "out= is a host array", start, moved)
    if isinstance(mutates, np.ndarray):
        # the call writes into a host array: it runs where that array is, on NumPy
        return _fallback(call, numpy_func, args, kwargs, "writes into a host array", start, moved)
    _check_writeable(mutates, kwargs)
    if _casts.unreported_error(call, args, kwargs):
        return _fallback(call, numpy_func, args, kwargs, _casts.REASON, start, moved, mutates)
    try:
        func = fast_func()
        fast_args = _to_fast(_compat.lists_to_arrays(call, args), moved)
        fast_kwargs = _to_fast(kwargs, moved)
        fres = func(*fast_args, **fast_kwargs)
    except AccelFallbackError:
        raise
    except STATE.fallback_errors as exc:
        return _fallback(call, numpy_func, args, kwargs, _reason(exc), start, moved, mutates)
    if "out" in kwargs and kwargs["out"] is not None:
        out = kwargs["out"]
        result = out[0] if isinstance(out, tuple) and len(out) == 1 else out
    elif mutates is not None and fres is None:
        result = None
    else:
        result = _same_object(fres, args)
        if result is None:
            result = _compat.numpy_result(call, _wrap_result(fres, scalar_result, moved, owner))
    RECORDER.record(
        LIBRARY,
        call,
        on_gpu=True,
        seconds=time.perf_counter() - start,
        bytes_to_device=moved.to_device,
        bytes_to_host=moved.to_host,
    )
    return result


def _check_writeable(mutates: Any, kwargs: dict[str, Any]) -> None:
    out = kwargs.get("out")
    targets = [mutates, *(out if isinstance(out, tuple) else (out,))]
    if any(isinstance(t, DeviceArray) for t in targets):
        from accel._numpy import _extras

        for target in targets:
            _extras.check_writeable(target)


def _same_object(fres: Any, args: tuple[Any, ...]) -> DeviceArray | None:
    """``np.asarray(x) is x``: a call that hands back its device input gives back the proxy."""
    for arg in args:
        if isinstance(arg, DeviceArray) and arg._fast is fres:
            return arg
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return f"device out of memory ({type(exc).__name__})"
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def _fallback(
    call: str,
    numpy_func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    reason: str,
    start: float,
    moved: _Moved,
    mutates: Any = None,
) -> Any:
    copies = _HostCopies(moved)
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
        result = _back_to_device(result, moved)
    RECORDER.record(
        LIBRARY,
        call,
        on_gpu=False,
        seconds=time.perf_counter() - start,
        reason=reason,
        bytes_to_device=moved.to_device,
        bytes_to_host=moved.to_host,
    )
    return result


def _back_to_device(result: Any, moved: _Moved) -> Any:
    """Data that was on the device stays there, even when NumPy had to compute it."""
    if type(result) is np.ndarray and result.dtype.kind not in HOST_ONLY_KINDS:
        try:
            return DeviceArray(_move_to_device(result, moved))
        except STATE.fallback_errors:
            return result
    if isinstance(result, tuple):
        values = tuple(_back_to_device(v, moved) for v in result)
        return type(result)(*values) if hasattr(result, "_fields") else values
    if isinstance(result, list):
        return [_back_to_device(v, moved) for v in result]
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


def _fast_function(func: Any) -> Callable[[], Callable[..., Any]]:
    return _fast_function_by_name(function_name(func))


def _fast_function_by_name(name: str) -> Callable[[], Callable[..., Any]]:
    """A getter for the backend's function called ``name`` (``sum``, ``linalg.inv``)."""

    def fast() -> Callable[..., Any]:
        namespace = STATE.xp
        for part in name.split(".")[:-1]:
            namespace = _lookup(namespace, part, name)
        return _lookup(namespace, name.rsplit(".", 1)[-1], name)

    return fast
