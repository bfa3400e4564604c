"""The one fallback ledger every package records into, and the one place strict mode is decided."""

from __future__ import annotations

import threading

from accel import _config
from accel._device import Device
from accel._errors import AccelFallbackError, FallbackError, OutOfMemoryFallback
from accel._report import CallStats, LibraryStatus, Report

__all__ = ["Ledger", "ledger"]


class Ledger:
    """Thread-safe counters per (library, call), and how each library is served.

    ``record_call`` counts calls that ran where they were meant to (on the device, or on the
    CPU by choice); ``fallback`` counts a call that left the device, with its reason, and raises
    when strict mode is on for that library. :meth:`snapshot` is what ``accel.report()`` shows.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], CallStats] = {}
        self._libraries: dict[str, LibraryStatus] = {}
        #: libraries made strict by ``install(strict=True)`` and the like; None: all of them
        self._strict: set[str | None] = set()

    # --- strict mode: decided here and nowhere else -------------------------------------
    def is_strict(self, library: str | None = None, *, also: bool = False) -> bool:
        """Whether a fallback of ``library`` is an error: ``ACCEL_STRICT``, or a strict switch
        given for that library (or all), or ``also`` (a caller's own switch, e.g. a Spark
        session's ``spark.accel.strict``)."""
        return (
            also
            or _config.config().strict
            or None in self._strict
            or (library is not None and library in self._strict)
        )

    def set_strict(self, on: bool, *libraries: str) -> None:
        """Turn strict mode on or off for ``libraries`` (none given: every library)."""
        keys: tuple[str | None, ...] = libraries or (None,)
        with self._lock:
            for key in keys:
                (self._strict.add if on else self._strict.discard)(key)

    @property
    def strict(self) -> bool:
        """Strict for every library (``ledger.strict = True`` is ``set_strict(True)``)."""
        return self.is_strict()

    @strict.setter
    def strict(self, on: bool) -> None:
        if not on:
            with self._lock:
                self._strict.clear()
        else:
            self.set_strict(True)

    # --- libraries -------------------------------------------------------------------------
    def set_library(self, status: LibraryStatus) -> None:
        with self._lock:
            self._libraries[status.library] = status

    def forget_libraries(self) -> None:
        with self._lock:
            self._libraries.clear()

    def library(self, name: str) -> LibraryStatus | None:
        with self._lock:
            return self._libraries.get(name)

    # --- recording ---------------------------------------------------------------------------
    def record_call(
        self,
        library: str,
        call: str,
        *,
        device: Device | str,
        seconds: float = 0.0,
        bytes_to_device: int = 0,
        bytes_to_host: int = 0,
        count: int = 1,
        engine: str = "",
    ) -> None:
        """Count ``count`` calls that ran on ``device`` where they were meant to run."""
        on_device = Device(device).on_device()
        with self._lock:
            stats = self._stats(library, call, engine)
            if on_device:
                stats.gpu_calls += count
                stats.gpu_seconds += seconds
            else:
                stats.cpu_calls += count
                stats.cpu_seconds += seconds
            stats.bytes_to_device += bytes_to_device
            stats.bytes_to_host += bytes_to_host

    def record_fallback(
        self,
        library: str,
        call: str,
        reason: str,
        *,
        kind: str = "unsupported",
        seconds: float = 0.0,
        bytes_to_device: int = 0,
        bytes_to_host: int = 0,
        count: int = 1,
        engine: str = "",
    ) -> None:
        """Count a fallback that already happened (e.g. reported back by Spark's tasks);
        never raises. :meth:`fallback` is the same plus strict mode."""
        with self._lock:
            stats = self._stats(library, call, engine)
            stats.cpu_calls += count
            stats.cpu_seconds += seconds
            stats.fallbacks += count
            stats.reasons[reason or "unknown reason"] += count
            stats.kinds[kind] += count
            stats.bytes_to_device += bytes_to_device
            stats.bytes_to_host += bytes_to_host

    def fallback(
        self,
        library: str,
        call: str,
        reason: str,
        *,
        kind: str = "unsupported",
        error: type[FallbackError] = FallbackError,
        strict: bool = False,
        message: str | None = None,
        cause: BaseException | None = None,
        seconds: float = 0.0,
        bytes_to_device: int = 0,
        bytes_to_host: int = 0,
        engine: str = "",
    ) -> None:
        """Count one call that left the device, then raise ``error`` if strict mode is on for
        ``library`` (see :meth:`is_strict`; ``strict`` is the caller's own switch, OR-ed in).

        ``error`` is the package's own :class:`FallbackError` subclass; the base class picks
        :class:`OutOfMemoryFallback` for ``kind="out_of_memory"``. ``message`` replaces the
        default text; ``cause`` becomes the raised error's ``__cause__``.
        """
        self.record_fallback(
            library,
            call,
            reason,
            kind=kind,
            seconds=seconds,
            bytes_to_device=bytes_to_device,
            bytes_to_host=bytes_to_host,
            engine=engine,
        )
        if not self.is_strict(library, also=strict):
            return
        if error is FallbackError and kind == "out_of_memory":
            error = OutOfMemoryFallback
        text = message or (
            f"{library} call {call} fell back to the CPU ({reason or 'unknown reason'}) "
            "and strict mode is on (ACCEL_STRICT=1 / install(strict=True))"
        )
        raise error(text, library=library, call=call, reason=reason, kind=kind) from cause

    def record(
        self,
        library: str,
        call: str,
        *,
        on_gpu: bool,
        seconds: float,
        reason: str | None = None,
        bytes_to_device: int = 0,
        bytes_to_host: int = 0,
    ) -> None:
        """The former ``Recorder.record``: a CPU call is a fallback when it has a reason or its
        library is served on the device (strict mode raises :class:`AccelFallbackError`)."""
        status = self.library(library)
        served_on_device = status is not None and status.device.on_device()
        if on_gpu or not (reason or served_on_device):
            device = Device.GPU if on_gpu else Device.CPU
            self.record_call(
                library,
                call,
                device=device,
                seconds=seconds,
                bytes_to_device=bytes_to_device,
                bytes_to_host=bytes_to_host,
            )
            return
        self.fallback(
            library,
            call,
            reason or "unknown reason",
            kind=_kind(reason),
            error=AccelFallbackError,
            seconds=seconds,
            bytes_to_device=bytes_to_device,
            bytes_to_host=bytes_to_host,
        )

    def _stats(self, library: str, call: str, engine: str) -> CallStats:
        stats = self._calls.setdefault((library, call), CallStats())
        if engine:
            stats.engine = engine
        return stats

    # --- reading -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every call counted so far (library statuses and strict switches stay)."""
        with self._lock:
            self._calls.clear()

    def snapshot(self) -> Report:
        with self._lock:
            calls = {key: s.copy() for key, s in self._calls.items()}
            return Report(dict(self._libraries), calls)


def _kind(reason: str | None) -> str:
    # accel's recorders name the error in the reason; MemoryError and CuPy's/RMM's
    # OutOfMemoryError say "out of memory".
    text = (reason or "").lower()
    return "out_of_memory" if "out of memory" in text or "outofmemory" in text else "unsupported"


#: The process-wide ledger: ``accel.report()`` reads it, every package records into it.
ledger = Ledger()
