"""Where an index lives (CPU, GPU, simulated GPU), why, and every GPU->CPU fallback with its reason."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accel import core
from accel.core import Device

if TYPE_CHECKING:
    from vector._gpu.binding import Binding

__all__ = [
    "FallbackError",
    "FallbackReport",
    "InputError",
    "Placement",
    "binding_for",
    "clear_fallback_report",
    "fallback",
    "fallback_report",
    "requested_gpu",
    "resolve",
]

#: The ledger's name for this package (accel.report() shows vector's calls under it).
LIBRARY = "vector"


class FallbackError(core.FallbackError):
    """ACCEL_STRICT=1 is set and an index would have left the GPU path; the message says why.

    An :class:`accel.core.FallbackError` (so a ``RuntimeError``), with ``.library`` ("vector"),
    ``.call`` (the index class or function), ``.reason`` and ``.kind``.
    """


class InputError(ValueError, AssertionError):
    """Bad input (shape, dimension, NaN, k). An AssertionError too, as faiss raises for these."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one index runs: ``device`` is a :class:`accel.core.Device` (a ``str`` enum)."""

    device: Device
    reason: str
    fallback_reason: str | None = None

    @property
    def on_gpu_path(self) -> bool:
        return self.device.on_device()


class FallbackReport(list[tuple[str, str]]):
    """``vector.fallback_report()``: (what, reason) pairs, oldest first, shown as a table."""

    def _rows(self) -> list[tuple[str, str]]:
        return [(str(what), str(reason)) for what, reason in self]

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        if cycle or not self:
            printer.text("vector: no GPU->CPU fallbacks" if not cycle else "FallbackReport(...)")
            return
        printer.text(f"vector: {len(self)} GPU->CPU fallback(s)")
        for what, reason in self._rows():
            printer.break_()
            printer.text(f"  {what}: {reason}")

    def _repr_html_(self) -> str:
        from html import escape

        if not self:
            return "<p>vector: no GPU-&gt;CPU fallbacks</p>"
        rows = "".join(
            f"<tr><td>{escape(what)}</td><td>{escape(reason)}</td></tr>"
            for what, reason in self._rows()
        )
        return (
            f"<table><caption>vector: {len(self)} GPU-&gt;CPU fallback(s)</caption>"
            f"<thead><tr><th>index / call</th><th>reason</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


_report_lock = threading.Lock()
_report: list[tuple[str, str]] = []


def resolve(device: str | Device | None) -> Placement:
    """Ask the project resolver (argument > ACCEL_DEVICE > autodetect) where a new index goes."""
    res = core.resolve_stack(LIBRARY, device)
    return Placement(res.device, res.reason)


def requested_gpu(device: str | Device | None) -> bool:
    """Whether the GPU was asked for explicitly (argument or ACCEL_DEVICE=gpu)."""
    if device is not None:
        return str(device).strip().lower() == "gpu"
    return core.config().device == "gpu"


def binding_for(placement: Placement) -> Binding:
    """The device binding (cuVS + CuPy, or the host stand-in) for a GPU-path placement."""
    if placement.device.is_simulated():
        from vector import _cuvs_sim

        return _cuvs_sim.BINDING
    from vector import _cuvs

    return _cuvs.BINDING


def fallback(
    what: str, reason: str, *, kind: str = "unsupported", meant: Device = Device.GPU
) -> Placement:
    """Record that ``what`` runs on the CPU instead of the GPU; raise under ACCEL_STRICT=1.

    Counted in accel's ledger (``accel.report()``, under the engine ``what`` was meant to run
    on: ``meant`` is GPU or simulated, as Spark's fallbacks are) and in this package's own list
    (:func:`fallback_report`); strict mode (decided by the ledger) raises :class:`FallbackError`.
    """
    message = f"{what}: {reason}"
    stack = core.STACKS[LIBRARY]
    core.ledger.fallback(
        LIBRARY,
        what,
        reason,
        kind=kind,
        error=FallbackError,
        message=f"ACCEL_STRICT=1 forbids a CPU fallback: {message}",
        engine=stack.simulated_engine if meant.is_simulated() else stack.gpu_engine,
    )
    with _report_lock:
        _report.append((what, reason))
    return Placement(Device.CPU, "fell back from the GPU", message)


def fallback_report() -> FallbackReport:
    """Every GPU->CPU fallback in this process, as (what, reason) pairs, oldest first."""
    with _report_lock:
        return FallbackReport(_report)


def clear_fallback_report() -> None:
    with _report_lock:
        _report.clear()
