"""Shared test setup: the ``backend`` fixture, a fresh resolver per test, ``run_python``.

(``--require-gpu`` and the ``gpu`` marker's skip live in the root ``conftest.py``, which
``benchmarks/`` shares.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accel import _device

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["cpu", pytest.param("gpu", marks=pytest.mark.gpu)])
def backend(request: pytest.FixtureRequest) -> str:
    """The device a test runs on: every test taking it runs once per backend."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _fresh_resolver(monkeypatch: pytest.MonkeyPatch):
    """Each test sees the environment it sets, not a cached answer from an earlier test."""
    for name in list(os.environ):
        if name.startswith("ACCEL_"):
            monkeypatch.delenv(name)
    _device.clear_caches()
    yield
    _device.clear_caches()


def _run_python(
    code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=str(REPO_ROOT),
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def run_python():
    """Run ``python -c code [args]`` (or ``python args`` when code is empty) in a fresh
    interpreter rooted at the repository, with no ACCEL_* variables unless ``env`` sets them.
    Tests that touch ``sys.modules`` or import hooks go through this."""
    return _run_python
