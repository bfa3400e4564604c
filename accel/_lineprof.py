"""``python -m accel --line-profile``: time and accelerated calls per line of the user's own file."""

from __future__ import annotations

import linecache
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

# GPU calls, CPU calls, GPU seconds, CPU seconds: running totals read from accel's counters.
Counters = tuple[int, int, float, float]


def device_counters() -> Counters:
    """Totals over every call accel has counted so far, read through the public report."""
    import accel

    gpu_calls = cpu_calls = 0
    gpu_s = cpu_s = 0.0
    for row in accel.report().to_dict().get("calls", []):
        gpu_calls += int(row.get("gpu_calls", 0))
        cpu_calls += int(row.get("cpu_calls", 0))
        gpu_s += float(row.get("gpu_seconds", 0.0))
        cpu_s += float(row.get("cpu_seconds", 0.0))
    return gpu_calls, cpu_calls, gpu_s, cpu_s


@dataclass(slots=True)
class LineStats:
    hits: int = 0
    seconds: float = 0.0
    gpu_calls: int = 0
    cpu_calls: int = 0
    gpu_seconds: float = 0.0
    cpu_seconds: float = 0.0


class LineProfiler:
    """Charges each line of ``filename`` the wall time until the next line event in the same frame
    (so a line includes the calls made on it) and the accelerated calls counted meanwhile."""

    def __init__(self, filename: str, counters: Callable[[], Counters] = device_counters) -> None:
        self.filename = filename
        self.counters = counters
        self.lines: dict[int, LineStats] = {}
        # frame -> (line being run, when it started, the counters then)
        self._open: dict[int, tuple[int, float, Counters]] = {}

    def start(self) -> None:
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self) -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type,unused-ignore]

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != self.filename:
            return None  # no per-line tracing outside the user's file
        return self._local

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event not in ("line", "return"):
            return self._local
        now, totals = time.perf_counter(), self.counters()
        key = id(frame)
        started = self._open.pop(key, None)
        if started is not None:
            line, then, before = started
            stats = self.lines.setdefault(line, LineStats())
            stats.hits += 1
            stats.seconds += now - then
            stats.gpu_calls += totals[0] - before[0]
            stats.cpu_calls += totals[1] - before[1]
            stats.gpu_seconds += totals[2] - before[2]
            stats.cpu_seconds += totals[3] - before[3]
        if event == "line":
            self._open[key] = (frame.f_lineno, time.perf_counter(), totals)
        return self._local

    def table(self, width: int = 100) -> str:
        """The per-line table, lines in file order, each row cut to ``width`` characters."""
        header = f"{'line':>5}  {'time s':>8}  {'hits':>5}  {'GPU':>5}  {'CPU':>5}  {'GPU s':>7}  {'CPU s':>7}  source"
        out = [
            f"accel line profile: {self.filename}",
            "(time includes the calls made on the line; GPU/CPU: accelerated calls accel counted)",
            header,
            "-" * min(width, len(header) + 30),
        ]
        for line in sorted(self.lines):
            s = self.lines[line]
            text = linecache.getline(self.filename, line)
            row = (
                f"{line:>5}  {s.seconds:>8.3f}  {s.hits:>5}  {s.gpu_calls:>5}  {s.cpu_calls:>5}  "
                f"{s.gpu_seconds:>7.3f}  {s.cpu_seconds:>7.3f}  {text.strip()}"
            )
            out.append(row if len(row) <= width else row[: width - 1] + "…")
        return "\n".join(out)
