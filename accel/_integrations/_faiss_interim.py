"""``import faiss`` gives ``vector`` where it runs on the device (interim: moves to vector._alias)."""

# accel names vector only by string here and imports it only at install time, on the device.
# This module is what ``vector/_alias.py`` is to hold; once that exists this file goes.

from __future__ import annotations

import importlib
import sys

from accel._errors import GPUUnavailableError
from accel._integrations import InstallContext

LIBRARY = "faiss"
_ALIASED = {"on": False}


def install(ctx: InstallContext) -> None:
    from accel import _device

    try:
        resolution = _device.resolve_stack("vector", ctx.requested)
    except GPUUnavailableError:
        return  # pandas' resolution already reported the missing GPU
    if resolution.device.is_cpu():
        return  # faiss-cpu is what vector would run anyway: nothing to gain, nothing touched
    if resolution.device.is_gpu():
        try:
            ctx.check_cuda()
        except (ImportError, RuntimeError) as exc:
            why = f"CUDA could not start ({type(exc).__name__}: {exc}); faiss stays faiss-cpu"
            ctx.set_status(LIBRARY, "cpu", "faiss-cpu", why)
            return
    engine = "vector (cuVS)" if resolution.device.is_gpu() else "vector (simulated cuVS)"
    existing = sys.modules.get("faiss")
    if existing is not None and not getattr(existing, "_ACCEL_VECTOR_SHIM", False):
        why = "faiss was imported before accel.install(); it stays faiss-cpu in this process"
        ctx.set_status(LIBRARY, "cpu", "faiss-cpu", why)
        return
    sys.modules["faiss"] = importlib.import_module("vector")
    _ALIASED["on"] = True
    ctx.set_status(LIBRARY, resolution.device, engine, resolution.reason)


def uninstall() -> None:
    if _ALIASED["on"] and getattr(sys.modules.get("faiss"), "_ACCEL_VECTOR_SHIM", False):
        del sys.modules["faiss"]
    _ALIASED["on"] = False
