"""``pytest -p accel``: run any test suite with accel installed, and show the report at the end."""

from __future__ import annotations

from typing import Any


def addoption(parser: Any) -> None:
    group = parser.getgroup("accel", "GPU acceleration (accel)")
    group.addoption(
        "--accel-report",
        action="store_true",
        default=False,
        help="print accel's report (what ran on the GPU, what fell back and why) at the end",
    )


def terminal_summary(terminalreporter: Any, config: Any) -> None:
    import accel

    status = accel.report()
    if config.getoption("accel_report"):
        terminalreporter.write_sep("=", "accel report")
        terminalreporter.write_line(str(status))
    else:
        devices = ", ".join(f"{n}: {s.device}" for n, s in sorted(status.libraries.items()))
        terminalreporter.write_line(
            f"accel: {devices or 'not installed'} (--accel-report for details)"
        )
