"""What the GPU path needs from a device: an array namespace and the cuVS modules (no imports of them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Binding"]


@dataclass(frozen=True)
class Binding:
    """``xp`` = CuPy and the cuVS modules on a GPU; NumPy-like stand-ins when simulated."""

    name: str
    xp: Any
    brute_force: Any
    ivf_flat: Any
    ivf_pq: Any
    cagra: Any
    filters: Any
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]
    #: cuVS returns pylibraft device_ndarrays; this turns one into an ``xp`` array.
    as_array: Callable[[Any], Any]
    free_bytes: Callable[[], int]
    #: Exceptions that mean "the device ran out of memory".
    oom_errors: tuple[type[BaseException], ...]
    #: The GPU library's own error types; one counts as out-of-memory when ``is_oom`` says so.
    library_errors: tuple[type[BaseException], ...] = ()
    is_oom: Callable[[BaseException], bool] = lambda exc: False
    #: where the calls run, as accel's ledger counts them ("gpu", or "simulated")
    device: str = "gpu"
