"""The accelerated ``numpy`` that user code imports: NumPy's names, with calls placed by size."""

from __future__ import annotations

import math
import pydoc
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from accel._numpy import _compat, _dispatch, _random, _transfer
from accel._numpy._array import DeviceArray, ours
from accel._numpy._dispatch import dispatch
from accel._numpy._modules import HostArgsModule, ReplacingModule, multiarray_umath
from accel._numpy._placement import has_device, place_result, scan, wants_device
from accel._numpy._state import ARRAY_RESULT_CALLS, DEVICE_DTYPE_CHARS, STATE

# Submodules with device counterparts; every other submodule (ma, char...) is NumPy's, except
# numpy.testing, whose helpers are handed host copies (see HostArgsModule).
ACCELERATED_SUBMODULES = ("linalg", "fft", "random")
HOST_ARGS_SUBMODULES = ("testing",)
# deeper modules of NumPy's test helpers that get host copies too (``from numpy.ma.testutils
# import assert_equal`` in NumPy's own lib tests: it asks ``isinstance(x, real ndarray)``)
HOST_ARGS_DOTTED = ("ma.testutils",)
_host_args_modules: dict[str, Any] = {}
# modules of numpy.lib that are NumPy's except for a few names (see _lib, _stride_tricks)
_replacing_modules: dict[str, Any] = {}


class _NDArrayMeta(type):
    """``isinstance(x, np.ndarray)`` in user code: true for NumPy arrays and device arrays."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if cls is ndarray:
            return isinstance(obj, (np.ndarray, DeviceArray))
        return type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        if cls is ndarray:
            return issubclass(sub, (np.ndarray, DeviceArray))
        return type.__subclasscheck__(cls, sub)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        # np.ndarray(shape) builds a plain NumPy array; user subclasses build themselves.
        if cls is ndarray:
            return np.ndarray(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class ndarray(np.ndarray, metaclass=_NDArrayMeta):
    """NumPy's ``ndarray`` as user code sees it (see :class:`_NDArrayMeta`)."""


class _UfuncMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, (np.ufunc, UfuncProxy))

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, (np.ufunc, UfuncProxy))

    def __getattr__(cls, name: str) -> Any:
        return getattr(np.ufunc, name)  # np.ufunc.nin, .__doc__, ... as NumPy has them


def _unbound(method: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, method)(*args, **kwargs)

    call.__name__ = method
    call.__doc__ = getattr(np.ufunc, method).__doc__
    return call


class ufunc(metaclass=_UfuncMeta):
    """``isinstance(np.sin, np.ufunc)`` stays true in user code; ``np.ufunc.reduce(np.add, x)``
    and the other unbound methods work on accel's ufuncs as on NumPy's."""

    __call__ = _unbound("__call__")
    reduce = _unbound("reduce")
    accumulate = _unbound("accumulate")
    reduceat = _unbound("reduceat")
    outer = _unbound("outer")
    at = _unbound("at")
    resolve_dtypes = _unbound("resolve_dtypes")


class UfuncProxy:
    """A NumPy ufunc whose calls go through accel's placement and dispatch.

    Compares and hashes equal to the ufunc it wraps (``np.add == numpy.add``), so tables
    keyed by ufuncs, in user code or in NumPy's own tests, still find it.
    """

    def __init__(self, real: np.ufunc) -> None:
        self._ufunc = real
        self.__name__ = real.__name__
        self.__doc__ = real.__doc__

    def _run(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        real = self._ufunc if method == "__call__" else getattr(self._ufunc, method)
        if not wants_device(args, kwargs):
            return place_result(real(*args, **kwargs), self.__name__)
        if has_device(args) or not all(ours(a) for a in args):
            # NumPy's override protocol decides (a pandas Series gets to answer first).
            return real(*args, **kwargs)
        return _dispatch.call_ufunc(self._ufunc, method, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _transfer.retrying_user_array_likes(self._call, args, kwargs)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not kwargs:
            # the common small call, kept short: under the threshold it is NumPy plus a scan
            size = scan(args)
            if 0 <= size < STATE.min_elements:
                result = self._ufunc(*args)
                if type(result) is np.ndarray and result.size >= STATE.min_elements:
                    return place_result(result, self.__name__)
                return result
        return self._run("__call__", args, kwargs)

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("reduce", args, kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("accumulate", args, kwargs)

    def reduceat(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("reduceat", args, kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("outer", args, kwargs)

    def at(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("at", args, kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ufunc, name)

    def __eq__(self, other: object) -> bool:
        return self._ufunc == (other._ufunc if isinstance(other, UfuncProxy) else other)

    def __hash__(self) -> int:
        return hash(self._ufunc)

    def __repr__(self) -> str:
        return repr(self._ufunc)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickles as NumPy's own ufunc, so a process without accel can load it
        return (pydoc.locate, (f"numpy.{self.__name__}",))


class FunctionProxy:
    """A NumPy function whose calls go through accel's placement and dispatch.

    Equal (and hash-equal) to the NumPy function it wraps; pickles as that function.
    """

    def __init__(self, real: Callable[..., Any], call: str) -> None:
        self.__wrapped__ = real
        self.__name__ = getattr(real, "__name__", call)
        self.__qualname__ = getattr(real, "__qualname__", call)
        self.__module__ = getattr(real, "__module__", "numpy")
        self.__doc__ = getattr(real, "__doc__", None)
        self._call = call
        self._short = call.rsplit(".", 1)[-1]
        self._scalar = call not in ARRAY_RESULT_CALLS
        self._fast = _dispatch.fast_function_by_name(call)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _transfer.retrying_user_array_likes(self._call_placed, args, kwargs)

    def _call_placed(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not kwargs and self._short not in _CREATORS:
            # the common small call, kept short: under the threshold it is NumPy plus a scan
            size = scan(args)
            if 0 <= size < STATE.min_elements or (size >= 0 and not STATE.active):
                result = self.__wrapped__(*args)
                if type(result) is np.ndarray and result.size >= STATE.min_elements:
                    return place_result(result, self._call)
                return result
        if not STATE.active and not has_device(args):
            return self.__wrapped__(*args, **kwargs)
        created = _creation_size(self._short, args, kwargs) if self._short in _CREATORS else 0
        args, kwargs = _compat.out_by_keyword(self.__wrapped__, args, kwargs)
        return dispatch(
            self._call,
            self.__wrapped__,
            self._fast,
            args,
            kwargs,
            scalar_result=self._scalar,
            created=created,
            mutates=_compat.mutated_argument(self._call, args, kwargs),
            owner=_owner(_compat.view_owner(self._call, args)),
        )

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self  # stored on a class, it stays a plain function (no binding)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __eq__(self, other: object) -> bool:
        target = other.__wrapped__ if isinstance(other, FunctionProxy) else other
        return bool(self.__wrapped__ == target)

    def __hash__(self) -> int:
        return hash(self.__wrapped__)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickles as NumPy's own function, so a process without accel can load it
        return (pydoc.locate, (f"numpy.{self._call}",))


def _owner(value: Any) -> DeviceArray | None:
    return value if isinstance(value, DeviceArray) else None


def _shape_size(shape: Any) -> int:
    if isinstance(shape, (int, np.integer)):
        return int(shape)
    return math.prod(int(n) for n in shape)


def _creation_size(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Elements a creation function will make, known before making them (0 if unknown, or
    if the dtype asked for cannot live on the device)."""
    try:
        dtype = kwargs.get("dtype")
        if dtype is not None and np.dtype(dtype).char not in DEVICE_DTYPE_CHARS:
            return 0
        if name in {"zeros", "ones", "empty", "full"}:
            return _shape_size(args[0] if args else kwargs["shape"])
        if name == "arange":
            bounds = [a for a in args if not isinstance(a, (np.dtype, type, str))][:3]
            if len(bounds) == 1:
                start, stop, step = 0.0, float(bounds[0]), 1.0
            else:
                start, stop = float(bounds[0]), float(bounds[1])
                step = float(bounds[2]) if len(bounds) > 2 else float(kwargs.get("step", 1))
            return max(0, math.ceil((stop - start) / step))
        if name in {"linspace", "logspace", "geomspace"}:
            return int(args[2] if len(args) > 2 else kwargs.get("num", 50))
        if name == "eye":
            rows = int(args[0] if args else kwargs["N"])
            cols = args[1] if len(args) > 1 else kwargs.get("M")
            return rows * (rows if cols is None else int(cols))
        if name == "identity":
            return int(args[0] if args else kwargs["n"]) ** 2
    except (IndexError, KeyError, TypeError, ValueError, OverflowError, ZeroDivisionError):
        return 0
    return 0


_CREATORS = frozenset(
    {
        "zeros",
        "ones",
        "empty",
        "full",
        "arange",
        "linspace",
        "logspace",
        "geomspace",
        "eye",
        "identity",
    }
)


class DeviceViewProxy(FunctionProxy):
    """``np.lib.stride_tricks.as_strided`` / ``sliding_window_view``: a view of a device array is
    made on the device (NumPy's would view a host copy, and writes through it would be lost); of
    a host array, by NumPy. ``writeable`` is NumPy's: CuPy's ``as_strided`` has no such argument
    and its ``sliding_window_view`` refuses ``writeable=True``, so the device function is called
    without it and the proxy refuses writes where NumPy's view would be read-only."""

    def __init__(self, real: Callable[..., Any], call: str, writeable_default: bool) -> None:
        super().__init__(real, call)
        self._writeable_default = writeable_default

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(x, DeviceArray):
            return self.__wrapped__(x, *args, **kwargs)
        writeable = bool(kwargs.pop("writeable", self._writeable_default))
        if kwargs.pop("subok", False):
            # a device array is no ndarray subclass: NumPy's own call, on a host copy
            return self.__wrapped__(x, *args, subok=True, writeable=writeable, **kwargs)
        view = dispatch(self._call, self.__wrapped__, self._fast, (x, *args), kwargs, owner=x)
        if not writeable and isinstance(view, DeviceArray):
            view.flags.writeable = False
        return view


def _stride_tricks() -> ReplacingModule:
    # NumPy's views would view a host copy of a device array (writes lost)
    real = np.lib.stride_tricks
    as_strided = DeviceViewProxy(real.as_strided, "lib.stride_tricks.as_strided", True)
    windows = DeviceViewProxy(
        real.sliding_window_view, "lib.stride_tricks.sliding_window_view", False
    )
    return ReplacingModule(
        real, {"as_strided": lambda: as_strided, "sliding_window_view": lambda: windows}
    )


def _lib() -> ReplacingModule:
    return ReplacingModule(np.lib, {"stride_tricks": lambda: submodule("lib.stride_tricks")})


class RandomFunctionProxy(FunctionProxy):
    """``np.random.<name>``: NumPy's stream unless device streams were asked for."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _random_call(self, args, kwargs)


def _random_call(proxy: FunctionProxy, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    real, call, name = proxy.__wrapped__, proxy._call, proxy._short
    if not STATE.device_random:
        # NumPy's stream, NumPy's numbers; a draw of device size then moves (counted).
        if has_device(args) or has_device(kwargs.values()):
            mutates = _compat.mutated_argument(call, args, kwargs)
            # a counted fallback; np.random.shuffle(x) writes the shuffled copy back into x
            return dispatch(call, real, _no_device_stream, args, kwargs, mutates=mutates)
        if name == "default_rng":
            return _random.host_generator(real(*args, **kwargs), args, kwargs)
        return place_result(real(*args, **kwargs), call)
    if name == "default_rng":
        made = dispatch(call, real, proxy._fast, args, kwargs, created=STATE.min_elements)
        return _random.device_generator(made, args, kwargs)
    if name == "seed" and STATE.xp is not None:
        STATE.xp.random.seed(*args, **kwargs)
    # With device streams on, a draw is made on the device from the start.
    created = STATE.min_elements if name != "seed" else 0
    return dispatch(call, real, proxy._fast, args, kwargs, created=created)


def _no_device_stream() -> Callable[..., Any]:
    raise NotImplementedError("draws come from NumPy's random stream (device streams are opt-in)")


class AcceleratedModule(types.ModuleType):
    """``numpy`` (or ``numpy.linalg``/``fft``/``random``) for user code; built lazily, cached."""

    def __init__(self, real: types.ModuleType, prefix: str = "") -> None:
        super().__init__(real.__name__, real.__doc__)
        self._accel_real = real
        self._accel_prefix = prefix
        self.__file__ = getattr(real, "__file__", None)
        self.__all__ = list(getattr(real, "__all__", []))

    def __getattr__(self, name: str) -> Any:
        real = self._accel_real
        attr = getattr(real, name)  # AttributeError as NumPy raises it
        value = self._accelerate(name, attr)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # ``np.x = ...`` in user code sets it on NumPy too, as it would without accel (pickle
        # finds a class stored there by looking it up on the real module)
        if not name.startswith(("_accel_", "__")):
            setattr(self._accel_real, name, value)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if not name.startswith(("_accel_", "__")) and hasattr(self._accel_real, name):
            delattr(self._accel_real, name)
        self.__dict__.pop(name, None)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._accel_real)) | set(self.__dict__))

    def _accelerate(self, name: str, attr: Any) -> Any:
        if name.startswith("_"):
            return attr
        if self._accel_prefix == "" and name == "ndarray":
            return ndarray
        if self._accel_prefix == "" and name == "ufunc":
            return ufunc
        if self._accel_prefix == "" and name == "lib":
            return submodule("lib")
        if self._accel_prefix == "" and name == "nditer":
            from accel._numpy import _extras

            return _extras.nditer
        if self._accel_prefix == "random." and name in _random.HOST_CLASSES:
            return _random.HOST_CLASSES[name]
        if isinstance(attr, np.ufunc):
            return UfuncProxy(attr)
        if isinstance(attr, types.ModuleType):
            if self._accel_prefix == "" and name in ACCELERATED_SUBMODULES:
                return AcceleratedModule(attr, f"{name}.")
            if self._accel_prefix == "" and name in HOST_ARGS_SUBMODULES:
                return HostArgsModule(attr)
            return attr
        if isinstance(attr, type) or not callable(attr):
            return attr
        call = f"{self._accel_prefix}{name}"
        if self._accel_prefix == "random.":
            return RandomFunctionProxy(attr, call)
        return FunctionProxy(attr, call)


NUMPY = AcceleratedModule(np)


def submodule(name: str) -> Any:
    """The accelerated ``numpy.<name>`` for ``from numpy.<name> import ...``, or None."""
    if name in ACCELERATED_SUBMODULES or name in HOST_ARGS_SUBMODULES:
        return getattr(NUMPY, name)
    if name in _REPLACING:
        if name not in _replacing_modules:
            _replacing_modules[name] = _REPLACING[name]()
        return _replacing_modules[name]
    if name in HOST_ARGS_DOTTED:
        if name not in _host_args_modules:
            import importlib

            _host_args_modules[name] = HostArgsModule(importlib.import_module(f"numpy.{name}"))
        return _host_args_modules[name]
    return None


_REPLACING: dict[str, Callable[[], ReplacingModule]] = {
    "lib": _lib,
    "lib.stride_tricks": _stride_tricks,
    "_core._multiarray_umath": multiarray_umath,
}
