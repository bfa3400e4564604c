"""pandas -> cuDF through cudf.pandas (on the GPU, or its proxies alone on the simulated device)."""

from __future__ import annotations

import sys
from types import ModuleType

from accel._errors import AccelInstallError
from accel._integrations import START_FAILURES, InstallContext

LIBRARY = "pandas"
_HOOKED = {"on": False}
#: The real pandas module that uninstall() put back in sys.modules: a later install may move
#: it aside again, unlike a pandas the user imported before accel.
_RESTORED: dict[str, object] = {"pandas": None}


def install(ctx: InstallContext) -> None:
    device = ctx.primary.device
    if device.is_gpu():
        _enable(ctx, ctx.config.rmm_mode)
    elif device.is_simulated():
        from accel import _device

        if not _device.has_module("cudf"):
            why = "the simulated device runs pandas through cudf.pandas, and cuDF is not installed"
            ctx.set_status(LIBRARY, "cpu", "pandas", why)
            return
        _enable(ctx, "", simulated=True)
    else:
        ctx.set_status(LIBRARY, "cpu", "pandas", ctx.primary.reason)


def _enable(ctx: InstallContext, rmm_mode: str, *, simulated: bool = False) -> None:
    current = sys.modules.get("pandas")
    if current is not None and not _is_proxy_module(current) and current is not _RESTORED["pandas"]:
        why = (
            "pandas was imported before accel.install(), so it stays on the CPU in this "
            "process; put `import accel.auto` first or run `python -m accel script.py`"
        )
        if ctx.strict:
            raise AccelInstallError(why)
        ctx.notice(why)
        ctx.set_status(LIBRARY, "cpu", "pandas", why)
        return
    try:
        from accel import _gpu

        if simulated:
            _gpu.enable_pandas_without_cuda(ctx.ledger)
        else:
            _gpu.enable_pandas(rmm_mode, ctx.ledger)
    except START_FAILURES as exc:
        if ctx.strict:
            raise
        why = f"cuDF could not start ({type(exc).__name__}: {str(exc)[:160]})"
        ctx.notice(f"{why}; pandas runs on the CPU")
        ctx.set_status(LIBRARY, "cpu", "pandas", why)
        return
    _HOOKED["on"] = True
    _RESTORED["pandas"] = None
    if simulated:
        why = "no CUDA: cudf.pandas proxies run, and calls cuDF cannot make fall back to pandas"
        ctx.set_status(LIBRARY, "simulated", "cudf.pandas", why)
    else:
        ctx.set_status(LIBRARY, "gpu", "cudf.pandas", f"memory resource: {rmm_mode}")


def _is_proxy_module(module: object) -> bool:
    # cudf.pandas' proxy modules are plain modules that hold the real one as _fsproxy_slow.
    return isinstance(module, ModuleType) and "_fsproxy_slow" in module.__dict__


def uninstall() -> None:
    if _HOOKED["on"]:
        from accel import _gpu

        _RESTORED["pandas"] = _gpu.disable_pandas()
    _HOOKED["on"] = False
