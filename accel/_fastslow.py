"""Counts cudf.pandas' per-call fast (GPU) / slow (CPU) decisions into accel's report.

cudf.pandas routes every proxied call through ``fast_slow_proxy._fast_slow_function_call(func,
transfer_block=None, /, *args, **kwargs) -> (result, ran_fast)``, which tries ``func`` on cuDF
objects and, on any exception, again on pandas objects inside its ``except`` block. We wrap that
one function, in ``fast_slow_proxy`` and in every module that imported it by name (cudf.pandas'
``_wrappers``): the proxy machinery stays cuDF's own. The module is passed in, so the same code is
tested against real cudf.pandas (rapids tier) and against a stand-in with that contract.
"""

from __future__ import annotations

import inspect
import sys
import time
import types
from collections.abc import Callable
from types import ModuleType
from typing import Any

from accel._fallbacks import Ledger

_STATE = "_accel_instrumented"
_CALLERS = {"call_operator", "call"}
_DESCRIPTORS = (property, types.GetSetDescriptorType, types.MemberDescriptorType)


def _static(obj: Any, attr: str) -> Any:
    # Static look-ups only: a proxy's __getattr__ would copy data between device and host.
    value = inspect.getattr_static(obj, attr, None)
    if isinstance(value, _DESCRIPTORS):
        try:
            return value.__get__(obj, type(obj))
        except AttributeError:
            return None
    return value


def _qualname(obj: Any) -> str:
    if isinstance(obj, type):
        return obj.__qualname__
    for attr in ("_customqualname", "__qualname__", "__name__"):
        value = _static(obj, attr)
        if isinstance(value, str) and value:
            return value
    return type(obj).__qualname__


def _owner(obj: Any) -> str:
    return _qualname(obj) if isinstance(obj, type) else type(obj).__qualname__


def _method_name(qualname: str, call_args: Any) -> str:
    # pandas names a method after the class defining it (OpsMixin.__add__); name it after the
    # class of the object it is called on (Series.__add__), when that object is the receiver.
    defining, _, method = qualname.rpartition(".")
    if not defining or not isinstance(call_args, tuple) or not call_args:
        return qualname
    receiver = type(call_args[0])
    slow = inspect.getattr_static(receiver, "_fsproxy_slow_type", receiver)
    mro = getattr(slow, "__mro__", ())
    if defining.rpartition(".")[2] in {cls.__name__ for cls in mro}:
        return f"{receiver.__qualname__}.{method}"
    return qualname


def call_name(func: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """A readable name for one proxied call, e.g. ``DataFrame.merge`` or ``read_csv``.

    ``args`` are the call's arguments after cudf.pandas' ``transfer_block``.
    """
    name = _qualname(func)
    ufunc = _static(func, "__self__")
    if type(ufunc).__name__ == "ufunc":  # NumPy on proxied arrays: getattr(np.add, "reduce")
        method = _static(func, "__name__")
        return f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if not args:
        return name
    if getattr(func, "__name__", None) in _CALLERS:  # call_operator(method, args, kwargs)
        return _method_name(_qualname(args[0]), args[1] if len(args) > 1 else ())
    if func is getattr and len(args) >= 2 and isinstance(args[1], str):
        return f"{_owner(args[0])}.{args[1]}"
    if getattr(func, "__name__", None) == "<lambda>":
        # cudf.pandas' own lambdas: a constructor (first argument a class) or one attribute
        names: tuple[str, ...] = getattr(getattr(func, "__code__", None), "co_names", ())
        if isinstance(args[0], type) or len(names) != 1:
            return _owner(args[0])
        return f"{_owner(args[0])}.{names[0]}"
    return name


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "cuDF has no implementation for these arguments"
    if type(exc) is Exception and not str(exc):
        return "cuDF returned NotImplemented for these arguments"
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def instrument(fast_slow: ModuleType, recorder: Ledger, library: str = "pandas") -> None:
    """Wrap ``fast_slow._fast_slow_function_call`` so each call is counted in ``recorder``.

    Modules already holding the function under that name are switched to the wrapper too.
    In strict mode (``recorder.is_strict(library)``) a fallback raises :class:`accel.AccelFallbackError`
    once counted, before the CPU attempt runs.
    """
    if _STATE in fast_slow.__dict__:
        return
    original = fast_slow.__dict__["_fast_slow_function_call"]
    # cudf.pandas' own strict switch (CUDF_PANDAS_FAIL_ON_FALLBACK) raises this before the CPU
    # attempt; it is counted, and becomes accel's error in strict mode.
    cudf_fallback = fast_slow.__dict__.get("FallbackError", ())

    def counted(
        func: Callable[..., Any], transfer_block: Any = None, /, *args: Any, **kwargs: Any
    ) -> Any:
        outer = sys.exc_info()[1]
        strict = recorder.is_strict(library)  # one answer for the whole call
        slow_cause: list[BaseException | None] = []
        in_call = [True]  # cudf.pandas keeps ``watched`` in intermediate proxies, to replay later

        def watched(*a: Any, **k: Any) -> Any:
            # The CPU attempt runs inside the except block that caught the GPU attempt's error,
            # so a handled exception other than the caller's own means this is the fallback.
            handling = sys.exc_info()[1]
            if in_call[0] and handling is not outer and not slow_cause:
                slow_cause.append(handling)
                if strict:
                    record(on_gpu=False, reason=_reason(handling))
            return func(*a, **k)

        def record(*, on_gpu: bool, reason: str | None) -> None:
            recorder.record(
                library,
                call_name(func, args),
                on_gpu=on_gpu,
                seconds=time.perf_counter() - start,
                reason=reason,
            )

        start = time.perf_counter()
        try:
            result, fast = original(watched, transfer_block, *args, **kwargs)
        except cudf_fallback as exc:
            record(on_gpu=False, reason=_reason(exc.__cause__ or exc))
            raise
        finally:
            in_call[0] = False
        if not (strict and slow_cause):  # a strict fallback was counted, and raised
            record(
                on_gpu=bool(fast), reason=None if fast else _reason(next(iter(slow_cause), None))
            )
        return result, fast

    importers = [
        module
        for module in list(sys.modules.values())
        if isinstance(module, ModuleType)
        and module is not fast_slow
        and module.__dict__.get("_fast_slow_function_call") is original
    ]
    for module in (fast_slow, *importers):
        module.__dict__["_fast_slow_function_call"] = counted
    fast_slow.__dict__[_STATE] = (original, counted, importers)


def uninstrument(fast_slow: ModuleType) -> None:
    """Put the original call function back wherever :func:`instrument` replaced it."""
    state = fast_slow.__dict__.pop(_STATE, None)
    if state is None:
        return
    original, counted, importers = state
    for module in (fast_slow, *importers):
        if module.__dict__.get("_fast_slow_function_call") is counted:
            module.__dict__["_fast_slow_function_call"] = original
