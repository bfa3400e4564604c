"""The cudf.pandas hook, run against a host stand-in with cudf.pandas' fast/slow call contract.

cudf.pandas cannot be imported without a GPU, so this stand-in reproduces the one contract we
rely on: ``_fast_slow_function_call(func, *args, **kwargs) -> (result, ran_fast)``, looked up as a
module global, which calls ``func`` on the fast objects and, if that raises, on the slow ones.
The GPU tier runs the same hook on real cudf.pandas (tests/accel/test_gpu.py).
"""

from __future__ import annotations

import operator
import types

import pytest

from accel import _fastslow
from accel._report import AccelFallbackError, LibraryStatus, Recorder


class Pair:
    """A proxied value: ``fast`` is the device object (None when it cannot live there)."""

    def __init__(self, fast: object, slow: object) -> None:
        self.fast, self.slow = fast, slow


def _make_stand_in() -> types.ModuleType:
    mod = types.ModuleType("fast_slow_stand_in")

    def _fast_slow_function_call(func, /, *args, **kwargs):
        try:
            fast_args = [a.fast if isinstance(a, Pair) else a for a in args]
            if any(a is None for a in fast_args):
                raise TypeError("no device copy")
            return func(*fast_args, **kwargs), True
        except Exception:
            slow_args = [a.slow if isinstance(a, Pair) else a for a in args]
            return func(*slow_args, **kwargs), False

    mod._fast_slow_function_call = _fast_slow_function_call

    def call_method(method_name: str, obj: object, *args: object) -> object:
        # callers look the function up at call time, like cudf.pandas' proxies do
        return mod._fast_slow_function_call(operator.methodcaller(method_name, *args), obj)[0]

    mod.call_method = call_method
    return mod


class Device(list):
    """A 'device' list whose sort is unsupported, so that call must fall back."""

    def upper(self):
        return Device(s.upper() for s in self)

    def sort_values(self):
        raise NotImplementedError("sort is not supported on the device")


class Host(list):
    def upper(self):
        return Host(s.upper() for s in self)

    def sort_values(self):
        return Host(sorted(self))


@pytest.fixture
def hooked():
    mod = _make_stand_in()
    recorder = Recorder()
    recorder.set_library(LibraryStatus("pandas", "gpu", "cudf.pandas", "test"))
    _fastslow.instrument(mod, recorder)
    yield mod, recorder
    _fastslow.uninstrument(mod)


def test_fast_calls_are_counted_as_gpu(hooked) -> None:
    mod, recorder = hooked
    value = Pair(Device(["a", "b"]), Host(["a", "b"]))
    assert mod.call_method("upper", value) == ["A", "B"]
    stats = next(iter(recorder.snapshot().calls.values()))
    assert (stats.gpu_calls, stats.cpu_calls) == (1, 0)


def test_fallback_is_counted_with_the_device_error_as_reason(hooked) -> None:
    mod, recorder = hooked
    value = Pair(Device(["b", "a"]), Host(["b", "a"]))
    assert mod.call_method("sort_values", value) == ["a", "b"]
    report = recorder.snapshot()
    (stats,) = report.calls.values()
    assert stats.cpu_calls == 1
    assert list(stats.reasons) == ["NotImplementedError: sort is not supported on the device"]
    assert report.fallbacks == 1


def test_fallback_before_the_call_has_a_reason_too(hooked) -> None:
    mod, recorder = hooked
    assert mod.call_method("upper", Pair(None, Host(["x"]))) == ["X"]
    (stats,) = recorder.snapshot().calls.values()
    assert list(stats.reasons) == ["cuDF has no implementation for these arguments"]


def test_strict_mode_raises_on_fallback(hooked) -> None:
    mod, recorder = hooked
    recorder.strict = True
    with pytest.raises(AccelFallbackError, match="NotImplementedError"):
        mod.call_method("sort_values", Pair(Device(["b"]), Host(["b"])))


def test_results_are_unchanged_by_the_hook() -> None:
    plain, hooked_mod = _make_stand_in(), _make_stand_in()
    recorder = Recorder()
    _fastslow.instrument(hooked_mod, recorder)
    for method in ("upper", "sort_values"):
        value = Pair(Device(["b", "a"]), Host(["b", "a"]))
        assert plain.call_method(method, value) == hooked_mod.call_method(method, value)


def test_uninstrument_restores_and_instrument_is_idempotent() -> None:
    mod = _make_stand_in()
    original = mod._fast_slow_function_call
    recorder = Recorder()
    _fastslow.instrument(mod, recorder)
    wrapped = mod._fast_slow_function_call
    _fastslow.instrument(mod, recorder)
    assert mod._fast_slow_function_call is wrapped
    _fastslow.uninstrument(mod)
    assert mod._fast_slow_function_call is original


@pytest.mark.parametrize(
    ("func", "args", "expected"),
    [
        (getattr, (Host(), "upper"), "Host.upper"),
        (len, (), "len"),
    ],
)
def test_call_names(func, args, expected) -> None:
    assert _fastslow.call_name(func, args) == expected


def test_call_name_of_a_method_call_is_the_method() -> None:
    def call_operator(fn, args, kwargs):
        return fn(*args, **kwargs)

    class Method:
        _customqualname = "DataFrame.merge"

    assert _fastslow.call_name(call_operator, (Method(), (), {})) == "DataFrame.merge"
