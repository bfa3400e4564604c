"""One error family: a GPU that cannot be used, and a fallback (unsupported, or out of memory)."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccelFallbackError",
    "AccelInstallError",
    "FallbackError",
    "GPUUnavailableError",
    "OutOfMemoryFallback",
    "UnsupportedFallback",
]

#: The kinds of fallback the ledger counts (``FallbackError.kind``).
KINDS = ("unsupported", "out_of_memory")


class GPUUnavailableError(RuntimeError):
    """The GPU was asked for explicitly and cannot be used; the message says what to do."""


class FallbackError(RuntimeError):
    """A call left the device although strict mode forbids it (raised by ``ledger.fallback``).

    Attributes: ``library`` ("pandas", "numpy", "vector", "spark", ...), ``call`` (what was
    called), ``reason`` (why the device could not do it) and ``kind`` ("unsupported" or
    "out_of_memory"). Every package's strict-mode error derives from it, so one ``except
    FallbackError`` catches them all; each keeps its own name.
    """

    default_kind: ClassVar[str] = "unsupported"

    def __init__(
        self,
        message: str = "",
        *,
        library: str = "",
        call: str = "",
        reason: str = "",
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.library = library
        self.call = call
        self.reason = reason
        self.kind = kind or type(self).default_kind


class OutOfMemoryFallback(FallbackError):
    """The device ran out of memory for this call."""

    default_kind = "out_of_memory"


class UnsupportedFallback(FallbackError):
    """The device library has no implementation for this call or these arguments."""

    default_kind = "unsupported"


class AccelFallbackError(FallbackError):
    """Strict mode is on and a pandas / NumPy / scikit-learn call left the GPU."""


class AccelInstallError(RuntimeError):
    """accel could not accelerate what strict mode requires; the message says what to do."""
