"""Counts cudf.pandas' per-call fast (GPU) / slow (CPU) decisions into accel's report.

cudf.pandas routes every proxied call through ``fast_slow_proxy._fast_slow_function_call(func,
*args, **kwargs) -> (result, ran_fast)``, which tries ``func`` on cuDF objects and, on any
exception, again on pandas objects. We wrap that one function (looked up as a module global at
call time, so replacing the attribute is enough): the proxy machinery stays cuDF's own. The
module is passed in, so the same code is tested on CPU against a stand-in with that contract.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from accel._report import Recorder

_ORIGINAL = "_accel_original_fast_slow_function_call"
_CALLERS = {"call_operator", "<lambda>", "call"}


def _qualname(obj: Any) -> str:
    for attr in ("_customqualname", "__qualname__", "__name__"):
        try:
            value = getattr(obj, attr, None)
        except Exception:  # noqa: BLE001 - a proxy's getattr may itself fail; naming must not
            value = None
        if isinstance(value, str) and value:
            return value
    return type(obj).__name__


def call_name(func: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """A readable name for one proxied call, e.g. ``DataFrame.merge`` or ``read_csv``."""
    if getattr(func, "__name__", None) in _CALLERS and args:
        return _qualname(args[0])
    name = _qualname(func)
    if func is getattr and len(args) >= 2 and isinstance(args[1], str):
        return f"{_qualname(type(args[0]))}.{args[1]}"
    return name


def instrument(fast_slow: ModuleType, recorder: Recorder, library: str = "pandas") -> None:
    """Wrap ``fast_slow._fast_slow_function_call`` so each call is counted in ``recorder``."""
    if hasattr(fast_slow, _ORIGINAL):
        return
    original = getattr(fast_slow, "_fast_slow_function_call")  # noqa: B009 - a module we wrap

    def counted(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        first_error: list[BaseException] = []

        def watched(*a: Any, **k: Any) -> Any:
            # The first invocation is the fast attempt; remember why it failed, if it did.
            try:
                return func(*a, **k)
            except Exception as exc:
                if not first_error:
                    first_error.append(exc)
                raise

        start = time.perf_counter()
        result, fast = original(watched, *args, **kwargs)
        reason = None
        if not fast:
            exc = first_error[0] if first_error else None
            reason = (
                f"{type(exc).__name__}: {str(exc)[:120]}"
                if exc
                else "cuDF has no implementation for these arguments"
            )
        recorder.record(
            library,
            call_name(func, args),
            on_gpu=bool(fast),
            seconds=time.perf_counter() - start,
            reason=reason,
        )
        return result, fast

    setattr(fast_slow, _ORIGINAL, original)
    setattr(fast_slow, "_fast_slow_function_call", counted)  # noqa: B010


def uninstrument(fast_slow: ModuleType) -> None:
    """Put the original call function back."""
    original = fast_slow.__dict__.pop(_ORIGINAL, None)
    if original is not None:
        setattr(fast_slow, "_fast_slow_function_call", original)  # noqa: B010
