"""What ran where: per library and per call, GPU calls, CPU fallbacks with reasons, time and bytes."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class AccelFallbackError(RuntimeError):
    """Strict mode is on and a call left the GPU; the message names the call and the reason."""


@dataclass(frozen=True, slots=True)
class LibraryStatus:
    """How one library is served in this process."""

    library: str
    device: str
    engine: str
    reason: str


@dataclass(slots=True)
class CallStats:
    """Counters for one (library, call) pair."""

    gpu_calls: int = 0
    cpu_calls: int = 0
    gpu_seconds: float = 0.0
    cpu_seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    bytes_to_device: int = 0
    bytes_to_host: int = 0


class Recorder:
    """Thread-safe store of call counters, filled by the per-library hooks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str], CallStats] = {}
        self._libraries: dict[str, LibraryStatus] = {}
        self.strict = False

    def set_library(self, status: LibraryStatus) -> None:
        with self._lock:
            self._libraries[status.library] = status

    def forget_libraries(self) -> None:
        with self._lock:
            self._libraries.clear()

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
        """Count one call. A CPU call on a GPU-served library is a fallback and needs a reason."""
        with self._lock:
            stats = self._calls.setdefault((library, call), CallStats())
            if on_gpu:
                stats.gpu_calls += 1
                stats.gpu_seconds += seconds
            else:
                stats.cpu_calls += 1
                stats.cpu_seconds += seconds
                stats.reasons[reason or "unknown reason"] += 1
            stats.bytes_to_device += bytes_to_device
            stats.bytes_to_host += bytes_to_host
        if self.strict and not on_gpu:
            raise AccelFallbackError(
                f"{library} call {call} fell back to the CPU ({reason or 'unknown reason'}) "
                "and strict mode is on (ACCEL_STRICT=1 / install(strict=True))"
            )

    def reset(self) -> None:
        """Forget every call counted so far (library statuses stay)."""
        with self._lock:
            self._calls.clear()

    def snapshot(self) -> Report:
        with self._lock:
            calls = {
                key: CallStats(
                    s.gpu_calls,
                    s.cpu_calls,
                    s.gpu_seconds,
                    s.cpu_seconds,
                    Counter(s.reasons),
                    s.bytes_to_device,
                    s.bytes_to_host,
                )
                for key, s in self._calls.items()
            }
            return Report(dict(self._libraries), calls)


RECORDER = Recorder()


@dataclass(frozen=True, slots=True)
class Report:
    """A snapshot of what ran where. ``str()`` is a table; :meth:`to_dict` / :meth:`to_json` for tools."""

    libraries: dict[str, LibraryStatus]
    calls: dict[tuple[str, str], CallStats]

    @property
    def fallbacks(self) -> int:
        """Number of calls that ran on the CPU although their library is served by the GPU (or
        by the simulated device, which stands in for it)."""
        return sum(
            s.cpu_calls
            for (library, _), s in self.calls.items()
            if library in self.libraries and self.libraries[library].device in ("gpu", "simulated")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "libraries": {
                name: {"device": st.device, "engine": st.engine, "reason": st.reason}
                for name, st in sorted(self.libraries.items())
            },
            "calls": [
                {
                    "library": library,
                    "call": call,
                    "gpu_calls": s.gpu_calls,
                    "cpu_calls": s.cpu_calls,
                    "gpu_seconds": round(s.gpu_seconds, 6),
                    "cpu_seconds": round(s.cpu_seconds, 6),
                    "fallback_reasons": dict(s.reasons),
                    "bytes_to_device": s.bytes_to_device,
                    "bytes_to_host": s.bytes_to_host,
                }
                for (library, call), s in sorted(self.calls.items())
            ],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows: library, call, GPU calls, CPU calls, time, bytes moved, fallback reasons."""
        out: list[tuple[str, ...]] = []
        for (library, call), s in sorted(self.calls.items()):
            moved = s.bytes_to_device + s.bytes_to_host
            reasons = "; ".join(f"{r} (x{n})" for r, n in s.reasons.most_common(3))
            out.append(
                (
                    library,
                    call,
                    str(s.gpu_calls),
                    str(s.cpu_calls),
                    f"{(s.gpu_seconds + s.cpu_seconds) * 1e3:.1f} ms",
                    _human_bytes(moved) if moved else "-",
                    reasons or "-",
                )
            )
        return out

    def __str__(self) -> str:
        lines = ["accel report"]
        if not self.libraries:
            lines.append(
                "  accel is not installed in this process (accel.install() / import accel.auto)"
            )
        for name, st in sorted(self.libraries.items()):
            lines.append(f"  {name:<13} {st.device.upper():<4} via {st.engine}: {st.reason}")
        if self.calls:
            header = ("library", "call", "GPU", "CPU", "time", "moved", "CPU fallback reasons")
            lines.append("")
            lines.extend(_format_table(header, self.rows()))
        elif self.libraries:
            lines.append("  no accelerated calls were counted")
        return "\n".join(lines)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        libs = Table(title="accel: libraries", show_lines=False)
        for col in ("library", "device", "engine", "why"):
            libs.add_column(col)
        for name, st in sorted(self.libraries.items()):
            libs.add_row(name, st.device.upper(), st.engine, st.reason)
        calls = Table(title="accel: calls")
        for col in ("library", "call", "GPU", "CPU", "time", "moved", "CPU fallback reasons"):
            calls.add_column(col, justify="right" if col in {"GPU", "CPU", "time"} else "left")
        for row in self.rows():
            calls.add_row(*row)
        parts: list[Any] = [libs] if self.libraries else [Text(str(self))]
        if self.calls:
            parts.append(calls)
        elif self.libraries:
            parts.append(Text("no accelerated calls were counted"))
        return Group(*parts)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  " + "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*r) for r in rows
    ]
