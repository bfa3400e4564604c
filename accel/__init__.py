"""accel: unchanged pandas and scikit-learn code on the GPU, and a free pass-through without one.

``import accel`` imports no GPU library and costs a few milliseconds; the work starts at
:func:`install` (or ``import accel.auto``, ``python -m accel script.py``, ``%load_ext accel``,
``pytest -p accel``).
"""

from __future__ import annotations

from typing import Any

from accel._device import Device, GPUUnavailableError, Resolution, resolve
from accel._errors import AccelFallbackError, AccelInstallError, FallbackError
from accel._fallbacks import ledger as _ledger
from accel._install import install, is_installed, uninstall
from accel._report import Report

__all__ = [
    "AccelFallbackError",
    "AccelInstallError",
    "Device",
    "FallbackError",
    "GPUUnavailableError",
    "Report",
    "Resolution",
    "install",
    "is_installed",
    "load_ipython_extension",
    "report",
    "reset_report",
    "resolve",
    "uninstall",
]

__version__ = "0.1.0"


def report() -> Report:
    """What ran where so far in this process, for pandas, NumPy, scikit-learn, vector and Spark
    side by side: calls on the device, fallbacks with reasons, time, and bytes moved.

    ``print(accel.report())`` shows a table (slowest call first, with totals); a Jupyter cell
    ending in it shows HTML; ``.to_dict()`` / ``.to_json()`` for tools.
    """
    return _ledger.snapshot()


def reset_report() -> None:
    """Forget the calls counted so far (which library runs where is kept)."""
    _ledger.reset()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext accel``: install, and add the ``%%accel.profile`` cell magic."""
    from accel._magics import load

    load(ipython)


# ``pytest -p accel``: pytest registers this module as a plugin; these are its hooks.
def pytest_addoption(parser: Any) -> None:
    from accel._pytest_plugin import addoption

    addoption(parser)


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: list[str]) -> None:
    # Runs before any conftest.py is imported, so pandas is not loaded yet.
    install()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    from accel._pytest_plugin import terminal_summary

    terminal_summary(terminalreporter, config)
