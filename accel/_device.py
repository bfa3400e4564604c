"""The one place that decides GPU or CPU for accel, spark_plugin and vector (cached, never raises on auto)."""

from __future__ import annotations

import ctypes
import enum
import functools
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from accel import _config, _stacks
from accel._errors import GPUUnavailableError

__all__ = [
    "Device",
    "GPUProbe",
    "GPUUnavailableError",
    "Resolution",
    "has_module",
    "probe_gpu",
    "resolve",
    "resolve_stack",
]


def install_hint(extras: str) -> str:
    """How to add ``extras`` ("cu12", "spark"): no package index serves accel-ds yet (README)."""
    return f"pip install -e '.[{extras}]' in a checkout (or 'path/to/accel_ds-*.whl[{extras}]')"


# pip package to suggest when a GPU module is missing; the [cu12] extra installs all of them.
_INSTALL_HINT = {
    "cudf": "cuDF",
    "cudf_polars": "cudf-polars",
    "cupy": "CuPy",
    "cuml": "cuML",
    "cuvs": "cuVS",
    "rmm": "RMM",
}


class Device(enum.StrEnum):
    """Where work runs. SIMULATED runs the GPU code paths on a host-memory stand-in.

    Ask with the predicates (``device.on_device()``), not by comparing names. It is a ``str``
    enum so that ``Device.GPU == "gpu"`` and JSON keep working for code that still holds names.
    """

    CPU = "cpu"
    GPU = "gpu"
    SIMULATED = "simulated"

    def is_cpu(self) -> bool:
        return self is Device.CPU

    def is_gpu(self) -> bool:
        return self is Device.GPU

    def is_simulated(self) -> bool:
        return self is Device.SIMULATED

    def on_device(self) -> bool:
        """Whether the GPU code path runs (on the GPU, or on the simulated stand-in)."""
        return self is not Device.CPU


@dataclass(frozen=True, slots=True)
class GPUProbe:
    """What the CUDA driver reported, read without importing any GPU library."""

    available: bool
    count: int = 0
    names: tuple[str, ...] = ()
    driver_cuda_version: str | None = None
    #: Why no GPU can be used ("" when one can).
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Resolution:
    """The resolver's answer: the device, what was asked for, where the ask came from, and why."""

    device: Device
    requested: str
    source: str
    reason: str

    @property
    def on_gpu(self) -> bool:
        return self.device is Device.GPU

    def engine(self, stack: str) -> str:
        """The engine ``stack`` runs on under this resolution (``"cudf.pandas"``, ``"faiss-cpu"``)."""
        entry = _stacks.stack(stack)
        if self.device.is_gpu():
            return entry.gpu_engine
        return entry.simulated_engine if self.device.is_simulated() else entry.cpu_engine


def _driver_library_names() -> tuple[str, ...]:
    if sys.platform.startswith("win"):
        return ("nvcuda.dll",)
    if sys.platform == "darwin":
        return ()
    return ("libcuda.so.1", "libcuda.so")


def _cuda_error(lib: ctypes.CDLL, code: int) -> str:
    name = ctypes.c_char_p()
    try:
        if lib.cuGetErrorName(code, ctypes.byref(name)) == 0 and name.value:
            return f"{name.value.decode()} ({code})"
    except AttributeError:
        pass
    return f"CUDA error {code}"


def probe_gpu() -> GPUProbe:
    """Ask the CUDA driver (libcuda, through ctypes) for devices. Cached; never raises.

    This costs a failed ``dlopen`` (well under a millisecond) on machines with no driver, and
    never imports CuPy, cuDF or CUDA Python, which is what keeps ``import accel`` cheap.
    """
    return _probe_gpu_once()


@functools.cache
def _probe_gpu_once() -> GPUProbe:
    names = _driver_library_names()
    if not names:
        return GPUProbe(False, reason=f"CUDA is not available on {sys.platform}")
    lib = None
    for candidate in names:
        try:
            lib = ctypes.CDLL(candidate)
            break
        except OSError:
            continue
    if lib is None:
        return GPUProbe(False, reason="no NVIDIA driver found (libcuda is not installed)")
    try:
        status = lib.cuInit(0)
        if status != 0:
            return GPUProbe(
                False, reason=f"the NVIDIA driver did not start: {_cuda_error(lib, status)}"
            )
        count = ctypes.c_int(0)
        status = lib.cuDeviceGetCount(ctypes.byref(count))
        if status != 0 or count.value == 0:
            detail = _cuda_error(lib, status) if status else "zero devices"
            return GPUProbe(False, reason=f"the NVIDIA driver sees no GPU ({detail})")
        version = ctypes.c_int(0)
        cuda_version = None
        if lib.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value:
            cuda_version = f"{version.value // 1000}.{(version.value % 1000) // 10}"
        gpu_names = []
        for ordinal in range(count.value):
            handle = ctypes.c_int(0)
            buf = ctypes.create_string_buffer(256)
            if lib.cuDeviceGet(ctypes.byref(handle), ordinal) == 0 and (
                lib.cuDeviceGetName(buf, len(buf), handle) == 0
            ):
                gpu_names.append(buf.value.decode(errors="replace"))
            else:
                gpu_names.append(f"GPU {ordinal}")
        return GPUProbe(True, count.value, tuple(gpu_names), cuda_version)
    except (AttributeError, OSError, ValueError) as exc:  # a stub or broken libcuda
        return GPUProbe(False, reason=f"the NVIDIA driver is broken: {type(exc).__name__}: {exc}")


def has_module(name: str) -> bool:
    """Whether ``name`` can be imported, found without importing it (cached)."""
    return _has_module_cached(name)


@functools.cache
def _has_module_cached(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _normalise(requested: str | Device) -> str:
    if isinstance(requested, Device):
        return requested.value
    value = str(requested).strip().lower()
    if value not in _config.DEVICE_CHOICES:
        raise ValueError(f"device={requested!r} is not one of {', '.join(_config.DEVICE_CHOICES)}")
    return value


def _missing(needs: Iterable[str]) -> list[str]:
    return [name for name in needs if not has_module(name)]


def resolve(requested: str | Device | None = None, *, needs: Iterable[str] = ()) -> Resolution:
    """Decide where to run: explicit argument > ``ACCEL_DEVICE`` > autodetect.

    Parameters
    ----------
    requested
        ``"auto"``, ``"cpu"``, ``"gpu"`` or ``"simulated"`` (or a :class:`Device`); ``None``
        defers to the ``ACCEL_DEVICE`` environment variable, then to ``"auto"``.
    needs
        Modules the caller's GPU path imports (for example ``("cudf",)``); if one is missing
        the GPU path cannot run.

    Returns
    -------
    Resolution
        ``"auto"`` never raises: it falls back to the CPU and says why in ``reason``.

    Raises
    ------
    GPUUnavailableError
        When ``"gpu"`` was asked for and there is no usable GPU or a needed module is missing.
    ValueError
        When ``requested`` is not a known device name.
    """
    if requested is not None:
        wanted, source = _normalise(requested), "argument"
    else:
        config = _config.config()
        wanted = config.device
        source = "ACCEL_DEVICE" if config.device_from_env else "default"
    return _resolve_cached(wanted, source, tuple(needs))


def resolve_stack(stack: str, requested: str | Device | None = None) -> Resolution:
    """:func:`resolve` for one GPU path of :data:`accel._stacks.STACKS` ("pandas", "numpy",
    "sklearn", "vector", "spark"): the modules it needs come from that one table."""
    return resolve(requested, needs=_stacks.stack(stack).needs)


@functools.cache
def _resolve_cached(wanted: str, source: str, needs: tuple[str, ...]) -> Resolution:
    if wanted == "cpu":
        return Resolution(Device.CPU, wanted, source, "the CPU was asked for")
    if wanted == "simulated":
        return Resolution(
            Device.SIMULATED, wanted, source, "GPU paths run on a host-memory stand-in"
        )
    probe = probe_gpu()
    missing = _missing(needs)
    if probe.available and not missing:
        return Resolution(Device.GPU, wanted, source, f"GPU found: {', '.join(probe.names)}")
    if not probe.available:
        why = probe.reason
        fix = "run on a machine with an NVIDIA GPU and driver, or ask for the CPU"
    else:
        pretty = ", ".join(_INSTALL_HINT.get(name, name) for name in missing)
        why = f"{pretty} not installed"
        fix = f"{install_hint('cu12')}; cu13 for CUDA 13 drivers"
    if wanted == "gpu":
        asked = "device='gpu'" if source == "argument" else "ACCEL_DEVICE=gpu"
        raise GPUUnavailableError(f"{asked} was asked for, but {why}: {fix}")
    return Resolution(Device.CPU, wanted, source, why)


def current_config() -> _config.Config:
    """The configuration snapshot (kept for callers not yet on :func:`accel.core.config`)."""
    return _config.config()


def clear_caches() -> None:
    """Forget every cached answer, the configuration included (for tests, and after
    installing GPU packages at run time); the next call reads the environment again."""
    _probe_gpu_once.cache_clear()
    _has_module_cached.cache_clear()
    _resolve_cached.cache_clear()
    _config.invalidate()
