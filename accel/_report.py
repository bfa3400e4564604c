"""What ran where, as one table across libraries: calls on the device, fallbacks with reasons,
time and bytes moved (the values :data:`accel.core.ledger` hands out, and how they print)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from accel._device import Device
from accel._errors import AccelFallbackError

__all__ = ["AccelFallbackError", "CallStats", "LibraryStatus", "Report"]


@dataclass(frozen=True, slots=True)
class LibraryStatus:
    """How one library is served in this process (``device`` is a :class:`Device`)."""

    library: str
    device: Device
    engine: str
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "device", Device(self.device))


@dataclass(slots=True)
class CallStats:
    """Counters for one (library, call) pair. ``gpu_*`` counts calls on the device (the GPU or
    its simulated stand-in); every fallback is also a CPU call, with its reason and kind."""

    gpu_calls: int = 0
    cpu_calls: int = 0
    gpu_seconds: float = 0.0
    cpu_seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    bytes_to_device: int = 0
    bytes_to_host: int = 0
    fallbacks: int = 0
    #: fallback kind ("unsupported", "out_of_memory") -> count
    kinds: Counter[str] = field(default_factory=Counter)
    #: the engine the calls ran on, where the recorder said ("polars-cpu", "cuVS")
    engine: str = ""

    @property
    def seconds(self) -> float:
        return self.gpu_seconds + self.cpu_seconds

    @property
    def bytes_moved(self) -> int:
        return self.bytes_to_device + self.bytes_to_host

    def copy(self) -> CallStats:
        return CallStats(
            self.gpu_calls,
            self.cpu_calls,
            self.gpu_seconds,
            self.cpu_seconds,
            Counter(self.reasons),
            self.bytes_to_device,
            self.bytes_to_host,
            self.fallbacks,
            Counter(self.kinds),
            self.engine,
        )

    def minus(self, before: CallStats) -> CallStats:
        """What was counted after ``before`` (an earlier copy of these counters)."""
        return CallStats(
            self.gpu_calls - before.gpu_calls,
            self.cpu_calls - before.cpu_calls,
            self.gpu_seconds - before.gpu_seconds,
            self.cpu_seconds - before.cpu_seconds,
            self.reasons - before.reasons,
            self.bytes_to_device - before.bytes_to_device,
            self.bytes_to_host - before.bytes_to_host,
            self.fallbacks - before.fallbacks,
            self.kinds - before.kinds,
            self.engine,
        )


_HEADER = ("library", "call", "GPU", "CPU", "time", "moved", "engine", "CPU fallback reasons")
_BY_LIBRARY = ("library", "GPU", "CPU", "fallbacks", "time", "moved")


@dataclass(frozen=True, slots=True)
class Report:
    """A snapshot of what ran where. ``str()`` is a table (calls sorted by time, with totals);
    Jupyter shows it as HTML; :meth:`to_dict` / :meth:`to_json` for tools."""

    libraries: dict[str, LibraryStatus]
    calls: dict[tuple[str, str], CallStats]

    @property
    def fallbacks(self) -> int:
        """Number of calls that left the device they were meant for (on any library)."""
        return sum(s.fallbacks for s in self.calls.values())

    def since(self, before: Report) -> Report:
        """Only what was counted after ``before`` (``%%accel.profile`` shows one cell's calls)."""
        calls = {}
        for key, now in self.calls.items():
            then = before.calls.get(key)
            delta = now if then is None else now.minus(then)
            if delta.gpu_calls or delta.cpu_calls:
                calls[key] = delta
        return Report(self.libraries, calls)

    def _engine(self, library: str, stats: CallStats) -> str:
        if stats.engine:
            return stats.engine
        status = self.libraries.get(library)
        return status.engine if status is not None else "-"

    def _by_time(self) -> list[tuple[tuple[str, str], CallStats]]:
        return sorted(self.calls.items(), key=lambda item: (-item[1].seconds, item[0]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "libraries": {
                name: {"device": st.device.value, "engine": st.engine, "reason": st.reason}
                for name, st in sorted(self.libraries.items())
            },
            "calls": [
                {
                    "library": library,
                    "call": call,
                    "engine": self._engine(library, s),
                    "gpu_calls": s.gpu_calls,
                    "cpu_calls": s.cpu_calls,
                    "fallbacks": s.fallbacks,
                    "gpu_seconds": round(s.gpu_seconds, 6),
                    "cpu_seconds": round(s.cpu_seconds, 6),
                    "fallback_reasons": dict(s.reasons),
                    "fallback_kinds": dict(s.kinds),
                    "bytes_to_device": s.bytes_to_device,
                    "bytes_to_host": s.bytes_to_host,
                }
                for (library, call), s in sorted(self.calls.items())
            ],
        }

    def to_json(self, **kwargs: Any) -> str:
        import json

        return json.dumps(self.to_dict(), **kwargs)

    def rows(self) -> list[tuple[str, ...]]:
        """Table rows, slowest call first: library, call, GPU calls, CPU calls, time, bytes
        moved, engine, fallback reasons."""
        out: list[tuple[str, ...]] = []
        for (library, call), s in self._by_time():
            reasons = "; ".join(f"{r} (x{n})" for r, n in s.reasons.most_common(3))
            out.append(
                (
                    library,
                    call,
                    str(s.gpu_calls),
                    str(s.cpu_calls),
                    _ms(s.seconds),
                    _human_bytes(s.bytes_moved) if s.bytes_moved else "-",
                    self._engine(library, s),
                    reasons or "-",
                )
            )
        return out

    def totals(self) -> tuple[str, ...]:
        """The table's last row: every call counted, all libraries together."""
        calls = self.calls.values()
        moved = sum(s.bytes_moved for s in calls)
        return (
            "total",
            f"{len(self.calls)} calls",
            str(sum(s.gpu_calls for s in calls)),
            str(sum(s.cpu_calls for s in calls)),
            _ms(sum(s.seconds for s in calls)),
            _human_bytes(moved) if moved else "-",
            "",
            f"{self.fallbacks} fallbacks",
        )

    def library_rows(self) -> list[tuple[str, ...]]:
        """One row per library that made calls: GPU, CPU, fallbacks, time, bytes moved."""
        # library -> [GPU calls, CPU calls, fallbacks, seconds, bytes moved]
        totals: dict[str, list[float]] = {}
        for (library, _), s in self.calls.items():
            row = totals.setdefault(library, [0, 0, 0, 0.0, 0])
            for i, value in enumerate(
                (s.gpu_calls, s.cpu_calls, s.fallbacks, s.seconds, s.bytes_moved)
            ):
                row[i] += value
        ordered = sorted(totals.items(), key=lambda item: (-item[1][3], item[0]))
        return [
            (
                library,
                str(int(gpu)),
                str(int(cpu)),
                str(int(fallbacks)),
                _ms(seconds),
                _human_bytes(int(moved)) if moved else "-",
            )
            for library, (gpu, cpu, fallbacks, seconds, moved) in ordered
        ]

    def _status_lines(self) -> list[str]:
        return [
            f"  {name:<13} {st.device.upper():<4} via {st.engine}: {st.reason}"
            for name, st in sorted(self.libraries.items())
        ]

    def __str__(self) -> str:
        lines = ["accel report"]
        if not self.libraries and not self.calls:
            lines.append(
                "  accel is not installed in this process (accel.install() / import accel.auto)"
            )
        lines.extend(self._status_lines())
        if self.calls:
            lines.append("")
            lines.extend(_format_table(_BY_LIBRARY, self.library_rows()))
            lines.append("")
            lines.extend(_format_table(_HEADER, [*self.rows(), self.totals()]))
        elif self.libraries:
            lines.append("  no accelerated calls were counted")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text("accel report (...)" if cycle else str(self))

    def _repr_html_(self) -> str:
        parts = ["<div class='accel-report'><strong>accel report</strong>"]
        if self.libraries:
            parts.append(
                _html_table(
                    ("library", "device", "engine", "why"),
                    [
                        (n, st.device.upper(), st.engine, st.reason)
                        for n, st in sorted(self.libraries.items())
                    ],
                )
            )
        if self.calls:
            parts.append(_html_table(_BY_LIBRARY, self.library_rows()))
            parts.append(_html_table(_HEADER, self.rows(), footer=self.totals()))
        else:
            parts.append("<p>no accelerated calls were counted</p>")
        parts.append("</div>")
        return "".join(parts)

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        libs = Table(title="accel: libraries", show_lines=False)
        for col in ("library", "device", "engine", "why"):
            libs.add_column(col)
        for name, st in sorted(self.libraries.items()):
            libs.add_row(name, st.device.upper(), st.engine, st.reason)
        calls = Table(title="accel: calls (slowest first)", show_footer=True)
        for col, total in zip(_HEADER, self.totals(), strict=True):
            calls.add_column(
                col, footer=total, justify="right" if col in {"GPU", "CPU", "time"} else "left"
            )
        for row in self.rows():
            calls.add_row(*row)
        parts: list[Any] = [libs] if self.libraries else [Text(str(self))]
        if self.calls:
            parts.append(calls)
        elif self.libraries:
            parts.append(Text("no accelerated calls were counted"))
        return Group(*parts)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


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
        fmt.format(*r).rstrip() for r in rows
    ]


def _html_table(
    header: tuple[str, ...], rows: list[tuple[str, ...]], footer: tuple[str, ...] | None = None
) -> str:
    import html

    def cells(tag: str, row: tuple[str, ...]) -> str:
        return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in row) + "</tr>"

    body = "".join(cells("td", r) for r in rows)
    foot = f"<tfoot>{cells('th', footer)}</tfoot>" if footer else ""
    return f"<table><thead>{cells('th', header)}</thead><tbody>{body}</tbody>{foot}</table>"
