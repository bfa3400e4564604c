"""faiss's GPU entry points (StandardGpuResources, index_cpu_to_gpu, ...) on top of cuVS."""

from __future__ import annotations

from typing import Any

from vector import _placement
from vector._index import (
    Index,
    IndexFlatIP,
    IndexFlatL2,
    IndexHNSWFlat,
    IndexIVFFlat,
    IndexIVFPQ,
    as_faiss,
    moved_to_cpu,
    moved_to_device,
    wrap_faiss,
)
from vector._placement import Device

__all__ = [
    "GpuClonerOptions",
    "GpuIndexCagra",
    "GpuIndexCagraConfig",
    "GpuIndexFlatIP",
    "GpuIndexFlatL2",
    "GpuIndexIVFFlat",
    "GpuIndexIVFPQ",
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
    if not _placement.resolve("auto").device.is_gpu():
        return 0
    try:
        from vector import _cuvs  # only reached with a GPU and the GPU libraries present
    except ImportError:
        return 0
    return _cuvs.device_count()


def index_cpu_to_gpu(res: Any, device: int, index: Any, co: Any = None) -> Index:
    """A GPU-path copy of ``index``. Without a GPU ("auto"), a CPU copy whose
    ``fallback_reason`` says why; with ACCEL_DEVICE=gpu or ACCEL_STRICT=1, an error."""
    from vector._faiss import faiss

    placement = _placement.resolve(None)
    clone = wrap_faiss(faiss.clone_index(as_faiss(index)))
    if not placement.on_gpu_path:
        fell = _placement.fallback("index_cpu_to_gpu", placement.reason)
        clone._set_placement(fell)
        return clone
    return moved_to_device(clone, placement)


def index_cpu_to_all_gpus(index: Any, co: Any = None, ngpu: int = -1) -> Index:
    return index_cpu_to_gpu(None, 0, index, co)


def index_gpu_to_cpu(index: Any) -> Index:
    """A faiss-cpu copy of ``index`` (Flat and IVF-Flat exactly; CAGRA as an HNSW rebuilt on
    the CPU; IVF-PQ with codebooks re-trained on the CPU)."""
    if isinstance(index, Index) and index._engine.on_device:
        return moved_to_cpu(index)
    from vector._faiss import faiss

    return wrap_faiss(faiss.clone_index(as_faiss(index)))


# --- faiss-gpu class names ---------------------------------------------------------------------
# faiss-gpu code builds GPU indexes directly. These give our ordinary classes on the GPU path
# (or on the CPU with a recorded fallback when there is no GPU), so isinstance checks against
# IndexFlatL2 etc. hold; the cuVS engine behind each is the same as with device="gpu".


def _gpu_device(what: str) -> tuple[Device, Any]:
    placement = _placement.resolve(None)
    if placement.on_gpu_path:
        return placement.device, None
    return Device.CPU, _placement.fallback(what, placement.reason)


def _made(index: Index, fell: Any) -> Index:
    if fell is not None:
        index._set_placement(fell)
    return index


def GpuIndexFlatL2(res: Any, d: int, config: Any = None) -> Index:
    device, fell = _gpu_device("GpuIndexFlatL2")
    return _made(IndexFlatL2(d, device=device), fell)


def GpuIndexFlatIP(res: Any, d: int, config: Any = None) -> Index:
    device, fell = _gpu_device("GpuIndexFlatIP")
    return _made(IndexFlatIP(d, device=device), fell)


def GpuIndexIVFFlat(res: Any, d: Any, nlist: int = 0, metric: int = 1, config: Any = None) -> Index:
    """``GpuIndexIVFFlat(res, d, nlist, metric)`` or ``GpuIndexIVFFlat(res, cpu_ivf_index)``."""
    if not isinstance(d, int):
        return index_cpu_to_gpu(res, 0, d)
    device, fell = _gpu_device("GpuIndexIVFFlat")
    return _made(IndexIVFFlat(None, d, nlist, metric, device=device), fell)


def GpuIndexIVFPQ(
    res: Any, d: int, nlist: int, M: int, nbits: int = 8, metric: int = 1, config: Any = None
) -> Index:
    device, fell = _gpu_device("GpuIndexIVFPQ")
    return _made(IndexIVFPQ(None, d, nlist, M, nbits, metric, device=device), fell)


class GpuIndexCagraConfig:
    """The parts of faiss's GpuIndexCagraConfig that map onto our CAGRA path."""

    def __init__(self) -> None:
        self.graph_degree = 64
        self.intermediate_graph_degree = 128


def GpuIndexCagra(res: Any, d: int, metric: int = 1, config: Any = None) -> Index:
    """A CAGRA-backed index (our IndexHNSWFlat on the GPU path, graph degree 2*M).

    faiss's GpuIndexCagra builds its graph in ``train(x)``; ours builds on ``add`` (and a
    ``train`` call is a no-op), so add the vectors after training as with any other index.
    """
    degree = int(getattr(config, "graph_degree", 64))
    device, fell = _gpu_device("GpuIndexCagra")
    return _made(IndexHNSWFlat(d, max(4, degree // 2), metric, device=device), fell)
