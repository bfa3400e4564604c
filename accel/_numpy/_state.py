"""Which backend serves the NumPy layer in this process, and the constants every part reads."""

from __future__ import annotations

from typing import Any

from accel._device import Device

LIBRARY = "numpy"

# The dtypes a device holds (by ``dtype.char``), CuPy's: bool, integers, float16/32/64,
# complex64/128. Everything else stays on the host: object, strings, bytes, structured,
# datetime, long double, StringDType (its elements point into a host-memory arena) and
# user-defined dtypes.
DEVICE_DTYPE_CHARS = frozenset("?bBhHiIlLqQefdFD")

# Functions and methods whose 0-d results NumPy returns as 0-d arrays (all others give scalars).
ARRAY_RESULT_CALLS = frozenset(
    {
        "array",
        "asarray",
        "asanyarray",
        "copy",
        "reshape",
        "squeeze",
        "transpose",
        "where",
        "empty",
        "zeros",
        "ones",
        "full",
        "empty_like",
        "zeros_like",
        "ones_like",
        "full_like",
        "broadcast_to",
        "moveaxis",
        "require",
        "ndarray.copy",
        "ndarray.reshape",
        "ndarray.astype",
        "ndarray.view",
        "ndarray.squeeze",
        "ndarray.transpose",
        "ndarray.swapaxes",
        "ndarray.conj",
        "ndarray.conjugate",
        "ndarray.__getitem__",
        "ndarray.__real__",
        "ndarray.__imag__",
        "lib.stride_tricks.as_strided",
        "lib.stride_tricks.sliding_window_view",
    }
)


class _State:
    """Which backend serves the accelerated namespace in this process."""

    __slots__ = (
        "active",
        "device_random",
        "engine",
        "fallback_errors",
        "kind",
        "min_elements",
        "xp",
    )

    def __init__(self) -> None:
        self.xp: Any = None
        # SIMULATED or GPU once a backend is loaded (CPU before); the backend outlives
        # uninstall(), so device arrays made before keep working.
        self.kind = Device.CPU
        # Whether host data may be moved to the device (False after uninstall(): device
        # arrays made before keep working, nothing new goes to the device).
        self.active = False
        self.engine = ""
        self.min_elements = 100_000
        self.device_random = False
        # what the backend raises when it cannot do a call (see _dispatch.BASE_FALLBACK_ERRORS)
        self.fallback_errors: tuple[type[BaseException], ...] = ()


STATE = _State()
