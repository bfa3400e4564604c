"""The device resolver: explicit argument > ACCEL_DEVICE > autodetect; auto never raises."""

from __future__ import annotations

import pytest

from accel import _config, _device
from accel._device import Device, GPUUnavailableError


def _no_gpu(monkeypatch: pytest.MonkeyPatch, reason: str = "no NVIDIA driver found") -> None:
    monkeypatch.setattr(_device, "probe_gpu", lambda: _device.GPUProbe(False, reason=reason))


def _fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        _device, "probe_gpu", lambda: _device.GPUProbe(True, 1, ("Fake H100",), "13.0")
    )


def test_probe_never_raises_and_explains_itself() -> None:
    probe = _device.probe_gpu()
    assert isinstance(probe.available, bool)
    if probe.available:
        assert probe.count >= 1
        assert len(probe.names) == probe.count
    else:
        assert probe.reason


def test_auto_without_gpu_is_cpu_with_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch, "no NVIDIA driver found (libcuda is not installed)")
    res = _device.resolve()
    assert res.device is Device.CPU
    assert res.requested == "auto"
    assert res.source == "default"
    assert "libcuda" in res.reason


def test_auto_with_gpu_but_missing_library_is_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    res = _device.resolve("auto", needs=("surely_not_a_module_xyz",))
    assert res.device is Device.CPU
    assert "surely_not_a_module_xyz not installed" in res.reason


def test_auto_with_gpu_and_libraries_is_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    res = _device.resolve(needs=("json",))
    assert res.device is Device.GPU
    assert res.on_gpu
    assert "Fake H100" in res.reason


def test_explicit_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    monkeypatch.setenv("ACCEL_DEVICE", "gpu")
    res = _device.resolve("cpu")
    assert res.device is Device.CPU
    assert res.source == "argument"


def test_environment_beats_autodetect(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    monkeypatch.setenv("ACCEL_DEVICE", "cpu")
    res = _device.resolve(needs=("json",))
    assert res.device is Device.CPU
    assert res.source == "ACCEL_DEVICE"


def test_explicit_gpu_without_gpu_raises_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_gpu(monkeypatch, "no NVIDIA driver found")
    with pytest.raises(GPUUnavailableError, match=r"device='gpu' was asked for.*no NVIDIA driver"):
        _device.resolve("gpu")
    monkeypatch.setenv("ACCEL_DEVICE", "GPU ")
    with pytest.raises(GPUUnavailableError, match=r"ACCEL_DEVICE=gpu was asked for"):
        _device.resolve()


def test_explicit_gpu_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    monkeypatch.setattr(_device, "has_module", lambda name: name != "cudf")
    hint = r"cuDF not installed: pip install -e '\.\[cu12\]' in a checkout"
    with pytest.raises(GPUUnavailableError, match=hint):
        _device.resolve(Device.GPU, needs=("cudf",))


def test_simulated_is_its_own_device() -> None:
    assert _device.resolve("simulated").device is Device.SIMULATED


def test_bad_argument_raises_value_error() -> None:
    with pytest.raises(ValueError, match="is not one of auto, cpu, gpu, simulated"):
        _device.resolve("tpu")


def test_unknown_env_value_warns_once_and_runs_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_gpu(monkeypatch)
    monkeypatch.setenv("ACCEL_DEVICE", "gpuu")
    with pytest.warns(_config.ConfigWarning, match="ACCEL_DEVICE='gpuu' is not one of"):
        first = _device.resolve()
    assert first.device is Device.CPU
    # Cached: the same environment is parsed (and warned about) once.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _device.resolve().device is Device.CPU


def test_resolution_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def probe() -> _device.GPUProbe:
        calls.append(1)
        return _device.GPUProbe(False, reason="none")

    monkeypatch.setattr(_device, "probe_gpu", probe)
    for _ in range(5):
        _device.resolve()
    assert len(calls) == 1


def test_config_parses_every_variable() -> None:
    cfg = _config.load(
        {
            "ACCEL_DEVICE": "Simulated",
            "ACCEL_STRICT": "yes",
            "ACCEL_QUIET": "1",
            "ACCEL_RMM_MODE": "async",
            "ACCEL_MIN_GPU_ELEMENTS": "1_000",
        }
    )
    assert cfg == _config.Config("simulated", True, True, "async", 1000)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCEL_STRICT", "maybe", "not a yes/no value"),
        ("ACCEL_RMM_MODE", "huge", "not one of pool"),
        ("ACCEL_MIN_GPU_ELEMENTS", "-5", "not a non-negative integer"),
    ],
)
def test_config_bad_values_warn_and_default(name: str, value: str, message: str) -> None:
    with pytest.warns(_config.ConfigWarning, match=message):
        cfg = _config.load({name: value})
    assert cfg == _config.Config()
    assert len(cfg.problems) == 1


# --- accel.core: the Device predicates, the stack table, configuration parsed once ----------


def test_resolve_gives_the_device_asked_for(device: Device) -> None:
    # gpu-marked for Device.GPU: runs (and must resolve to the GPU) only where there is one.
    res = _device.resolve(device)
    assert res.device is device
    assert res.device.on_device() is not device.is_cpu()
    assert [device.is_cpu(), device.is_gpu(), device.is_simulated()].count(True) == 1


def test_device_names_still_compare_equal() -> None:
    # Code still holding names ("gpu") keeps working while it moves to the predicates.
    assert Device.GPU == "gpu"
    assert Device("simulated") is Device.SIMULATED
    assert Device.SIMULATED.on_device()
    assert not Device.CPU.on_device()


def test_resolve_stack_reads_the_one_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from accel import _stacks

    _fake_gpu(monkeypatch)
    monkeypatch.setattr(_device, "has_module", lambda name: name != "cupy")
    # vector's GPU path needs cuVS and CuPy: with CuPy missing it is the CPU, and says why
    vector = _device.resolve_stack("vector")
    assert vector.device is Device.CPU
    assert "CuPy not installed" in vector.reason
    assert vector.engine("vector") == "faiss-cpu"
    assert _device.resolve_stack("pandas").device is Device.GPU
    assert _device.resolve_stack("pandas").engine("pandas") == "cudf.pandas"
    assert set(_stacks.STACKS) == {"pandas", "numpy", "sklearn", "vector", "spark"}
    with pytest.raises(ValueError, match="is not one of pandas"):
        _device.resolve_stack("polars")


def test_simulated_engines_come_from_the_table() -> None:
    simulated = _device.resolve("simulated")
    assert simulated.engine("spark") == "polars-cpu"  # cudf-polars has no host stand-in
    assert simulated.engine("pandas") == "cudf.pandas"


def test_configuration_is_parsed_once_until_reloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from accel import core

    before = core.config()
    assert not before.strict
    # os.environ changed behind accel's back (not through monkeypatch.setenv, which the test
    # conftest turns into a fresh "process"): the snapshot stays what it was
    monkeypatch.setitem(__import__("os").environ, "ACCEL_STRICT", "1")
    assert core.config() is before
    assert not core.ledger.is_strict("vector")
    assert core.reload_config().strict
    assert core.ledger.is_strict("vector")
    assert core.config().strict


def test_doctor_says_vector_needs_cupy_too() -> None:
    from accel import _doctor

    found = dict.fromkeys(_doctor._STACK, "1.0")
    found["cupy"] = None
    lines = _doctor._meaning(True, found, "openjdk 17")
    vector = next(line for line in lines if line.startswith("vector"))
    # it said "GPU: cuVS" here, though vector's GPU path imports CuPy too
    assert vector == "vector        CPU: faiss-cpu (the GPU path needs cupy)"
    numpy = next(line for line in lines if line.startswith("numpy"))
    assert numpy == "numpy         CPU: install CuPy for the GPU"
    found["cupy"] = "13.0"
    assert "vector        GPU: cuVS" in _doctor._meaning(True, found, "openjdk 17")
