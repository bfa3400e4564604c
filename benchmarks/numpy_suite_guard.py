"""pytest plugin for ``numpy_suite.py``: a per-test time limit, and the running test's name on disk."""

from __future__ import annotations

import os
import signal
from collections.abc import Generator
from typing import Any

import pytest

TIMEOUT_ENV = "NUMPY_SUITE_TEST_TIMEOUT"
CURRENT_ENV = "NUMPY_SUITE_CURRENT_TEST"  # a file: the runner deselects the test a kill cut short


class PerTestTimeout(BaseException):
    """Raised in the test by SIGALRM; a BaseException so a test's own ``except Exception``
    cannot swallow it."""


def _alarm(signum: int, frame: Any) -> None:
    raise PerTestTimeout(
        f"test ran past {os.environ.get(TIMEOUT_ENV)} s (numpy_suite per-test limit)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Generator[None, None, None]:
    seconds = int(os.environ.get(TIMEOUT_ENV, "0") or 0)
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    path = os.environ.get(CURRENT_ENV)
    if path:
        with open(path, "w") as handle:
            handle.write(nodeid)
