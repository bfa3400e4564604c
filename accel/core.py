"""accel's core, public to spark_plugin and vector: device, configuration, errors, one ledger.

A short guide (everything here imports no GPU library)::

    from accel import core

    res = core.resolve_stack("vector", requested)   # explicit > ACCEL_DEVICE > autodetect
    res.device.on_device()                           # Device: .is_gpu() .is_cpu() .is_simulated()
    res.engine("vector")                             # "cuVS" or "faiss-cpu" (from _stacks' table)

    core.ledger.record_call("vector", "IndexFlatL2.search", device=res.device, seconds=t,
                            bytes_to_device=n)       # a call that ran where it was meant to
    core.ledger.fallback("vector", "IndexFlatL2.add", "no cuVS equivalent for METRIC_L1",
                         kind="unsupported", error=MyFallbackError)
        # counts it, then raises MyFallbackError(...) if strict mode is on for "vector"
        # (ACCEL_STRICT, install(strict=True), ledger.set_strict(True, "vector"), or strict=True)
    core.ledger.record_fallback(...)                 # same, never raises (already happened)
    core.ledger.set_library(core.LibraryStatus("vector", res.device, engine, res.reason))
    core.config().strict / .quiet / .device          # the ACCEL_* snapshot, parsed once

``resolve(requested, needs=...)`` is the general form of ``resolve_stack``; an explicit
``"gpu"`` with no usable GPU raises :class:`GPUUnavailableError`, ``"auto"`` never raises.
Package errors subclass :class:`FallbackError` (``.library .call .reason .kind``), with
:class:`OutOfMemoryFallback` and :class:`UnsupportedFallback` as the two kinds.
``ledger.snapshot()`` is the :class:`Report` that ``accel.report()`` returns. A package adds rows
to ``python -m accel demo`` as :class:`DemoStep` values. The host stand-in for a device array library
(for a sibling's simulated binding) is the separate public module :mod:`accel.simulated`.
"""

from __future__ import annotations

from accel._config import Config, config, reload_config
from accel._demo_api import DemoStep
from accel._device import Device, Resolution, resolve, resolve_stack
from accel._errors import (
    FallbackError,
    GPUUnavailableError,
    OutOfMemoryFallback,
    UnsupportedFallback,
)
from accel._fallbacks import Ledger, ledger
from accel._report import CallStats, LibraryStatus, Report
from accel._stacks import STACKS, Stack

__all__ = [
    "STACKS",
    "CallStats",
    "Config",
    "DemoStep",
    "Device",
    "FallbackError",
    "GPUUnavailableError",
    "Ledger",
    "LibraryStatus",
    "OutOfMemoryFallback",
    "Report",
    "Resolution",
    "Stack",
    "UnsupportedFallback",
    "config",
    "ledger",
    "reload_config",
    "resolve",
    "resolve_stack",
]
