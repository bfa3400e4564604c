"""``pytest -p accel -p accel._numpy._pytest``: the tests named on the command line count as
user code for the NumPy layer, even when they ship inside a wheel (NumPy's own suite)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any


def _location(arg: str) -> str | None:
    target = arg.split("::", 1)[0]
    if os.path.exists(target):
        return target if os.path.isdir(target) else os.path.dirname(target)
    try:  # --pyargs numpy._core.tests.test_umath
        spec = importlib.util.find_spec(target)
    except (ImportError, ValueError):
        return None
    return os.path.dirname(spec.origin) if spec is not None and spec.origin else None


def pytest_configure(config: Any) -> None:
    from accel._numpy import _hook
    from accel._numpy._state import STATE

    if not STATE.active:
        return
    for arg in config.args:
        location = _location(str(arg))
        if location:
            _hook.treat_as_user_code(location)
