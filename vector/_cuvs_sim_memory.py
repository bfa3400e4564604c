"""The simulated card's memory: a total, and the CuPy and RMM pools that may hold part of it.

Shaped like what :mod:`vector._gpu.memory` reads on a GPU (CuPy's ``MemoryPool.free_bytes``, an
RMM resource chain with ``pool_size``, ``get_upstream`` and a statistics adaptor), so the
free-memory rule runs on CPU-only machines against the same duck types.
"""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["MEMORY", "CudaMemoryResource", "ManagedMemoryResource", "SimMemory"]


class _CupyPool:
    """CuPy's default pool: ``held`` bytes taken from the driver, ``used`` of them in arrays."""

    def __init__(self) -> None:
        self.held = 0
        self.used = 0

    def free_bytes(self) -> int:
        return self.held - self.used


class CudaMemoryResource:
    """``rmm.mr.CudaMemoryResource``: plain cudaMalloc, no pool."""


class ManagedMemoryResource:
    """``rmm.mr.ManagedMemoryResource``: cudaMallocManaged; pages are resident once touched."""


class _RmmPool:
    """``rmm.mr.PoolMemoryResource``: takes ``size`` bytes from its upstream up front."""

    def __init__(self, size: int, upstream: CudaMemoryResource | ManagedMemoryResource) -> None:
        self.size = int(size)
        self.upstream = upstream

    def pool_size(self) -> int:
        return self.size

    def get_upstream(self) -> CudaMemoryResource | ManagedMemoryResource:
        return self.upstream


class _Statistics:
    """``rmm.mr.StatisticsResourceAdaptor`` over a pool: knows the bytes handed out."""

    def __init__(self, upstream: _RmmPool, current_bytes: int) -> None:
        self.upstream = upstream
        self.allocation_counts = SimpleNamespace(current_bytes=int(current_bytes))

    def get_upstream(self) -> _RmmPool:
        return self.upstream


class SimMemory:
    """A card of ``total_bytes``; the driver counts whatever the pools hold as used."""

    def __init__(self, total_bytes: int = 8 << 30) -> None:
        self.total_bytes = int(total_bytes)
        self.cupy_pool = _CupyPool()
        self.rmm_resource: _RmmPool | _Statistics | None = None

    def _rmm_pool(self) -> _RmmPool | None:
        resource = self.rmm_resource
        return resource.get_upstream() if isinstance(resource, _Statistics) else resource

    def driver_free(self) -> int:
        """What ``cudaMemGetInfo`` would report free."""
        pool = self._rmm_pool()
        reserved = self.cupy_pool.held
        if pool is not None and not isinstance(pool.upstream, ManagedMemoryResource):
            reserved += pool.size
        return max(0, self.total_bytes - reserved)

    def install_rmm_pool(
        self, fraction: float, in_use: int | None = None, managed: bool = False
    ) -> None:
        """Reserve ``fraction`` of the driver's free bytes for an RMM pool, as cudf.pandas does
        at install (0.8; over managed memory where the system supports it); with ``in_use``, a
        statistics adaptor on top reports that many bytes handed out."""
        upstream = ManagedMemoryResource() if managed else CudaMemoryResource()
        pool = _RmmPool(int(self.driver_free() * fraction), upstream)
        self.rmm_resource = pool if in_use is None else _Statistics(pool, in_use)

    def reset(self, total_bytes: int = 8 << 30) -> None:
        self.__init__(total_bytes)  # type: ignore[misc]


MEMORY = SimMemory()
