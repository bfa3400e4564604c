"""NumPy -> CuPy through accel's own layer (accel/_numpy): on only for SIMULATED, or GPU with CuPy."""

from __future__ import annotations

import sys

from accel._errors import AccelInstallError, GPUUnavailableError
from accel._integrations import InstallContext

LIBRARY = "numpy"


def install(ctx: InstallContext) -> None:
    from accel import _device

    try:
        resolution = _device.resolve_stack("numpy", ctx.requested)
    except GPUUnavailableError:
        return  # pandas' resolution already decided how to report a missing GPU
    if resolution.device.is_cpu():
        return  # the CPU pass-through must stay free: numpy is not even imported
    from accel import _numpy

    status = _numpy.enable(resolution.device, ctx.config.min_gpu_elements)
    if ctx.strict and status.device.is_cpu():
        raise AccelInstallError(
            f"strict mode is on but NumPy would run on the CPU: {status.reason}"
        )
    ctx.ledger.set_library(status)


def uninstall() -> None:
    numpy_layer = sys.modules.get("accel._numpy")
    if numpy_layer is not None:
        numpy_layer.disable()
