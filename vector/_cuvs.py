"""The one module that imports cuVS and CuPy: binds the GPU path to a real device.

Not yet run on a GPU: written against the cuVS 26.x Python API (brute_force, ivf_flat, ivf_pq,
cagra, filters.from_bitset) and checked on CPU through the simulated binding only.
"""

from __future__ import annotations

import cupy as cp
from cuvs.neighbors import brute_force, cagra, filters, ivf_flat, ivf_pq

from vector._gpu.binding import Binding
from vector._gpu.memory import available_bytes

__all__ = ["BINDING", "device_count"]


def device_count() -> int:
    """How many CUDA devices CuPy sees."""
    return int(cp.cuda.runtime.getDeviceCount())


def _rmm_resource() -> object | None:
    try:
        import rmm
    except ImportError:
        return None
    return rmm.mr.get_current_device_resource()


def _free_bytes() -> int:
    # The driver counts CuPy's and RMM's pools as used; their idle bytes are free to us.
    free, total = cp.cuda.runtime.memGetInfo()
    return available_bytes(free, total, cp.get_default_memory_pool(), _rmm_resource())


def _oom_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [cp.cuda.memory.OutOfMemoryError, MemoryError]
    try:
        from rmm import RMMError

        errors.append(RMMError)
    except ImportError:
        pass
    return tuple(errors)


def _library_errors() -> tuple[type[BaseException], ...]:
    try:
        from cuvs.common.exceptions import CuvsException
    except ImportError:
        return ()
    return (CuvsException,)


def _is_oom(exc: BaseException) -> bool:
    # cuVS reports a C++ std::bad_alloc / rmm::out_of_memory as CuvsException with that text.
    text = str(exc).lower()
    return "out_of_memory" in text or "out of memory" in text or "bad_alloc" in text


BINDING = Binding(
    name="cuVS",
    xp=cp,
    brute_force=brute_force,
    ivf_flat=ivf_flat,
    ivf_pq=ivf_pq,
    cagra=cagra,
    filters=filters,
    to_device=cp.asarray,
    to_host=cp.asnumpy,
    as_array=cp.asarray,
    free_bytes=_free_bytes,
    oom_errors=_oom_errors(),
    library_errors=_library_errors(),
    is_oom=_is_oom,
)
