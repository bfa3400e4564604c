"""The behavioural suite: every scenario in ``scenarios.py`` gives plain NumPy's answer under accel.

Each mode runs the scenarios once in a plain interpreter and once under accel (separate
processes: the import hook touches ``builtins``), then compares result by result: same kind
(NumPy scalar type vs array), same dtype, same shape, same values (floats within 1e-9
relative, for reduction order).
"""

from __future__ import annotations

import ast
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
SCRIPT = HERE / "scenarios.py"
SCENARIOS = [
    node.name
    for node in ast.parse(SCRIPT.read_text()).body
    if isinstance(node, ast.FunctionDef)
    and any(isinstance(d, ast.Name) and d.id == "scenario" for d in node.decorator_list)
]
# The fallbacks each scenario makes, by design: a dtype no device holds, and a ufunc method
# CuPy does not have (the stand-in refuses what CuPy refuses, so this holds on a GPU too).
# Every other scenario must run with no fallback at all.
EXPECTED_FALLBACKS = {
    "host_only_dtypes": {"ndarray.astype"},
    "reductions": {"maximum.accumulate"},
}

MODES = {
    # every array on the stand-in device: exercises the whole proxy and transfer layer
    "simulated-all-device": {"ACCEL_DEVICE": "simulated", "ACCEL_MIN_GPU_ELEMENTS": "0"},
    # the default policy: these small arrays stay on NumPy
    "simulated-default": {"ACCEL_DEVICE": "simulated"},
    "gpu-all-device": {"ACCEL_DEVICE": "gpu", "ACCEL_MIN_GPU_ELEMENTS": "0"},
}


def _run(tmp: Path, name: str, env_extra: dict[str, str] | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.update(env_extra or {})
    out = tmp / f"{name}.pkl"
    args = [sys.executable, str(SCRIPT), str(out), *(["--accel"] if env_extra else [])]
    proc = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr
    with out.open("rb") as fh:
        return pickle.load(fh)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Lazily computed runs, one per mode (plus the plain one), shared by the module."""
    return {}


def _get(runs: dict[str, dict[str, Any]], tmp: Path, mode: str) -> dict[str, Any]:
    if mode not in runs:
        runs[mode] = _run(tmp, mode, None if mode == "plain" else MODES[mode])
    return runs[mode]


def _differences(plain: Any, accel: Any, path: str = "") -> list[str]:
    if type(plain) is not type(accel):
        return [f"{path}: {plain!r:.200} != {accel!r:.200}"]
    if isinstance(plain, tuple | list):
        if len(plain) != len(accel):
            return [f"{path}: {plain!r:.200} != {accel!r:.200}"]
        found: list[str] = []
        for index, (left, right) in enumerate(zip(plain, accel, strict=True)):
            found += _differences(left, right, f"{path}[{index}]")
        return found
    if isinstance(plain, float):
        if plain == accel or (math.isnan(plain) and math.isnan(accel)):
            return []
        return (
            []
            if math.isclose(plain, accel, rel_tol=1e-9, abs_tol=1e-12)
            else [f"{path}: {plain!r} != {accel!r}"]
        )
    if isinstance(plain, complex):
        return _differences([plain.real, plain.imag], [accel.real, accel.imag], path)
    return [] if plain == accel else [f"{path}: {plain!r:.200} != {accel!r:.200}"]


def _check(runs: dict[str, dict[str, Any]], tmp: Path, mode: str, name: str) -> dict[str, Any]:
    """Compare one scenario with plain NumPy; return that scenario's own accel report."""
    plain = _get(runs, tmp, "plain")
    accel = _get(runs, tmp, mode)
    assert accel["numpy"] == "AcceleratedModule", "user code did not get accel's numpy"
    assert not _differences(plain["results"][name], accel["results"][name]), "\n".join(
        _differences(plain["results"][name], accel["results"][name])
    )
    return accel["reports"][name]  # type: ignore[no-any-return]


def _fallbacks(report: dict[str, Any]) -> dict[str, Any]:
    """The NumPy layer's fallbacks (where RAPIDS is installed, pandas has its own layer)."""
    return {
        c["call"]: c["fallback_reasons"]
        for c in report["calls"]
        if c["cpu_calls"] and c["library"] == "numpy"
    }


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("mode", ["simulated-all-device", "simulated-default"])
def test_scenario_matches_plain_numpy(
    runs: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory, mode: str, name: str
) -> None:
    tmp = tmp_path_factory.getbasetemp()
    report = _check(runs, tmp, mode, name)
    calls = report["calls"]
    if mode == "simulated-all-device":
        # The layer really ran: the scenario's calls went through the stand-in device.
        assert sum(c["gpu_calls"] for c in calls) > 0
        assert set(_fallbacks(report)) == EXPECTED_FALLBACKS.get(name, set()), _fallbacks(report)
    else:
        # Below the threshold nothing is placed on the device.
        assert not any(c["call"] in {"sin", "add", "matmul"} for c in calls)


def test_all_device_mode_falls_back_only_where_cupy_cannot(
    runs: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    accel = _get(runs, tmp_path_factory.getbasetemp(), "simulated-all-device")
    reports = accel["reports"]
    assert sum(c["gpu_calls"] for r in reports.values() for c in r["calls"]) > 300
    assert _fallbacks(reports["host_only_dtypes"]) == {
        "ndarray.astype": {"TypeError: Unsupported dtype <U21": 1}
    }
    assert _fallbacks(reports["reductions"]) == {
        "maximum.accumulate": {
            "NotImplementedError: `cupy_maximum.accumulate` is not supported yet": 1
        }
    }


@pytest.mark.gpu
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_on_real_cupy(
    runs: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    report = _check(runs, tmp_path_factory.getbasetemp(), "gpu-all-device", name)
    libraries = report["libraries"]
    assert libraries["numpy"]["device"] == "gpu", libraries["numpy"]
    assert set(_fallbacks(report)) == EXPECTED_FALLBACKS.get(name, set()), _fallbacks(report)
