"""Device memory for the GPU path: the bytes free to it (driver + idle pool bytes) and the fit check.

``cudaMemGetInfo`` reports memory held by CuPy's and RMM's pools as used, even where nothing
lives in it (cudf.pandas reserves 80% of the card for its RMM pool at install). Bytes a pool
holds but has not handed out are ours to use, so they count as free here. Duck-typed over the
pool objects (CuPy ``MemoryPool``, an RMM resource chain), so nothing here imports them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["available_bytes", "check_fits", "rmm_pool_idle_bytes", "size_text"]


def rmm_pool_idle_bytes(resource: Any) -> int:
    """Bytes an RMM pool in ``resource``'s adaptor chain holds but has not handed out.

    A ``StatisticsResourceAdaptor`` above the pool tells how much of it is in use. Without one
    RMM does not say, and the whole pool counts as idle: the check this feeds is a pre-check,
    and a real out-of-memory error still moves the index to the CPU.
    """
    in_use: int | None = None
    while resource is not None:
        counts = getattr(resource, "allocation_counts", None)
        if counts is not None and in_use is None:
            # rmm's Statistics object; older rmm returned a dict
            current = getattr(counts, "current_bytes", None)
            in_use = int(counts["current_bytes"] if current is None else current)
        pool_size = getattr(resource, "pool_size", None)
        upstream_of = getattr(resource, "get_upstream", None)
        upstream = upstream_of() if callable(upstream_of) else None
        if callable(pool_size):
            if "Managed" in type(upstream).__name__:
                # managed pages are resident only once touched: the driver counts them free
                return 0
            return max(0, int(pool_size()) - (in_use or 0))
        resource = upstream
    return 0


def available_bytes(
    driver_free: int, total: int, cupy_pool: Any = None, rmm_resource: Any = None
) -> int:
    """``driver_free`` plus what CuPy's pool and RMM's pool hold unused, at most ``total``."""
    free = int(driver_free)
    if cupy_pool is not None:
        free += int(cupy_pool.free_bytes())
    return min(int(total), free + rmm_pool_idle_bytes(rmm_resource))


def size_text(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.2f} MiB"


def check_fits(need: int, free: int, rows: int, d: int, kind: str) -> None:
    """MemoryError (an OOM the caller turns into a CPU fallback) if ``need`` bytes do not fit."""
    if need > free:
        raise MemoryError(
            f"{rows:,} x {d} vectors need about {size_text(need)} of GPU memory "
            f"for {kind}; {size_text(free)} is free"
        )
