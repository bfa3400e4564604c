"""The one accel module that imports cuDF, cuML and CUDA Python; imported only when one is wanted."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from types import ModuleType

import cudf.pandas
from cuda.bindings import runtime
from cudf.pandas import fast_slow_proxy, module_accelerator
from rmm import RMMError

from accel import _fastslow
from accel._fallbacks import Ledger

MANAGED_MODES = frozenset({"managed", "managed_pool"})
_SLOW_PREFIX = module_accelerator.ModuleAccelerator._module_cache_prefix
_MEMORY_SET_UP = False


class CUDAStartError(RuntimeError):
    """CUDA cannot start here, or cannot give the memory resource that was asked for."""


@functools.cache
def _cuda_probe() -> tuple[str, bool]:
    # The two runtime calls cudf.pandas.install() makes, made first so that their failure leaves
    # nothing installed (cudf.pandas itself only warns, with its import hook already on).
    (err,) = runtime.cudaFree(0)
    if err != runtime.cudaError_t.cudaSuccess:
        return f"the CUDA runtime did not start ({err.name})", False
    err, concurrent_managed = runtime.cudaDeviceGetAttribute(
        runtime.cudaDeviceAttr.cudaDevAttrConcurrentManagedAccess, 0
    )
    if err != runtime.cudaError_t.cudaSuccess:
        return f"the CUDA runtime could not query device 0 ({err.name})", False
    return "", bool(concurrent_managed)


def check_cuda(rmm_mode: str | None = None) -> None:
    """Raise :class:`CUDAStartError` if CUDA cannot start, or ``rmm_mode`` needs managed memory
    with concurrent access (absent on WSL2 and some older cards) that device 0 does not have."""
    problem, concurrent_managed = _cuda_probe()
    if problem:
        raise CUDAStartError(problem)
    if rmm_mode in MANAGED_MODES and not concurrent_managed:
        raise CUDAStartError(
            f"RMM mode {rmm_mode!r} needs concurrent managed memory access, which this GPU or "
            "platform lacks; use ACCEL_RMM_MODE=pool"
        )


def is_proxy_module(module: object) -> bool:
    """Whether ``module`` is one of cudf.pandas' proxy modules (a plain module holding the real one)."""
    return isinstance(module, ModuleType) and "_fsproxy_slow" in module.__dict__


def enable_pandas(rmm_mode: str, recorder: Ledger) -> None:
    """Turn on cudf.pandas with a pooled (not oversubscribed managed) memory resource, and count.

    Raises :class:`CUDAStartError` (with cudf.pandas' import hook removed again) when CUDA or
    the memory resource cannot be set up.
    """
    global _MEMORY_SET_UP
    # cudf.pandas defaults to managed memory where the card supports it; a pool stays inside
    # the card's memory, and the user's own CUDF_PANDAS_RMM_MODE still wins.
    check_cuda(os.environ.get("CUDF_PANDAS_RMM_MODE", rmm_mode))
    os.environ.setdefault("CUDF_PANDAS_RMM_MODE", rmm_mode)
    try:
        with warnings.catch_warnings():
            if _MEMORY_SET_UP:  # installed again after uninstall(): the pool is still there
                warnings.filterwarnings("ignore", "cudf.pandas detected an already configured")
            cudf.pandas.install()
    except (ValueError, MemoryError, RMMError, RuntimeError) as exc:
        disable_pandas()  # install() puts the import hook on before it sets up memory
        raise CUDAStartError(f"cudf.pandas could not set up memory: {exc}") from exc
    _MEMORY_SET_UP = True
    _fastslow.instrument(fast_slow_proxy, recorder)


def enable_pandas_without_cuda(recorder: Ledger) -> None:
    """The simulated device: cudf.pandas' import hook and proxies, no CUDA and no memory set-up,
    so every call cuDF cannot make without a device falls back to pandas, counted."""
    module_accelerator.ModuleAccelerator.install("pandas", "cudf", "pandas")
    _fastslow.instrument(fast_slow_proxy, recorder)


def disable_pandas() -> ModuleType | None:
    """Stop counting, remove cudf.pandas' import hook and its proxy modules, and put the real
    pandas modules back, so later imports get plain pandas and a later install works again.

    Returns the real ``pandas`` module put back in ``sys.modules`` (None if there was none).
    Objects created while it was on stay proxies; cudf.pandas itself has no uninstall.
    """
    _fastslow.uninstrument(fast_slow_proxy)
    accelerator = module_accelerator.ModuleAccelerator
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, accelerator)]
    for name in [m for m in sys.modules if m == "pandas" or m.startswith("pandas.")]:
        if is_proxy_module(sys.modules[name]):
            del sys.modules[name]
    hidden = _SLOW_PREFIX + "pandas"
    for name in [m for m in sys.modules if m == hidden or m.startswith(hidden + ".")]:
        sys.modules.setdefault(name[len(_SLOW_PREFIX) :], sys.modules.pop(name))
    # cudf.pandas allows one accelerator per process and only builds it (moving the real pandas
    # modules aside) when none exists; forgetting it lets the next install() build a fresh one.
    module_accelerator.ModuleAcceleratorBase._instance = None
    return sys.modules.get("pandas")


def enable_sklearn(rmm_mode: str) -> None:
    """Route scikit-learn estimators through cuml.accel, keeping accel's memory mode.

    cuml.accel switches RMM to managed memory unless ``disable_uvm``; that is only right when
    managed memory was asked for (cudf.pandas, if on, has set the resource already).
    """
    check_cuda()
    import cuml.accel

    cuml.accel.install(disable_uvm=rmm_mode not in MANAGED_MODES)
