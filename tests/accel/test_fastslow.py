"""The cudf.pandas hook, run against a host stand-in with cudf.pandas' fast/slow call contract.

The plain suite has no cuDF, so this stand-in reproduces the one contract we rely on (cudf.pandas
26.10): ``_fast_slow_function_call(func, transfer_block=None, /, *args, **kwargs) -> (result,
ran_fast)``, looked up as a module global, which calls ``func`` on the fast objects and, if that
raises, on the slow ones inside its ``except`` block. The rapids tier runs the same hook on real
cudf.pandas (tests/accel/test_cudf_pandas.py), the GPU tier with a device (test_gpu.py).
"""

from __future__ import annotations

import operator
import types

import numpy as np
import pytest

from accel import _fastslow
from accel._fallbacks import Ledger
from accel._report import AccelFallbackError, LibraryStatus


class Pair:
    """A proxied value: ``fast`` is the device object (None when it cannot live there)."""

    def __init__(self, fast: object, slow: object) -> None:
        self.fast, self.slow = fast, slow


def _side(value: object, side: str) -> object:
    # like cudf.pandas' _fast_arg/_slow_arg: proxies inside tuples are converted too
    if isinstance(value, tuple):
        return tuple(_side(v, side) for v in value)
    return getattr(value, side) if isinstance(value, Pair) else value


def _make_stand_in() -> types.ModuleType:
    mod = types.ModuleType("fast_slow_stand_in")
    mod.received = []  # every function it was given, as cudf.pandas keeps some to replay

    def _fast_slow_function_call(func, transfer_block=None, /, *args, **kwargs):
        mod.received.append(func)
        try:
            if transfer_block == "to-fast":
                raise Exception("Forcing slow path due to transfer blocking")
            fast_args = [_side(a, "fast") for a in args]
            if any(a is None for a in fast_args):
                raise TypeError("no device copy")
            return func(*fast_args, **kwargs), True
        except Exception:
            slow_args = [_side(a, "slow") for a in args]
            return func(*slow_args, **kwargs), False

    mod._fast_slow_function_call = _fast_slow_function_call

    def call_method(
        method_name: str, obj: object, *args: object, transfer_block: str | None = None
    ) -> object:
        # callers look the function up at call time, like cudf.pandas' proxies do
        func = operator.methodcaller(method_name, *args)
        return mod._fast_slow_function_call(func, transfer_block, obj)[0]

    def call_operator(fn, args, kwargs):
        return fn(*args, **kwargs)

    def call_named(method: object, obj: object) -> object:
        # how cudf.pandas calls a method proxy: call_operator(method, (self, ...), kwargs)
        return mod._fast_slow_function_call(call_operator, None, method, (obj,), {})[0]

    mod.call_method = call_method
    mod.call_named = call_named
    return mod


class Device(list):
    """A 'device' list whose sort is unsupported, so that call must fall back."""

    def upper(self):
        return Device(s.upper() for s in self)

    def sort_values(self):
        raise NotImplementedError("sort is not supported on the device")


class Host(list):
    sorts = 0  # how many host sorts ran

    def upper(self):
        return Host(s.upper() for s in self)

    def sort_values(self):
        Host.sorts += 1
        return Host(sorted(self))


@pytest.fixture
def hooked():
    mod = _make_stand_in()
    recorder = Ledger()
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


def test_fallback_before_the_call_has_the_real_reason_too(hooked) -> None:
    mod, recorder = hooked
    assert mod.call_method("upper", Pair(None, Host(["x"]))) == ["X"]
    (stats,) = recorder.snapshot().calls.values()
    assert list(stats.reasons) == ["TypeError: no device copy"]


def test_transfer_block_is_passed_on_not_taken_for_an_argument(hooked) -> None:
    mod, recorder = hooked
    value = Pair(Device(["a"]), Host(["a"]))
    assert mod.call_method("upper", value, transfer_block="to-fast") == ["A"]
    (stats,) = recorder.snapshot().calls.values()
    assert (stats.gpu_calls, stats.cpu_calls) == (0, 1)
    assert list(stats.reasons) == ["Exception: Forcing slow path due to transfer blocking"]


def test_method_calls_are_named_after_the_method_and_its_receiver(hooked) -> None:
    mod, recorder = hooked

    class Method:
        _customqualname = "Host.upper"

        def __call__(self, obj):
            return obj.upper()

    assert mod.call_named(Method(), Pair(Device(["a"]), Host(["a"]))) == ["A"]
    assert [call for _, call in recorder.snapshot().calls] == ["Host.upper"]


def test_strict_mode_raises_on_fallback_before_the_cpu_attempt(hooked) -> None:
    mod, recorder = hooked
    recorder.strict = True
    before = Host.sorts
    with pytest.raises(AccelFallbackError, match="NotImplementedError"):
        mod.call_method("sort_values", Pair(Device(["b"]), Host(["b"])))
    assert Host.sorts == before, "the CPU attempt must not run once strict mode refused it"
    (stats,) = recorder.snapshot().calls.values()
    assert stats.cpu_calls == 1


def test_strict_mode_counts_gpu_calls_normally(hooked) -> None:
    mod, recorder = hooked
    recorder.strict = True
    assert mod.call_method("upper", Pair(Device(["a"]), Host(["a"]))) == ["A"]
    (stats,) = recorder.snapshot().calls.values()
    assert (stats.gpu_calls, stats.cpu_calls) == (1, 0)


def test_a_call_made_while_handling_an_error_is_not_a_fallback(hooked) -> None:
    mod, recorder = hooked
    try:
        raise KeyError("the caller's own error")
    except KeyError:
        assert mod.call_method("upper", Pair(Device(["a"]), Host(["a"]))) == ["A"]
    (stats,) = recorder.snapshot().calls.values()
    assert (stats.gpu_calls, stats.cpu_calls) == (1, 0)


def test_results_are_unchanged_by_the_hook() -> None:
    plain, hooked_mod = _make_stand_in(), _make_stand_in()
    recorder = Ledger()
    _fastslow.instrument(hooked_mod, recorder)
    for method in ("upper", "sort_values"):
        value = Pair(Device(["b", "a"]), Host(["b", "a"]))
        assert plain.call_method(method, value) == hooked_mod.call_method(method, value)


def test_uninstrument_restores_and_instrument_is_idempotent() -> None:
    mod = _make_stand_in()
    original = mod._fast_slow_function_call
    recorder = Ledger()
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
        (getattr, (Host, "upper"), "Host.upper"),
        (len, (), "len"),
        (np.sqrt.__call__, (Host(),), "numpy.sqrt"),
        (np.add.reduce, (Host(),), "numpy.add.reduce"),
        (lambda cls, args, kwargs: cls(*args, **kwargs), (Host, (), {}), "Host"),
        (lambda self: self.upper, (Host(),), "Host.upper"),
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


def test_replaying_a_finished_call_is_not_a_fallback(hooked) -> None:
    # cudf.pandas keeps the function it was given in intermediate proxies (GroupBy) and calls
    # it again later, possibly while it handles another call's GPU error.
    mod, recorder = hooked
    recorder.strict = True
    mod.call_method("upper", Pair(Device(["a"]), Host(["a"])))
    before = recorder.snapshot().calls
    try:
        raise ValueError("another call's GPU error")
    except ValueError:
        assert mod.received[-1](Host(["b"])) == ["B"]
    assert recorder.snapshot().calls == before
