"""IPython integration: ``%load_ext accel`` and the ``%%accel.profile`` cell magic."""

from __future__ import annotations

from typing import Any

from accel._install import install
from accel._report import RECORDER, Report


def _difference(after: Report, before: Report) -> Report:
    from dataclasses import replace

    calls = {}
    for key, now in after.calls.items():
        then = before.calls.get(key)
        if then is None:
            calls[key] = now
            continue
        delta = replace(
            now,
            gpu_calls=now.gpu_calls - then.gpu_calls,
            cpu_calls=now.cpu_calls - then.cpu_calls,
            gpu_seconds=now.gpu_seconds - then.gpu_seconds,
            cpu_seconds=now.cpu_seconds - then.cpu_seconds,
            reasons=now.reasons - then.reasons,
            bytes_to_device=now.bytes_to_device - then.bytes_to_device,
            bytes_to_host=now.bytes_to_host - then.bytes_to_host,
        )
        if delta.gpu_calls or delta.cpu_calls:
            calls[key] = delta
    return Report(after.libraries, calls)


def profile_cell(ipython: Any, cell: str) -> Report:
    """Run ``cell`` and return the report of the calls it made (and nothing earlier)."""
    before = RECORDER.snapshot()
    ipython.run_cell(cell)
    return _difference(RECORDER.snapshot(), before)


def load(ipython: Any) -> None:
    install()

    def accel_profile(line: str, cell: str) -> None:
        cell_report = profile_cell(ipython, cell)
        try:
            from rich.console import Console

            Console().print(cell_report)
        except ImportError:
            print(cell_report)

    ipython.register_magic_function(accel_profile, magic_kind="cell", magic_name="accel.profile")
