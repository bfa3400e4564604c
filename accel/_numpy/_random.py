"""``np.random`` generator objects in user code: NumPy's streams that handle device arrays
(shuffle writes back), and CuPy's device generators whose draws come back as device arrays."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from accel._numpy import _dispatch, _placement, _transfer

# methods that take arrays; NumPy's C code would treat a device array as a generic sequence
# (Generator.shuffle of a 2-D one duplicated rows), so they run on host copies (counted)
_ARRAY_METHODS = ("shuffle", "permutation", "permuted", "choice")


def _no_device_stream() -> Callable[..., Any]:
    raise NotImplementedError("draws come from NumPy's random stream (device streams are opt-in)")


def _host_method(base: type, method: str) -> Callable[..., Any]:
    unbound = getattr(base, method)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        real = unbound.__get__(self)
        if not (_placement.has_device(args) or _placement.has_device(kwargs.values())):
            return real(*args, **kwargs)
        mutates = (args[0] if args else kwargs.get("x")) if method == "shuffle" else None
        return _dispatch.dispatch(
            f"random.{base.__name__}.{method}",
            real,
            _no_device_stream,
            args,
            kwargs,
            mutates=mutates,
        )

    call.__name__ = method
    return call


class _SubclassOfNumpys(type):
    """``isinstance(rng, np.random.Generator)`` in user code stays true for NumPy's own."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls.__mro__[1])

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.__mro__[1])


class Generator(np.random.Generator, metaclass=_SubclassOfNumpys):
    """NumPy's ``Generator`` (same numbers); array methods take device arrays too."""


class RandomState(np.random.RandomState, metaclass=_SubclassOfNumpys):
    """NumPy's ``RandomState`` (same numbers); array methods take device arrays too."""


for _cls, _base in ((Generator, np.random.Generator), (RandomState, np.random.RandomState)):
    for _method in _ARRAY_METHODS:
        if hasattr(_base, _method):
            setattr(_cls, _method, _host_method(_base, _method))
    _cls.__module__ = "numpy.random"

HOST_CLASSES: dict[str, type] = {"Generator": Generator, "RandomState": RandomState}


def host_generator(made: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``np.random.default_rng(...)``'s answer as accel's :class:`Generator` (same stream)."""
    seed = args[0] if args else kwargs.get("seed")
    if seed is made or not isinstance(made, np.random.Generator):
        return made  # default_rng(gen) hands back the caller's own generator
    return Generator(made.bit_generator)


class DeviceGenerator:
    """A device generator (``cupy.random.default_rng``): its draws come back as device arrays."""

    def __init__(self, fast: Any) -> None:
        self._fast = fast

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._fast, name)
        if not callable(method) or name.startswith("_"):
            return method

        def draw(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            moved = _transfer.Moved()
            result = method(*_transfer.to_fast(args, moved), **_transfer.to_fast(kwargs, moved))
            result = _transfer.wrap_result(result, kwargs.get("size") is None and not args, moved)
            moved.record(f"random.Generator.{name}", start)
            return result

        draw.__name__ = name
        return draw


def device_generator(made: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``default_rng`` with device streams on: CuPy's generator, or NumPy's after a fallback."""
    if isinstance(made, np.random.Generator):
        return host_generator(made, args, kwargs)
    return DeviceGenerator(made)
