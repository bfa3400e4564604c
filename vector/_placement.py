"""Where an index lives (CPU, GPU, simulated GPU), why, and every GPU->CPU fallback with its reason."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accel import _device

if TYPE_CHECKING:
    from vector._gpu import Binding

__all__ = [
    "FallbackError",
    "InputError",
    "Placement",
    "binding_for",
    "clear_fallback_report",
    "fallback",
    "fallback_report",
    "resolve",
]

#: Modules the GPU path imports; without them "auto" stays on the CPU.
GPU_NEEDS = ("cuvs", "cupy")


class FallbackError(RuntimeError):
    """ACCEL_STRICT=1 is set and an index would have left the GPU path; the message says why."""


class InputError(ValueError, AssertionError):
    """Bad input (shape, dimension, NaN, k). An AssertionError too, as faiss raises for these."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one index runs: ``device`` is "cpu", "gpu" or "simulated"."""

    device: str
    reason: str
    fallback_reason: str | None = None

    @property
    def on_gpu_path(self) -> bool:
        return self.device in ("gpu", "simulated")


_report_lock = threading.Lock()
_report: list[tuple[str, str]] = []


def resolve(device: str | None) -> Placement:
    """Ask the project resolver (argument > ACCEL_DEVICE > autodetect) where a new index goes."""
    res = _device.resolve(device, needs=GPU_NEEDS)
    return Placement(res.device.value, res.reason)


def binding_for(placement: Placement) -> Binding:
    """The device binding (cuVS + CuPy, or the host stand-in) for a GPU-path placement."""
    if placement.device == "simulated":
        from vector import _cuvs_sim

        return _cuvs_sim.BINDING
    from vector import _cuvs

    return _cuvs.BINDING


def fallback(what: str, reason: str) -> Placement:
    """Record that ``what`` runs on the CPU instead of the GPU; raise under ACCEL_STRICT=1."""
    message = f"{what}: {reason}"
    if _device.current_config().strict:
        raise FallbackError(f"ACCEL_STRICT=1 forbids a CPU fallback: {message}")
    with _report_lock:
        _report.append((what, reason))
    return Placement("cpu", "fell back from the GPU", message)


def fallback_report() -> list[tuple[str, str]]:
    """Every GPU->CPU fallback in this process, as (what, reason) pairs, oldest first."""
    with _report_lock:
        return list(_report)


def clear_fallback_report() -> None:
    with _report_lock:
        _report.clear()
