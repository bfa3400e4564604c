"""The ``faiss`` alias: ``import faiss`` gives ``vector`` where vector runs on the device.

accel names this module by string (``"vector._alias"``: ``install(ctx)`` / ``uninstall()``) and
imports it only at install time, so accel never imports vector. Where vector would run on the
CPU, faiss stays faiss-cpu: nothing to gain, nothing touched.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from accel import core

__all__ = ["LIBRARY", "install", "is_installed", "uninstall"]

#: The library name accel's report shows for this integration.
LIBRARY = "faiss"
_ALIASED = {"on": False}


def install(ctx: Any) -> None:
    """Alias ``faiss`` to ``vector`` for one ``accel.install()`` (``ctx``: its InstallContext).

    ``ctx`` gives ``requested`` (the device asked for), ``set_status(library, device, engine,
    reason)`` and ``check_cuda()``; the outcome is reported through ``set_status``.
    """
    try:
        resolution = core.resolve_stack("vector", ctx.requested)
    except core.GPUUnavailableError:
        return  # pandas' resolution already reported the missing GPU
    if resolution.device.is_cpu():
        return  # faiss-cpu is what vector would run anyway
    if resolution.device.is_gpu():
        try:  # a driver that lists a GPU does not prove CUDA starts
            ctx.check_cuda()
        except (ImportError, RuntimeError) as exc:
            why = f"CUDA could not start ({type(exc).__name__}: {exc}); faiss stays faiss-cpu"
            ctx.set_status(LIBRARY, core.Device.CPU, "faiss-cpu", why)
            return
    engine = "vector (cuVS)" if resolution.device.is_gpu() else "vector (simulated cuVS)"
    existing = sys.modules.get("faiss")
    if existing is not None and not getattr(existing, "_ACCEL_VECTOR_SHIM", False):
        why = "faiss was imported before accel.install(); it stays faiss-cpu in this process"
        ctx.set_status(LIBRARY, core.Device.CPU, "faiss-cpu", why)
        return
    sys.modules["faiss"] = importlib.import_module("vector")
    _ALIASED["on"] = True
    ctx.set_status(LIBRARY, resolution.device, engine, resolution.reason)


def uninstall() -> None:
    """Undo :func:`install`: ``import faiss`` finds faiss-cpu again (if this alias is in place)."""
    if _ALIASED["on"] and getattr(sys.modules.get("faiss"), "_ACCEL_VECTOR_SHIM", False):
        del sys.modules["faiss"]
    _ALIASED["on"] = False


def is_installed() -> bool:
    """Whether ``import faiss`` gives ``vector`` because of :func:`install`."""
    return _ALIASED["on"] and getattr(sys.modules.get("faiss"), "_ACCEL_VECTOR_SHIM", False)
