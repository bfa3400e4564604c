"""accel.install() / uninstall(): decide per library, switch the GPU engines on, say why not."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from types import ModuleType

from accel import _device
from accel._device import Device, GPUUnavailableError
from accel._report import RECORDER, LibraryStatus

# Errors that mean "this GPU stack cannot start here" (a broken CUDA install, a driver/runtime
# mismatch, a missing shared library); CUDA Python's and RMM's errors derive from RuntimeError.
_START_FAILURES = (ImportError, OSError, RuntimeError, MemoryError)


@dataclass(slots=True)
class _State:
    installed: bool = False
    #: cudf.pandas' import hook is on (GPU, or the simulated device with cuDF installed).
    pandas_hooked: bool = False
    #: The real pandas module that uninstall() put back in sys.modules: a later install may
    #: move it aside again, unlike a pandas the user imported before accel.
    restored_pandas: object = None
    faiss_aliased: bool = False
    notice_shown: bool = False


_STATE = _State()
_LOCK = threading.RLock()


class AccelInstallError(RuntimeError):
    """accel could not accelerate what strict mode requires; the message says what to do."""


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
    config = _device.current_config()
    strict = config.strict if strict is None else strict
    quiet = config.quiet if quiet is None else quiet
    with _LOCK:
        RECORDER.strict = strict
        if _STATE.installed:
            return
        resolution = _device.resolve(device, needs=("cudf",))
        if strict and resolution.device is Device.CPU and resolution.requested != "cpu":
            raise GPUUnavailableError(
                f"strict mode is on but pandas would run on the CPU: {resolution.reason}. "
                "Unset ACCEL_STRICT, or set ACCEL_DEVICE=cpu to run on the CPU on purpose."
            )
        _STATE.installed = True
        if resolution.device is Device.GPU:
            _install_gpu(config.rmm_mode, strict, quiet)
        elif resolution.device is Device.SIMULATED:
            _install_simulated(strict, quiet)
        else:
            for library in ("pandas", "scikit-learn"):
                RECORDER.set_library(LibraryStatus(library, "cpu", library, resolution.reason))
            if resolution.requested == "auto":
                _notice(
                    f"{resolution.reason}; pandas and scikit-learn run unchanged on the CPU", quiet
                )
        _enable_numpy(device, strict)
        _alias_faiss(device)


# --- NumPy layer (accel/_numpy, issue 3): on only for SIMULATED, or GPU with CuPy ---------
def _enable_numpy(device: str | Device | None, strict: bool) -> None:
    try:
        resolution = _device.resolve(device, needs=("cupy",))
    except GPUUnavailableError:
        return  # pandas' resolution above already decided how to report a missing GPU
    if resolution.device is Device.CPU:
        return  # the CPU pass-through must stay free: numpy is not even imported
    from accel import _numpy

    status = _numpy.enable(resolution.device.value, _device.current_config().min_gpu_elements)
    if strict and status.device == "cpu":
        raise AccelInstallError(
            f"strict mode is on but NumPy would run on the CPU: {status.reason}"
        )
    RECORDER.set_library(status)


def _disable_numpy() -> None:
    numpy_layer = sys.modules.get("accel._numpy")
    if numpy_layer is not None:
        numpy_layer.disable()


# --- end NumPy layer ----------------------------------------------------------------------


def _alias_faiss(device: str | Device | None) -> None:
    """``import faiss`` gives ``vector`` (cuVS) where it can run on the device; else faiss stays."""
    try:
        resolution = _device.resolve(device, needs=("cuvs", "cupy"))
    except GPUUnavailableError:
        return  # pandas' resolution above already reported the missing GPU
    if resolution.device is Device.CPU:
        return  # faiss-cpu is what vector would run anyway: nothing to gain, nothing touched
    if resolution.device is Device.GPU:
        try:  # a driver that lists a GPU does not prove CUDA starts: check as for pandas
            from accel import _gpu

            _gpu.check_cuda()
        except (ImportError, RuntimeError) as exc:
            why = f"CUDA could not start ({type(exc).__name__}: {exc}); faiss stays faiss-cpu"
            RECORDER.set_library(LibraryStatus("faiss", "cpu", "faiss-cpu", why))
            return
    engine = "vector (cuVS)" if resolution.device is Device.GPU else "vector (simulated cuVS)"
    existing = sys.modules.get("faiss")
    if existing is not None and not getattr(existing, "_ACCEL_VECTOR_SHIM", False):
        why = "faiss was imported before accel.install(); it stays faiss-cpu in this process"
        RECORDER.set_library(LibraryStatus("faiss", "cpu", "faiss-cpu", why))
        return
    import vector

    sys.modules["faiss"] = vector
    _STATE.faiss_aliased = True
    RECORDER.set_library(LibraryStatus("faiss", resolution.device.value, engine, resolution.reason))


def _install_gpu(rmm_mode: str, strict: bool, quiet: bool) -> None:
    pandas_status = _enable_pandas(rmm_mode, strict, quiet)
    RECORDER.set_library(pandas_status)
    if not _device.has_module("cuml"):
        RECORDER.set_library(
            LibraryStatus("scikit-learn", "cpu", "scikit-learn", "cuML not installed")
        )
        return
    try:
        from accel import _gpu

        _gpu.enable_sklearn(rmm_mode)
    except _START_FAILURES as exc:
        if strict:
            raise
        why = f"cuML could not start ({type(exc).__name__}: {exc})"
        RECORDER.set_library(LibraryStatus("scikit-learn", "cpu", "scikit-learn", why))
        _notice(f"{why}; scikit-learn runs on the CPU", quiet)
    else:
        RECORDER.set_library(
            LibraryStatus("scikit-learn", "gpu", "cuml.accel", "GPU found, cuML installed")
        )


def _install_simulated(strict: bool, quiet: bool) -> None:
    """Proxy-check mode: cudf.pandas' real proxies without CUDA, each call falling back, counted."""
    no_engine = "the simulated device has no scikit-learn engine; scikit-learn runs as installed"
    RECORDER.set_library(LibraryStatus("scikit-learn", "cpu", "scikit-learn", no_engine))
    if not _device.has_module("cudf"):
        why = "the simulated device runs pandas through cudf.pandas, and cuDF is not installed"
        RECORDER.set_library(LibraryStatus("pandas", "cpu", "pandas", why))
        return
    RECORDER.set_library(_enable_pandas("", strict, quiet, simulated=True))


def _enable_pandas(
    rmm_mode: str, strict: bool, quiet: bool, *, simulated: bool = False
) -> LibraryStatus:
    current = sys.modules.get("pandas")
    if (
        current is not None
        and not _is_proxy_module(current)
        and current is not _STATE.restored_pandas
    ):
        why = (
            "pandas was imported before accel.install(), so it stays on the CPU in this "
            "process; put `import accel.auto` first or run `python -m accel script.py`"
        )
        if strict:
            raise AccelInstallError(why)
        _notice(why, quiet)
        return LibraryStatus("pandas", "cpu", "pandas", why)
    try:
        from accel import _gpu

        if simulated:
            _gpu.enable_pandas_without_cuda(RECORDER)
        else:
            _gpu.enable_pandas(rmm_mode, RECORDER)
    except _START_FAILURES as exc:
        if strict:
            raise
        why = f"cuDF could not start ({type(exc).__name__}: {str(exc)[:160]})"
        _notice(f"{why}; pandas runs on the CPU", quiet)
        return LibraryStatus("pandas", "cpu", "pandas", why)
    _STATE.pandas_hooked = True
    _STATE.restored_pandas = None
    if simulated:
        why = "no CUDA: cudf.pandas proxies run, and calls cuDF cannot make fall back to pandas"
        return LibraryStatus("pandas", "simulated", "cudf.pandas", why)
    return LibraryStatus("pandas", "gpu", "cudf.pandas", f"memory resource: {rmm_mode}")


def _is_proxy_module(module: object) -> bool:
    # cudf.pandas' proxy modules are plain modules that hold the real one as _fsproxy_slow.
    return isinstance(module, ModuleType) and "_fsproxy_slow" in module.__dict__


def uninstall() -> None:
    """Undo :func:`install`: stop counting, and let modules imported from now on get plain pandas.

    Objects created while accel was on keep working; cudf.pandas cannot turn existing proxies
    back into pandas objects. scikit-learn stays as cuml.accel left it (cuML has no uninstall).
    """
    with _LOCK:
        if _STATE.pandas_hooked:
            from accel import _gpu

            _STATE.restored_pandas = _gpu.disable_pandas()
        _disable_numpy()
        if _STATE.faiss_aliased and getattr(sys.modules.get("faiss"), "_ACCEL_VECTOR_SHIM", False):
            del sys.modules["faiss"]
        _STATE.faiss_aliased = False
        _STATE.installed = False
        _STATE.pandas_hooked = False
        RECORDER.strict = False
        RECORDER.forget_libraries()


def is_installed() -> bool:
    """Whether :func:`install` is in effect in this process."""
    return _STATE.installed
