"""accel.install() / uninstall(): decide once, then switch each integration on (or say why not)."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from types import ModuleType

from accel import _config, _device, _integrations
from accel._device import Device, GPUUnavailableError
from accel._errors import AccelInstallError
from accel._fallbacks import ledger

__all__ = ["ACCEL_LIBRARIES", "AccelInstallError", "install", "is_installed", "uninstall"]

#: The libraries accel's own integrations record; ``install(strict=...)`` applies to them.
ACCEL_LIBRARIES = ("pandas", "numpy", "scikit-learn")


@dataclass(slots=True)
class _State:
    installed: bool = False
    notice_shown: bool = False
    #: the integration modules install() asked, for uninstall() to undo in reverse
    loaded: list[ModuleType] = field(default_factory=list)


_STATE = _State()
_LOCK = threading.RLock()


def _notice(message: str, quiet: bool) -> None:
    # One short line at most per process: users without a GPU must not get a warning storm.
    if quiet or _STATE.notice_shown:
        return
    _STATE.notice_shown = True
    print(f"accel: {message}", file=sys.stderr)


def install(
    *, device: str | Device | None = None, strict: bool | None = None, quiet: bool | None = None
) -> None:
    """Run pandas on cuDF (cudf.pandas) and scikit-learn on cuML (cuml.accel) where a GPU is usable.

    Parameters
    ----------
    device
        ``"auto"`` (default, from ``ACCEL_DEVICE``), ``"gpu"`` or ``"cpu"``. ``"gpu"`` raises
        :class:`accel.GPUUnavailableError` when no GPU or no cuDF is there.
    strict
        Any CPU fallback becomes an error (default from ``ACCEL_STRICT``). With no GPU, strict
        mode also refuses to run at all unless the CPU was asked for explicitly.
    quiet
        Suppress the one-line notice (default from ``ACCEL_QUIET``).

    Without a GPU nothing is patched: pandas and scikit-learn are exactly the libraries the
    user installed, so the cost is this function's few microseconds.
    """
    config = _config.config()
    strict = config.strict if strict is None else strict
    quiet = config.quiet if quiet is None else quiet
    with _LOCK:
        ledger.set_strict(strict, *ACCEL_LIBRARIES)
        if _STATE.installed:
            return
        primary = _device.resolve_stack("pandas", device)  # explicit "gpu" with no GPU raises
        if strict and primary.device.is_cpu() and primary.requested != "cpu":
            raise GPUUnavailableError(
                f"strict mode is on but pandas would run on the CPU: {primary.reason}. "
                "Unset ACCEL_STRICT, or set ACCEL_DEVICE=cpu to run on the CPU on purpose."
            )
        _STATE.installed = True
        ctx = _integrations.InstallContext(
            requested=device,
            strict=strict,
            quiet=quiet,
            config=config,
            ledger=ledger,
            notice=lambda message: _notice(message, quiet),
            primary=primary,
        )
        if primary.device.is_cpu() and primary.requested == "auto":
            _notice(f"{primary.reason}; pandas and scikit-learn run unchanged on the CPU", quiet)
        for entry in _integrations.INTEGRATIONS:
            module = _integrations.load(entry.target) if ctx.wanted(entry) else None
            if module is not None:
                _STATE.loaded.append(module)
                module.install(ctx)


def uninstall() -> None:
    """Undo :func:`install`: stop counting, and let modules imported from now on get plain pandas.

    Objects created while accel was on keep working; cudf.pandas cannot turn existing proxies
    back into pandas objects. scikit-learn stays as cuml.accel left it (cuML has no uninstall).
    """
    with _LOCK:
        while _STATE.loaded:
            _STATE.loaded.pop().uninstall()
        _STATE.installed = False
        ledger.set_strict(False, *ACCEL_LIBRARIES)
        ledger.forget_libraries()


def is_installed() -> bool:
    """Whether :func:`install` is in effect in this process."""
    return _STATE.installed
