"""IPython integration: ``%load_ext accel`` and the ``%%accel.profile`` cell magic."""

from __future__ import annotations

from typing import Any

import accel
from accel._report import Report


def _difference(after: Report, before: Report) -> Report:
    return after.since(before)


def profile_cell(ipython: Any, cell: str) -> tuple[Report, BaseException | None]:
    """Run ``cell``; return the report of the calls it made (and nothing earlier) and the error
    it raised, if any (IPython has already shown its traceback)."""
    before = accel.report()
    result = ipython.run_cell(cell)
    error = result.error_before_exec or result.error_in_exec
    return _difference(accel.report(), before), error


def load(ipython: Any) -> None:
    accel.install()

    def accel_profile(line: str, cell: str) -> None:
        __tracebackhide__ = True  # IPython: do not show this frame
        cell_report, error = profile_cell(ipython, cell)
        try:
            from rich.console import Console

            Console().print(cell_report)
        except ImportError:
            print(cell_report)
        if error is not None:
            # The cell failed, so the cell running the magic fails too: a notebook run by
            # nbclient/papermill stops here instead of passing. The traceback is above.
            raise error.with_traceback(None)

    ipython.register_magic_function(accel_profile, magic_kind="cell", magic_name="accel.profile")
