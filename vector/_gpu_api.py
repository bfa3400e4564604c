"""faiss's GPU entry points (StandardGpuResources, index_cpu_to_gpu, ...) on top of cuVS."""

from __future__ import annotations

from typing import Any

from vector import _convert, _placement
from vector._index import Index, as_faiss, wrap_faiss

__all__ = [
    "GpuClonerOptions",
    "StandardGpuResources",
    "get_num_gpus",
    "index_cpu_to_all_gpus",
    "index_cpu_to_gpu",
    "index_gpu_to_cpu",
]


class StandardGpuResources:
    """Accepted for compatibility; cuVS manages its own memory (use an RMM pool for tuning)."""

    def __init__(self) -> None:
        self.temp_memory: int | None = None
        self.pinned_memory: int | None = None

    def noTempMemory(self) -> None:
        self.temp_memory = 0

    def setTempMemory(self, size: int) -> None:
        self.temp_memory = int(size)

    def setPinnedMemory(self, size: int) -> None:
        self.pinned_memory = int(size)

    def setDefaultNullStreamAllDevices(self) -> None:
        return None


class GpuClonerOptions:
    """Accepted for compatibility; ``useFloat16`` and ``indicesOptions`` are ignored."""

    def __init__(self) -> None:
        self.useFloat16 = False
        self.use_cuvs = True
        self.indicesOptions = 0
        self.allowCpuCoarseQuantizer = False


def get_num_gpus() -> int:
    """How many GPUs the GPU path could use (0 without cuVS/CuPy or a driver)."""
    from accel import _device

    if not all(_device.has_module(name) for name in _placement.GPU_NEEDS):
        return 0
    return _device.probe_gpu().count


def index_cpu_to_gpu(res: Any, device: int, index: Any, co: Any = None) -> Index:
    """A GPU-path copy of ``index``. Without a GPU ("auto"), a CPU copy whose
    ``fallback_reason`` says why; with ACCEL_DEVICE=gpu or ACCEL_STRICT=1, an error."""
    from vector._cpu import faiss

    placement = _placement.resolve(None)
    clone = wrap_faiss(faiss.clone_index(as_faiss(index)))
    if not placement.on_gpu_path:
        fell = _placement.fallback("index_cpu_to_gpu", placement.reason)
        clone._set_placement(fell)
        return clone
    return _convert.to_gpu_path(clone, placement)


def index_cpu_to_all_gpus(index: Any, co: Any = None, ngpu: int = -1) -> Index:
    return index_cpu_to_gpu(None, 0, index, co)


def index_gpu_to_cpu(index: Any) -> Index:
    """A faiss-cpu copy of ``index`` (Flat and IVF-Flat exactly; CAGRA as an HNSW rebuilt on
    the CPU; IVF-PQ with codebooks re-trained on the CPU)."""
    if isinstance(index, Index) and index._gpu is not None:
        return _convert.to_cpu(index)
    from vector._cpu import faiss

    return wrap_faiss(faiss.clone_index(as_faiss(index)))
