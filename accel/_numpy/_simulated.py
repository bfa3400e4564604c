"""A host-memory stand-in for CuPy: the "device" of proxy-check mode (``ACCEL_DEVICE=simulated``).

It computes with NumPy but keeps CuPy's contract where accel's proxy layer depends on it:

- device arrays (:class:`SimArray`) refuse implicit conversion to NumPy (``__array__`` raises
  TypeError, as ``cupy.ndarray`` does), and device functions refuse NumPy arrays as inputs;
  the only ways across are ``xp.asarray(host)`` and ``device_array.get()``, which is what lets
  accel count every host<->device copy;
- reductions, scalar indexing and ufuncs on scalars give 0-d device arrays, never NumPy scalars;
- dtypes CuPy lacks (object, strings, bytes, structured, datetime) are refused with TypeError;
- device memory can be made finite (:func:`set_capacity`) to exercise the out-of-memory path;
- ``xp.random`` is its own stream: seeding it does not reproduce NumPy's numbers;
- what CuPy lacks or refuses, it lacks or refuses (``_cupy_table``, derived from CuPy): its
  function names, ufunc methods (``maximum.reduce``), Python lists where CuPy wants arrays
  (``searchsorted(x, [2, 7])``); like CuPy, linalg gives plain tuples, ``allclose`` and
  ``array_equal`` give 0-d arrays, ``flags`` knows only contiguity and ownership,
  floating-point errors are never reported (``np.errstate`` has no effect) and out-of-bounds
  integer-array indices wrap around instead of raising.

Nothing here is a GPU; it exists so the proxy and transfer layer is tested on CPU-only CI.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

from accel._numpy import _cupy_table

# the dtypes CuPy holds (by dtype.char): bool, integers, float16/32/64, complex64/128; not
# object, strings, bytes, structured, datetime, long double, StringDType, user dtypes
SUPPORTED_CHARS = frozenset("?bBhHiIlLqQefdFD")


class OutOfMemoryError(MemoryError):
    """Like ``cupy.cuda.memory.OutOfMemoryError``: an allocation did not fit on the device."""


class CompileException(Exception):
    """Like ``cupy.cuda.compiler.CompileException``: a kernel did not compile (not an OSError)."""


_capacity: list[int | None] = [None]


def set_capacity(nbytes: int | None) -> None:
    """Make any single device allocation above ``nbytes`` fail with :class:`OutOfMemoryError`."""
    _capacity[0] = nbytes


def _check_dtype(dtype: np.dtype[Any]) -> None:
    if dtype.char not in SUPPORTED_CHARS:
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
    @property
    def shape(self) -> tuple[int, ...]:
        return self._host.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        # CuPy allows it where the data need not move, as NumPy does
        view = self._host.reshape(value, copy=False)
        if view.shape != self._host.shape or view.strides != self._host.strides:
            self._host = view

    dtype = property(lambda self: self._host.dtype)
    ndim = property(lambda self: self._host.ndim)
    size = property(lambda self: self._host.size)
    nbytes = property(lambda self: self._host.nbytes)
    itemsize = property(lambda self: self._host.itemsize)
    strides = property(lambda self: self._host.strides)
    flags = property(lambda self: _Flags(self._host.flags))
    base = property(lambda self: None if self._host.base is None else _BASE_MARKER)
    T = property(lambda self: _wrap(self._host.T))
    real = property(lambda self: _wrap(self._host.real))
    imag = property(lambda self: _wrap(self._host.imag))

    @property
    def data(self) -> Any:
        """``cupy.ndarray.data``: a memory pointer (only ``.ptr`` here: the stand-in's address)."""
        return types.SimpleNamespace(ptr=self._host.ctypes.data)

    def get(self) -> np.ndarray:
        """Copy to a new host array (``cupy.ndarray.get``)."""
        return self._host.copy()

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        # the stand-in's memory is host memory: DLPack says so (a CPU device)
        return self._host.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return tuple(self._host.__dlpack_device__())  # type: ignore[return-value]

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly."
        )

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._host[_wrap_indices(_unwrap(key), self._host.shape)])

    def __setitem__(self, key: Any, value: Any) -> None:
        with np.errstate(all="ignore"):
            self._host[_wrap_indices(_unwrap(key), self._host.shape)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._host)

    def take(self, indices: Any, axis: Any = None, out: Any = None) -> Any:
        return _device_function(_cupy_take)(self, indices, axis, out)

    def put(self, indices: Any, values: Any, mode: str = "wrap") -> Any:
        return _device_function(_cupy_put)(self, indices, values, mode)

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


class _Flags:
    """``cupy.ndarray.flags``: contiguity and ownership only (no WRITEABLE, no ALIGNED)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags: Any) -> None:
        self.c_contiguous = bool(flags.c_contiguous)
        self.f_contiguous = bool(flags.f_contiguous)
        self.owndata = bool(flags.owndata)

    def __getitem__(self, name: str) -> bool:
        keys = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous"}
        return bool(getattr(self, keys.get(name, name.lower()) if name != "OWNDATA" else "owndata"))


def _wrap_indices(key: Any, shape: tuple[int, ...]) -> Any:
    """CuPy wraps out-of-bounds integer-array indices around (NumPy raises IndexError)."""
    items = list(key) if isinstance(key, tuple) else [key]
    if not any(isinstance(k, (np.ndarray, list)) for k in items):
        return key
    used = sum(
        np.asarray(k).ndim
        if isinstance(k, (np.ndarray, list)) and np.asarray(k).dtype == bool
        else 0
        if k is None or k is Ellipsis
        else 1
        for k in items
    )
    dim, out = 0, []
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - used
        elif item is None:
            pass
        elif isinstance(item, (np.ndarray, list)):
            index = np.asarray(item)
            if index.dtype == bool:
                dim += index.ndim
            else:
                if index.dtype.kind in "iu" and dim < len(shape) and shape[dim]:
                    item = np.mod(index, shape[dim])
                dim += 1
        else:
            dim += 1
        out.append(item)
    return tuple(out) if isinstance(key, tuple) else out[0]


def _binary(op: str) -> Callable[..., Any]:
    def method(self: SimArray, *args: Any) -> Any:
        with np.errstate(all="ignore"):  # CuPy reports no floating-point errors
            return _wrap(getattr(self._host, op)(*_unwrap(args)))

    method.__name__ = op
    return method


def _inplace(op: str) -> Callable[..., Any]:
    def method(self: SimArray, other: Any) -> SimArray:
        with np.errstate(all="ignore"):
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


def _device_function(
    func: Callable[..., Any], name: str = "", plain_tuples: bool = False
) -> Callable[..., Any]:
    refused_lists = _cupy_table.LIST_REFUSED.get(name, ())
    zero_d = name in ZERO_D_RESULTS

    def device_call(*args: Any, **kwargs: Any) -> Any:
        dtype = kwargs.get("dtype")
        if dtype is not None:
            _check_dtype(np.dtype(dtype))
        for position in refused_lists:
            value = args[position] if position < len(args) else None
            # the probe saw CuPy refuse a list of numbers; a list of device arrays is fine
            if isinstance(value, (list, tuple)) and not any(isinstance(v, SimArray) for v in value):
                raise TypeError(f"Unsupported type {type(args[position])}")  # as CuPy does
        with np.errstate(all="ignore"):
            result = func(*_unwrap(args), **_unwrap(kwargs))
        if zero_d:
            result = np.asarray(result)
        if plain_tuples and isinstance(result, tuple):
            result = tuple(result)  # CuPy's linalg gives plain tuples, not NumPy's named ones
        return _wrap(result)

    device_call.__name__ = getattr(func, "__name__", "device_call")
    return device_call


def _cupy_take(a: np.ndarray, indices: Any, axis: Any = None, out: Any = None) -> Any:
    """``cupy.take``: no ``mode``; out-of-bounds indices wrap around (NumPy raises)."""
    return np.take(a, indices, axis=axis, out=out, mode="wrap")


def _cupy_put(a: np.ndarray, ind: Any, v: Any, mode: Any = "wrap") -> None:
    """``cupy.put``: ``mode`` defaults to "wrap" (NumPy's to "raise")."""
    np.put(a, ind, v, mode=mode)


def _cupy_as_strided(x: np.ndarray, shape: Any = None, strides: Any = None) -> Any:
    """``cupy.lib.stride_tricks.as_strided``: a view of the same memory (no subok/writeable)."""
    return np.lib.stride_tricks.as_strided(x, shape, strides)


def _cupy_sliding_window_view(
    x: np.ndarray,
    window_shape: Any,
    axis: Any = None,
    *,
    subok: bool = False,
    writeable: bool = False,
) -> Any:
    """``cupy.lib.stride_tricks.sliding_window_view``: refuses ``writeable=True``; its view (an
    ``as_strided`` of the same memory) can be written all the same, as a CuPy array has no flag."""
    if writeable:
        raise NotImplementedError("Writeable views are not supported.")
    return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis, writeable=True)


# CuPy's allclose/array_equal/array_equiv end in ``.all()``: a 0-d array, where NumPy gives a
# Python bool (read from cupy/_logic/comparison.py; a 0-d result cannot be probed without a GPU).
ZERO_D_RESULTS = frozenset({"allclose", "array_equal", "array_equiv"})


class _SimUfunc:
    """A device ufunc: call, and the methods CuPy has for this ufunc (``_cupy_table``)."""

    def __init__(self, ufunc: np.ufunc) -> None:
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__
        self.nin, self.nout = ufunc.nin, ufunc.nout
        refused = _cupy_table.UFUNC_METHODS_REFUSED.get(ufunc.__name__, frozenset())
        for method in ("reduce", "accumulate", "reduceat", "outer", "at"):
            if ufunc.nin == 2 or method == "at":
                setattr(self, method, _device_method(ufunc, method, method in refused))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _device_function(self._ufunc)(*args, **kwargs)


def _device_method(ufunc: np.ufunc, method: str, refused: bool) -> Callable[..., Any]:
    if not refused:
        return _device_function(getattr(ufunc, method))

    def not_supported(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"`cupy_{ufunc.__name__}.{method}` is not supported yet")

    return not_supported


class _Namespace(types.ModuleType):
    """``xp``, ``xp.linalg``, ``xp.fft``: NumPy's functions, taking and giving device arrays."""

    def __init__(self, name: str, real: types.ModuleType, cupy_key: str) -> None:
        super().__init__(name)
        self._real = real
        self._prefix = f"{cupy_key}." if cupy_key else ""
        self._cupy_names = _cupy_table.NAMES[cupy_key]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._real, name)
        if (callable(attr) or isinstance(attr, types.ModuleType)) and name not in self._cupy_names:
            raise AttributeError(
                f"module 'cupy{'.' + self._prefix[:-1] if self._prefix else ''}' has no attribute '{name}'"
            )
        if isinstance(attr, np.ufunc):
            value: Any = _SimUfunc(attr)
        elif isinstance(attr, (type, types.ModuleType)):
            value = attr
        elif callable(attr):
            plain = self._prefix == "linalg."
            value = _device_function(attr, f"{self._prefix}{name}", plain_tuples=plain)
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
    if host.dtype.char not in SUPPORTED_CHARS:
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

    def default_rng(self, seed: Any = None) -> _SimGenerator:
        return _SimGenerator(np.random.Generator(np.random.Philox(seed)))


class _SimGenerator:
    """``cupy.random.Generator``: its draws are device arrays (raw, as CuPy hands them back)."""

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in _cupy_table.GENERATOR_METHODS:
            raise AttributeError(name)
        return _device_function(getattr(self._gen, name))


def make_namespace() -> types.ModuleType:
    """A fresh ``xp`` for the stand-in device (CuPy's module shape: linalg, fft, random)."""
    xp = _Namespace("accel_sim", np, "")
    xp.ndarray = SimArray  # type: ignore[attr-defined]
    xp.asarray = _asarray  # type: ignore[attr-defined]
    xp.array = lambda obj, dtype=None, copy=True, order="K", **_: _asarray(  # type: ignore[attr-defined]
        obj, dtype, order, copy=True
    )
    xp.asnumpy = _asnumpy  # type: ignore[attr-defined]
    xp.take = _device_function(_cupy_take, "take")  # type: ignore[attr-defined]
    xp.put = _device_function(_cupy_put, "put")  # type: ignore[attr-defined]
    stride_tricks = _Namespace(
        "accel_sim.lib.stride_tricks", np.lib.stride_tricks, "lib.stride_tricks"
    )
    stride_tricks.as_strided = _device_function(_cupy_as_strided)  # type: ignore[attr-defined]
    stride_tricks.sliding_window_view = _device_function(  # type: ignore[attr-defined]
        _cupy_sliding_window_view
    )
    xp.lib = types.SimpleNamespace(stride_tricks=stride_tricks)  # type: ignore[attr-defined]
    xp.linalg = _Namespace("accel_sim.linalg", np.linalg, "linalg")  # type: ignore[attr-defined]
    xp.fft = _Namespace("accel_sim.fft", np.fft, "fft")  # type: ignore[attr-defined]
    xp.random = _Random()  # type: ignore[attr-defined]
    xp.cuda = types.SimpleNamespace(  # type: ignore[attr-defined]
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError),
        compiler=types.SimpleNamespace(CompileException=CompileException),
    )
    return xp
