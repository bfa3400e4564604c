"""Shared test setup: the ``device`` fixture, a fresh resolver per test, ``run_python``.

(``--require-gpu`` and the ``gpu`` marker's skip live in the root ``conftest.py``, which
``benchmarks/`` shares.)"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accel import _config, _device
from accel._device import Device

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(
    params=[Device.CPU, Device.SIMULATED, pytest.param(Device.GPU, marks=pytest.mark.gpu)],
    ids=str,
)
def device(request: pytest.FixtureRequest) -> Device:
    """Where the code under test runs: the CPU path, the GPU path on the host stand-in, or the
    GPU path on the GPU (gpu-marked: skipped without one, a failure under --require-gpu)."""
    return Device(request.param)


@pytest.fixture(autouse=True)
def _fresh_resolver(monkeypatch: pytest.MonkeyPatch):
    """Each test sees the environment it sets, not a cached answer from an earlier test.

    accel parses ACCEL_* once per process; a test stands for a fresh process, so an ACCEL_*
    variable set or removed through ``monkeypatch`` during the test is read again."""
    for name in list(os.environ):
        if name.startswith("ACCEL_"):
            monkeypatch.delenv(name)
    _device.clear_caches()
    setenv, delenv = monkeypatch.setenv, monkeypatch.delenv

    def set_and_forget(name: str, value: str, prepend: str | None = None) -> None:
        setenv(name, value, prepend)
        if name.startswith("ACCEL_"):
            _config.invalidate()

    def del_and_forget(name: str, raising: bool = True) -> None:
        delenv(name, raising)
        if name.startswith("ACCEL_"):
            _config.invalidate()

    monkeypatch.setenv = set_and_forget  # type: ignore[method-assign]
    monkeypatch.delenv = del_and_forget  # type: ignore[method-assign]
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


@pytest.fixture
def gpu_import(request: pytest.FixtureRequest):
    """``gpu_import("cuml")``: the module, or a skip; under ``--require-gpu`` a failure, since
    on the GPU machine a missing GPU library is a broken set-up, not a reason to skip."""

    def load(name: str) -> object:
        if request.config.getoption("--require-gpu"):
            try:
                return importlib.import_module(name)
            except ImportError as exc:
                pytest.fail(f"--require-gpu was given but {name} cannot be imported: {exc}")
        return pytest.importorskip(name)

    return load
