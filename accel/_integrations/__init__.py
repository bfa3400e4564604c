"""accel's integrations, one small module each, named in one table that ``install`` loops over."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from accel import _device
from accel._config import Config
from accel._device import Device, GPUUnavailableError, Resolution
from accel._fallbacks import Ledger
from accel._report import LibraryStatus

__all__ = ["INTEGRATIONS", "InstallContext", "Integration", "load"]


@dataclass(frozen=True, slots=True)
class Integration:
    """One row of the table: ``target`` has ``install(ctx: InstallContext) -> None`` and
    ``uninstall() -> None``; with ``on_cpu`` false it is not even imported unless ``stack``
    resolves to the device (the CPU pass-through imports nothing)."""

    library: str
    target: str
    stack: str
    on_cpu: bool


#: In install order. The faiss alias lives in vector and is named, never imported, here.
INTEGRATIONS: tuple[Integration, ...] = (
    Integration("pandas", "accel._integrations.pandas", "pandas", on_cpu=True),
    Integration("scikit-learn", "accel._integrations.sklearn", "sklearn", on_cpu=True),
    Integration("numpy", "accel._integrations.numpy", "numpy", on_cpu=False),
    Integration("faiss", "vector._alias", "vector", on_cpu=False),
)

# Errors that mean "this GPU stack cannot start here" (a broken CUDA install, a driver/runtime
# mismatch, a missing shared library); CUDA Python's and RMM's errors derive from RuntimeError.
START_FAILURES = (ImportError, OSError, RuntimeError, MemoryError)


@dataclass(slots=True)
class InstallContext:
    """What one ``accel.install()`` call hands each integration."""

    #: the device the caller asked for (None: ``ACCEL_DEVICE``, then auto)
    requested: str | Device | None
    strict: bool
    quiet: bool
    config: Config
    ledger: Ledger
    #: print accel's one-line notice (at most once per process)
    notice: Callable[[str], None]
    #: pandas' resolution, which decided whether accel runs at all
    primary: Resolution
    #: integrations' own notes for their uninstall (e.g. "pandas hooked")
    notes: dict[str, object] = field(default_factory=dict)

    def resolve(self, stack: str) -> Resolution:
        """Where ``stack`` runs. An explicit GPU that this stack cannot use (pandas already
        said whether the GPU itself is there) answers the CPU with the reason, not an error."""
        try:
            return _device.resolve_stack(stack, self.requested)
        except GPUUnavailableError:
            return _device.resolve_stack(stack, "auto")

    def wanted(self, entry: Integration) -> bool:
        """Whether ``entry`` is to be loaded and asked: always, or when its stack is on the device."""
        if entry.on_cpu:
            return True
        try:
            return _device.resolve_stack(entry.stack, self.requested).device.on_device()
        except GPUUnavailableError:
            return False  # pandas' resolution already decided how to report a missing GPU

    def set_status(self, library: str, device: Device | str, engine: str, reason: str) -> None:
        self.ledger.set_library(LibraryStatus(library, Device(device), engine, reason))

    def check_cuda(self) -> None:
        """Raise if CUDA cannot start (a driver that lists a GPU does not prove it does)."""
        from accel import _gpu

        _gpu.check_cuda()


def load(target: str) -> ModuleType | None:
    """The integration module named ``target``; None when it (or its package) is not there."""
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if target == missing or target.startswith(missing + "."):
            return None
        raise  # the module is there and something it imports is not: a real error
