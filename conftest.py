"""The ``gpu`` marker for tests and benchmarks alike: skipped without a usable GPU, and a
failure instead under ``--require-gpu`` (on the lent machine a broken set-up must not pass)."""

from __future__ import annotations

import pytest

from accel import _device


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-gpu",
        action="store_true",
        default=False,
        help="fail, instead of skip, every gpu-marked test when no usable GPU is found",
    )


def _gpu_reason() -> str:
    probe = _device.probe_gpu()
    return "" if probe.available else probe.reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _gpu_reason()
    if not reason:
        return
    if config.getoption("--require-gpu"):
        # Failing at collection end makes a broken GPU set-up impossible to miss.
        fail = pytest.mark.usefixtures("_require_gpu_failure")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(fail)
        return
    skip = pytest.mark.skip(reason=f"no GPU: {reason}")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)


@pytest.fixture
def _require_gpu_failure() -> None:
    pytest.fail(f"--require-gpu was given but no GPU can be used: {_gpu_reason()}")
