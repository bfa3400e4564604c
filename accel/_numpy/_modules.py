"""NumPy modules as user code gets them where they are not accelerated: NumPy's own with a few
names replaced, or with device arrays handed to their functions as host copies."""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

from accel._numpy import _transfer
from accel._numpy._array import DeviceArray


class ReplacingModule(types.ModuleType):
    """A NumPy module as it is, except the names ``replaced`` makes (built on first use)."""

    def __init__(self, real: types.ModuleType, replaced: dict[str, Callable[[], Any]]) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._accel_real = real
        self._accel_replaced = replaced
        self.__all__ = list(getattr(real, "__all__", []))

    def __getattr__(self, name: str) -> Any:
        make = self._accel_replaced.get(name)
        if make is None:
            # NumPy's own, looked up each time (np.lib.math warns on every access, as in NumPy)
            return getattr(self._accel_real, name)
        value = make()
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._accel_real)) | set(self.__dict__))


class HostCalls:
    """A NumPy-internal object whose methods take arrays and whose C code reads their memory
    (``_get_castingimpl``'s ArrayMethod: ``_simple_strided_call``): each call gets host copies
    of device arrays (counted), and what it wrote into them goes back to the device."""

    def __init__(self, real: Any) -> None:
        self._accel_real = real

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._accel_real, name)
        if not callable(attr):
            return attr

        def on_host(*args: Any, **kwargs: Any) -> Any:
            return _transfer.call_on_host(
                attr, f"{type(self._accel_real).__name__}.{name}", args, kwargs
            )

        return on_host

    def __repr__(self) -> str:
        return repr(self._accel_real)


def multiarray_umath() -> ReplacingModule:
    # NumPy's own casting tests call ArrayMethods on arrays (their C code reads host memory)
    real = importlib.import_module("numpy._core._multiarray_umath")
    castingimpl = real._get_castingimpl

    def get_castingimpl(*args: Any, **kwargs: Any) -> HostCalls:
        return HostCalls(castingimpl(*args, **kwargs))

    return ReplacingModule(real, {"_get_castingimpl": lambda: get_castingimpl})


def _host_args(value: Any) -> Any:
    if isinstance(value, DeviceArray):
        return _transfer.to_host(value, "ndarray.__array__ (to host)")
    if type(value) is tuple or type(value) is list:
        return type(value)(_host_args(v) for v in value)
    return value


class HostArgsModule(types.ModuleType):
    """``numpy.testing`` for user code: its helpers get host copies of device arrays (counted).

    Such helpers test ``isinstance(x, numpy.ndarray)`` before converting, and would take a
    device array for a scalar; a library that converts with ``np.asarray`` needs none of this.
    """

    def __init__(self, real: types.ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._accel_real = real
        self.__all__ = list(getattr(real, "__all__", []))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._accel_real, name)
        if callable(attr) and not isinstance(attr, type) and not name.startswith("_"):
            real = attr

            def on_host(*args: Any, **kwargs: Any) -> Any:
                return real(*_host_args(args), **{k: _host_args(v) for k, v in kwargs.items()})

            on_host.__name__ = getattr(real, "__name__", name)
            on_host.__doc__ = getattr(real, "__doc__", None)
            on_host.__wrapped__ = real  # type: ignore[attr-defined]
            attr = on_host
        setattr(self, name, attr)
        return attr
