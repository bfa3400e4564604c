"""A host-memory stand-in for CuPy: the "device" of proxy-check mode (``ACCEL_DEVICE=simulated``).

It computes with NumPy but keeps CuPy's contract where accel's proxy layer depends on it:

- device arrays (:class:`SimArray`) refuse implicit conversion to NumPy (``__array__`` raises
  TypeError, as ``cupy.ndarray`` does), and device functions refuse NumPy arrays as inputs;
  the only ways across are ``xp.asarray(host)`` and ``device_array.get()``, which is what lets
  accel count every host<->device copy;
- reductions, scalar indexing and ufuncs on scalars give 0-d device arrays, never NumPy scalars;
- dtypes CuPy lacks (object, strings, bytes, structured, datetime) are refused with TypeError;
- device memory can be made finite (:func:`set_capacity`) to exercise the out-of-memory path;
- ``xp.random`` is its own stream: seeding it does not reproduce NumPy's numbers.

Nothing here is a GPU; it exists so the proxy and transfer layer is tested on CPU-only CI.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

# dtype kinds CuPy cannot hold: object, unicode, bytes, void/structured, datetime, timedelta.
UNSUPPORTED_KINDS = frozenset("OUSVMm")


class OutOfMemoryError(MemoryError):
    """Like ``cupy.cuda.memory.OutOfMemoryError``: an allocation did not fit on the device."""


_capacity: list[int | None] = [None]


def set_capacity(nbytes: int | None) -> None:
    """Make any single device allocation above ``nbytes`` fail with :class:`OutOfMemoryError`."""
    _capacity[0] = nbytes


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.kind in UNSUPPORTED_KINDS:
        raise TypeError(f"Unsupported dtype {dtype}")  # CuPy's wording


_BASE_MARKER = object()  # a view's base is some device array; accel tracks the real owner


class SimArray:
    """A device array of the stand-in: host memory that behaves like ``cupy.ndarray``."""

    __slots__ = ("__weakref__", "_host")

    def __init__(self, host: np.ndarray) -> None:
        if type(host) is not np.ndarray:
            raise TypeError(f"Unsupported type {type(host)}")  # no NumPy subclasses on a GPU
        _check_dtype(host.dtype)
        limit = _capacity[0]
        if limit is not None and host.base is None and host.nbytes > limit:
            raise OutOfMemoryError(
                f"Out of memory allocating {host.nbytes:,} bytes (simulated device, "
                f"capacity {limit:,} bytes)"
            )
        self._host = host

    # -- what cupy.ndarray exposes without a transfer --------------------------------------
    shape = property(lambda self: self._host.shape)
    dtype = property(lambda self: self._host.dtype)
    ndim = property(lambda self: self._host.ndim)
    size = property(lambda self: self._host.size)
    nbytes = property(lambda self: self._host.nbytes)
    itemsize = property(lambda self: self._host.itemsize)
    strides = property(lambda self: self._host.strides)
    flags = property(lambda self: self._host.flags)
    base = property(lambda self: None if self._host.base is None else _BASE_MARKER)
    T = property(lambda self: _wrap(self._host.T))
    real = property(lambda self: _wrap(self._host.real))
    imag = property(lambda self: _wrap(self._host.imag))

    def get(self) -> np.ndarray:
        """Copy to a new host array (``cupy.ndarray.get``)."""
        return self._host.copy()

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly."
        )

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._host[_unwrap(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._host[_unwrap(key)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._host)

    def __iter__(self) -> Any:
        for index in range(len(self)):
            yield self[index]

    def __bool__(self) -> bool:
        return bool(self._host)

    def __int__(self) -> int:
        return int(self._host)

    def __float__(self) -> float:
        return float(self._host)

    def __complex__(self) -> complex:
        return complex(self._host)

    def __index__(self) -> int:
        return self._host.__index__()

    def __repr__(self) -> str:
        return repr(self._host)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            # no __array_interface__/__array_struct__: NumPy must not read device memory
            raise AttributeError(name)
        attr = getattr(self._host, name)
        if callable(attr):
            return _device_function(attr)
        return _wrap(attr)


def _binary(op: str) -> Callable[..., Any]:
    def method(self: SimArray, *args: Any) -> Any:
        return _wrap(getattr(self._host, op)(*_unwrap(args)))

    method.__name__ = op
    return method


def _inplace(op: str) -> Callable[..., Any]:
    def method(self: SimArray, other: Any) -> SimArray:
        getattr(self._host, op)(_unwrap(other))
        return self

    method.__name__ = op
    return method


for _op in [
    "add",
    "sub",
    "mul",
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "matmul",
    "and",
    "or",
    "xor",
    "lshift",
    "rshift",
    "divmod",
]:
    setattr(SimArray, f"__{_op}__", _binary(f"__{_op}__"))
    setattr(SimArray, f"__r{_op}__", _binary(f"__r{_op}__"))
    if _op != "divmod":
        setattr(SimArray, f"__i{_op}__", _inplace(f"__i{_op}__"))
for _op in ["lt", "le", "eq", "ne", "gt", "ge", "neg", "pos", "abs", "invert"]:
    setattr(SimArray, f"__{_op}__", _binary(f"__{_op}__"))
SimArray.__hash__ = None  # type: ignore[assignment]


def _unwrap(value: Any) -> Any:
    """Device values to the stand-in's host storage; NumPy arrays are refused like CuPy does."""
    if isinstance(value, SimArray):
        return value._host
    if isinstance(value, np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")  # CuPy's wording
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return SimArray(value)
    if isinstance(value, np.generic):
        # CuPy returns 0-d device arrays where NumPy returns scalars.
        return SimArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _device_function(func: Callable[..., Any]) -> Callable[..., Any]:
    def device_call(*args: Any, **kwargs: Any) -> Any:
        dtype = kwargs.get("dtype")
        if dtype is not None:
            _check_dtype(np.dtype(dtype))
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    device_call.__name__ = getattr(func, "__name__", "device_call")
    return device_call


class _SimUfunc:
    """A device ufunc: call, reduce, accumulate, outer and at (CuPy has no reduceat)."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout
        self.reduce = _device_function(ufunc.reduce)
        self.accumulate = _device_function(ufunc.accumulate)
        self.outer = _device_function(ufunc.outer)
        self.at = _device_function(ufunc.at)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _device_function(self._ufunc)(*args, **kwargs)


class _Namespace(types.ModuleType):
    """``xp``, ``xp.linalg``, ``xp.fft``: NumPy's functions, taking and giving device arrays."""

    def __init__(self, name: str, real: types.ModuleType) -> None:
        super().__init__(name)
        self._real = real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._real, name)
        if isinstance(attr, np.ufunc):
            value: Any = _SimUfunc(attr)
        elif isinstance(attr, (type, types.ModuleType)):
            value = attr
        elif callable(attr):
            value = _device_function(attr)
        else:
            value = attr
        setattr(self, name, value)
        return value


def _asarray(obj: Any, dtype: Any = None, order: Any = None, copy: Any = None) -> SimArray:
    """Host data to the device (``cupy.asarray``/``cupy.array``): the one way in."""
    if isinstance(obj, SimArray):
        if dtype is None or np.dtype(dtype) == obj.dtype:
            return SimArray(obj._host.copy()) if copy else obj
        return SimArray(obj._host.astype(dtype))
    host = np.array(obj, dtype=dtype, order=order or "K", copy=True)
    if host.dtype.kind in UNSUPPORTED_KINDS:
        _check_dtype(host.dtype)
    return SimArray(host)


def _asnumpy(obj: Any) -> np.ndarray:
    return obj.get() if isinstance(obj, SimArray) else np.asarray(obj)


class _Random(types.ModuleType):
    """``xp.random``: a device stream of its own (Philox), so seeds do not reproduce NumPy's."""

    def __init__(self) -> None:
        super().__init__("accel_sim.random")
        self._gen = np.random.Generator(np.random.Philox(0))

    def seed(self, seed: int | None = None) -> None:
        self._gen = np.random.Generator(np.random.Philox(seed))

    def _draw(self, method: str, *args: Any, size: Any = None, **kwargs: Any) -> SimArray:
        return SimArray(np.asarray(getattr(self._gen, method)(*args, size=size, **kwargs)))

    def rand(self, *shape: int) -> SimArray:
        return self._draw("random", size=shape or None)

    def randn(self, *shape: int) -> SimArray:
        return self._draw("standard_normal", size=shape or None)

    def random(self, size: Any = None) -> SimArray:
        return self._draw("random", size=size)

    random_sample = random

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> SimArray:
        return self._draw("normal", loc, scale, size=size)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> SimArray:
        return self._draw("uniform", low, high, size=size)

    def randint(self, low: int, high: int | None = None, size: Any = None) -> SimArray:
        return self._draw("integers", low, high, size=size)

    def standard_normal(self, size: Any = None) -> SimArray:
        return self._draw("standard_normal", size=size)


def make_namespace() -> types.ModuleType:
    """A fresh ``xp`` for the stand-in device (CuPy's module shape: linalg, fft, random)."""
    xp = _Namespace("accel_sim", np)
    xp.ndarray = SimArray  # type: ignore[attr-defined]
    xp.asarray = _asarray  # type: ignore[attr-defined]
    xp.array = lambda obj, dtype=None, copy=True, order="K", **_: _asarray(  # type: ignore[attr-defined]
        obj, dtype, order, copy=True
    )
    xp.asnumpy = _asnumpy  # type: ignore[attr-defined]
    xp.linalg = _Namespace("accel_sim.linalg", np.linalg)  # type: ignore[attr-defined]
    xp.fft = _Namespace("accel_sim.fft", np.fft)  # type: ignore[attr-defined]
    xp.random = _Random()  # type: ignore[attr-defined]
    xp.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError)
    )
    return xp
