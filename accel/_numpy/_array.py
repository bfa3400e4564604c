"""The device array proxy: ``np.ndarray`` as user code sees it, its data on the device.

Its metadata lives with the array (no transfer); every operation is a call through
:mod:`accel._numpy._dispatch`, and conversions to Python objects are counted copies
(:mod:`accel._numpy._transfer`). Those modules import this one (they wrap results in
:class:`DeviceArray`), so this one never imports them: ``accel._numpy`` binds them into
:data:`LAYER` once, when the package loads.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from accel._fallbacks import ledger
from accel._numpy import _compat
from accel._numpy._state import ARRAY_RESULT_CALLS, LIBRARY, STATE

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


class _Layer:
    """The modules above the proxy that its methods call (``bind`` sets them)."""

    dispatch: ModuleType
    transfer: ModuleType
    extras: ModuleType


LAYER = _Layer()


def bind(dispatch: ModuleType, transfer: ModuleType, extras: ModuleType) -> None:
    """Called once by ``accel._numpy``'s ``__init__``, before any array exists."""
    LAYER.dispatch, LAYER.transfer, LAYER.extras = dispatch, transfer, extras


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

        return LAYER.extras.DeviceFlags(self)

    @property
    def flat(self) -> Any:

        return LAYER.extras.DeviceFlatIter(self)

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
            yield from _host(self, "ndarray.__iter__")
            return
        for index in range(len(self)):
            yield self[index]

    def __getitem__(self, key: Any) -> Any:
        scalar = _is_integer_key(key)
        if not scalar and not isinstance(key, (slice, type(Ellipsis))):
            LAYER.extras.check_index_bounds(self, key)  # CuPy wraps out-of-bounds indices

        return LAYER.dispatch.dispatch(
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
            LAYER.extras.check_index_bounds(self, key)

        LAYER.dispatch.dispatch(
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

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        # DLPack consumers (PyTorch, JAX, CuPy, ``np.from_dlpack``) take the device memory
        # without a copy. A read-only view cannot say so to every consumer: refused, as NumPy
        # refuses it to consumers that cannot take a read-only flag.
        if not self.flags.writeable:
            raise BufferError("a read-only array cannot be exported through DLPack; copy it first")
        return self._fast.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return tuple(self._fast.__dlpack_device__())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy is False:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        host = _host(self, "ndarray.__array__ (to host)")
        return host if dtype is None else host.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if not all(ours(x) for x in inputs) or not all(ours(x) for x in kwargs.get("out", ())):
            return NotImplemented

        return LAYER.dispatch.call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(
        self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not all(issubclass(t, (DeviceArray, np.ndarray)) for t in types):
            return NotImplemented

        name = LAYER.dispatch.function_name(func)
        args, kwargs = _compat.out_by_keyword(func, args, kwargs)
        return LAYER.dispatch.dispatch(
            name,
            func,
            LAYER.dispatch.fast_function(func),
            args,
            kwargs,
            scalar_result=name not in ARRAY_RESULT_CALLS,
            mutates=_compat.mutated_argument(name, args, kwargs),
            owner=_owner(_compat.view_owner(name, args)),
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
        return _host(self, "ndarray.tolist").tolist()

    def tobytes(self, order: Any = "C") -> bytes:
        return _host(self, "ndarray.tobytes").tobytes(order)

    def __repr__(self) -> str:
        return repr(_host(self, "ndarray.__repr__"))

    def __str__(self) -> str:
        return str(_host(self, "ndarray.__str__"))

    def __format__(self, spec: str) -> str:
        return format(_host(self, "ndarray.__format__"), spec)

    def __bool__(self) -> bool:
        return bool(_host(self, "ndarray.__bool__"))

    def __int__(self) -> int:
        return int(_host(self, "ndarray.__int__"))

    def __float__(self) -> float:
        return float(_host(self, "ndarray.__float__"))

    def __complex__(self) -> complex:
        return complex(_host(self, "ndarray.__complex__"))

    def __index__(self) -> int:
        return operator.index(_host(self, "ndarray.__index__"))

    def __contains__(self, value: Any) -> bool:
        return bool((self == value).any())

    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles hold host data; unpickling puts it back on the device where accel is on.
        return (_rebuild, (_host(self, "ndarray.__reduce__ (pickle)"),))

    __hash__ = None  # type: ignore[assignment]


def _owner(value: Any) -> DeviceArray | None:
    return value if isinstance(value, DeviceArray) else None


def _host(array: DeviceArray, call: str) -> np.ndarray:

    return LAYER.transfer.to_host(array, call)


def _rebuild(host: np.ndarray) -> Any:
    if not STATE.active:
        return host

    moved = LAYER.transfer.Moved()
    try:
        fast = LAYER.transfer.move_to_device(host, moved)
    except LAYER.transfer.StaysOnHost:
        return host
    ledger.record_call(
        LIBRARY, "ndarray (unpickle)", device=STATE.kind, bytes_to_device=moved.to_device
    )
    return DeviceArray(fast)


def ours(value: Any) -> bool:
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
    # a.sum(0, None, out): an out given by position is seen as one (a host out runs on NumPy)
    arguments, kw = _compat.out_by_keyword(getattr(np.ndarray, name, None), (self, *args), kw)
    return LAYER.dispatch.dispatch(
        call,
        func,
        lambda: func,
        arguments,
        kw,
        scalar_result=call not in ARRAY_RESULT_CALLS,
        owner=self if name in VIEW_METHODS else None,
        mutates=self if name in MUTATING_METHODS else None,
    )
