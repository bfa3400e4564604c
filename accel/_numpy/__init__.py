"""accel's NumPy layer: user code's ``import numpy`` runs on CuPy (or the proxy-check stand-in).

Switched on by :func:`accel.install` only when the resolved device is SIMULATED, or GPU with
CuPy importable; on a CPU-only machine this package is never imported. See docs/numpy.md.
"""

from __future__ import annotations

from typing import Any

from accel._device import Device
from accel._numpy import _array, _dispatch, _extras, _hook, _transfer
from accel._numpy._array import DeviceArray
from accel._numpy._state import STATE
from accel._report import LibraryStatus

__all__ = [
    "DeviceArray",
    "disable",
    "enable",
    "set_device_random",
    "treat_as_user_code",
]

treat_as_user_code = _hook.treat_as_user_code
# the proxy's methods call these; they import it, so it is handed them here (imports point down)
_array.bind(_dispatch, _transfer, _extras)


def _load_backend(device: Device) -> tuple[Any, str, tuple[type[BaseException], ...]]:
    """The ``xp`` namespace for ``device``, its name, and the errors that mean "fall back"."""
    if device.is_simulated():
        from accel._numpy import _simulated

        xp = _simulated.make_namespace()  # CuPy's error classes, stood in for
        return (
            xp,
            "the simulated device",
            (*_dispatch.BASE_FALLBACK_ERRORS, *cupy_fallback_errors(xp)),
        )
    import cupy

    cupy.zeros(1).sum()  # touch the device now: a broken CUDA stack fails here, not mid-script
    return cupy, "CuPy", (*_dispatch.BASE_FALLBACK_ERRORS, *cupy_fallback_errors(cupy))


def cupy_fallback_errors(cupy: Any) -> tuple[type[BaseException], ...]:
    """CuPy's errors that mean "this call cannot run on the device": NumPy runs it instead."""
    extra: list[type[BaseException]] = []
    for holder, attr in (
        (getattr(cupy.cuda, "memory", None), "OutOfMemoryError"),
        (getattr(cupy.cuda, "runtime", None), "CUDARuntimeError"),
        # a kernel CuPy cannot compile (NVRTC) for these dtypes or arguments: NumPy can
        (getattr(cupy.cuda, "compiler", None), "CompileException"),
    ):
        error = getattr(holder, attr, None)
        if isinstance(error, type) and issubclass(error, BaseException):
            extra.append(error)
    return tuple(extra)


def enable(device: Device | str, min_gpu_elements: int) -> LibraryStatus:
    """Start the layer on ``device`` (SIMULATED, or GPU with CuPy); say how NumPy is served.

    A CuPy that cannot start (not installed, no driver, broken CUDA) leaves NumPy as it is
    and the status says why.
    """
    kind = Device(device)
    if STATE.xp is None or STATE.kind is not kind:
        try:
            xp, engine, errors = _load_backend(kind)
        except (ImportError, OSError, RuntimeError, MemoryError, AttributeError) as exc:
            why = f"CuPy could not start ({type(exc).__name__}: {str(exc)[:160]})"
            return LibraryStatus("numpy", Device.CPU, "numpy", why)
        STATE.xp, STATE.kind, STATE.engine, STATE.fallback_errors = xp, kind, engine, errors
    STATE.min_elements = max(min_gpu_elements, 1)  # 0 means every non-empty array
    STATE.active = True
    _hook.install()
    where = f"arrays of {min_gpu_elements:,}+ elements"
    if kind.is_simulated():
        return LibraryStatus(
            "numpy", Device.SIMULATED, "accel.numpy on a host stand-in for CuPy", where
        )
    return LibraryStatus("numpy", Device.GPU, "accel.numpy on CuPy", where)


def disable() -> None:
    """Stop accelerating: later imports get real NumPy and host data stays on the host.

    Device arrays made while the layer was on keep working (their backend stays loaded).
    """
    STATE.active = False
    STATE.device_random = False
    _hook.uninstall()


def set_device_random(enabled: bool = True) -> None:
    """Draw ``np.random`` numbers on the device (fast, but not NumPy's numbers for a seed)."""
    STATE.device_random = bool(enabled)
