"""scikit-learn -> cuML through cuml.accel (GPU only; the simulated device has no engine for it)."""

from __future__ import annotations

from accel._integrations import START_FAILURES, InstallContext

LIBRARY = "scikit-learn"


def install(ctx: InstallContext) -> None:
    if ctx.primary.device.is_simulated():
        no_engine = (
            "the simulated device has no scikit-learn engine; scikit-learn runs as installed"
        )
        ctx.set_status(LIBRARY, "cpu", "scikit-learn", no_engine)
        return
    if not ctx.primary.device.is_gpu():
        ctx.set_status(LIBRARY, "cpu", "scikit-learn", ctx.primary.reason)
        return
    resolution = ctx.resolve("sklearn")
    if not resolution.device.is_gpu():
        ctx.set_status(LIBRARY, "cpu", "scikit-learn", resolution.reason)
        return
    try:
        from accel import _gpu

        _gpu.enable_sklearn(ctx.config.rmm_mode)
    except START_FAILURES as exc:
        if ctx.strict:
            raise
        why = f"cuML could not start ({type(exc).__name__}: {exc})"
        ctx.set_status(LIBRARY, "cpu", "scikit-learn", why)
        ctx.notice(f"{why}; scikit-learn runs on the CPU")
    else:
        ctx.set_status(LIBRARY, "gpu", "cuml.accel", "GPU found, cuML installed")


def uninstall() -> None:
    """cuML has no uninstall: scikit-learn stays as cuml.accel left it."""
