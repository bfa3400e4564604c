"""The FAISS-named index classes (IndexFlatL2, IndexIVFFlat, IndexHNSWFlat, IndexIDMap2, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vector import _checks
from vector._engine import DeviceOutOfMemory
from vector._gpu import GpuEngine
from vector._index_base import (
    Index,
    MakeGpu,
    _faiss,
    as_faiss,
    faiss_object,
    from_faiss_bytes,
    moved_to_cpu,
    moved_to_device,
    placed,
    wrap_faiss,
)
from vector._params import METRIC_INNER_PRODUCT, METRIC_L2

__all__ = [
    "Index",
    "IndexFlat",
    "IndexFlatIP",
    "IndexFlatL2",
    "IndexHNSW",
    "IndexHNSWFlat",
    "IndexIDMap",
    "IndexIDMap2",
    "IndexIVF",
    "IndexIVFFlat",
    "IndexIVFPQ",
    "as_faiss",
    "downcast_index",
    "extract_index_ivf",
    "faiss_object",
    "from_faiss_bytes",
    "moved_to_cpu",
    "moved_to_device",
    "placed",
    "wrap_faiss",
]


# --- Flat ----------------------------------------------------------------------------------
class IndexFlat(Index):
    """Exact search. GPU path: cuVS brute force (distances re-computed exactly)."""

    __slots__ = ()

    def __init__(self, d: int = 0, metric: int = METRIC_L2, *, device: str | None = None) -> None:
        self._init_flat(int(d), int(metric), device)

    def _init_flat(self, d: int, metric: int, device: str | None) -> None:
        shape = type(self).__name__ if type(self) in (IndexFlatL2, IndexFlatIP) else "IndexFlat"

        def make_cpu() -> Any:
            faiss = _faiss()
            return faiss.IndexFlat(d, metric) if shape == "IndexFlat" else getattr(faiss, shape)(d)

        self._place(device, make_cpu, lambda b: GpuEngine(b, "flat", d, metric, cpu_shape=shape))


class IndexFlatL2(IndexFlat):
    __slots__ = ()

    def __init__(self, d: int = 0, *, device: str | None = None) -> None:
        self._init_flat(int(d), METRIC_L2, device)


class IndexFlatIP(IndexFlat):
    __slots__ = ()

    def __init__(self, d: int = 0, *, device: str | None = None) -> None:
        self._init_flat(int(d), METRIC_INNER_PRODUCT, device)


# --- IVF -----------------------------------------------------------------------------------
class IndexIVF(Index):
    """Inverted-file indexes: need ``train``; ``nprobe`` lists are visited per query."""

    __slots__ = ()
    _takes_ids = True

    def _native_refs(self, native: Any) -> list[Index]:
        return [wrap_faiss(native.quantizer, self._placement)]

    def _fill_from(self, vectors: np.ndarray, labels: np.ndarray, source: Index) -> None:
        # cuVS trains its own centroids: on the vectors, or the CPU quantizer's centroids
        quantizer = source._engine.native.quantizer
        train = (
            vectors
            if vectors.shape[0] >= self.nlist
            else quantizer.reconstruct_n(0, quantizer.ntotal)
        )
        if train.shape[0] >= self.nlist:
            self.train(train)
        super()._fill_from(vectors, labels, source)

    @property
    def nprobe(self) -> int:
        return int(self._engine.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._engine.nprobe = int(value)

    @property
    def nlist(self) -> int:
        return int(self._engine.nlist)

    @property
    def quantizer(self) -> Any:
        if self._refs:
            return self._refs[0]
        native = self._engine.native
        return wrap_faiss(native.quantizer) if native is not None else None

    def make_direct_map(self, new_maintain: bool = True) -> None:
        if self._engine.native is not None:
            self._engine.native.make_direct_map(new_maintain)
        # the GPU path keeps a host copy, so reconstruct always works there

    def set_direct_map_type(self, kind: Any) -> None:
        if self._engine.native is not None:
            self._engine.native.set_direct_map_type(kind)

    def _init_ivf(
        self,
        quantizer: Any,
        d: int,
        metric: int,
        device: str | None,
        make: Callable[[Any], Any],
        make_gpu: MakeGpu,
    ) -> None:
        def make_cpu() -> Any:
            # a quantizer left on the GPU path cannot serve a faiss-cpu IVF: use a fresh one
            usable = quantizer is not None and not (
                isinstance(quantizer, Index) and quantizer._engine.on_device
            )
            q = as_faiss(quantizer) if usable else None
            return make(q if q is not None else _faiss().IndexFlat(d, metric))

        self._place(device, make_cpu, make_gpu)
        if quantizer is not None:
            self._refs.append(quantizer)


class IndexIVFFlat(IndexIVF):
    """IVF with full vectors. GPU path: cuVS IVF-Flat (its own k-means; quantizer unused)."""

    __slots__ = ()

    def __init__(
        self,
        quantizer: Any,
        d: int,
        nlist: int,
        metric: int = METRIC_L2,
        *,
        device: str | None = None,
    ) -> None:
        d, nlist, metric = int(d), int(nlist), int(metric)
        self._init_ivf(
            quantizer,
            d,
            metric,
            device,
            lambda q: _faiss().IndexIVFFlat(q, d, nlist, metric),
            lambda b: GpuEngine(b, "ivf_flat", d, metric, cpu_shape="IndexIVFFlat", nlist=nlist),
        )


class IndexIVFPQ(IndexIVF):
    """IVF with product-quantised codes. GPU path: cuVS IVF-PQ (filters applied after search)."""

    __slots__ = ()

    def __init__(
        self,
        quantizer: Any,
        d: int,
        nlist: int,
        M: int,
        nbits: int = 8,
        metric: int = METRIC_L2,
        *,
        device: str | None = None,
    ) -> None:
        d, nlist, M, nbits, metric = int(d), int(nlist), int(M), int(nbits), int(metric)
        if M <= 0 or d % M:
            raise RuntimeError(f"IndexIVFPQ: d={d} must be a multiple of M={M}")
        pq = {"nlist": nlist, "pq_m": M, "pq_bits": nbits}
        self._init_ivf(
            quantizer,
            d,
            metric,
            device,
            lambda q: _faiss().IndexIVFPQ(q, d, nlist, M, nbits, metric),
            lambda b: GpuEngine(b, "ivf_pq", d, metric, cpu_shape="IndexIVFPQ", **pq),
        )


# --- HNSW ----------------------------------------------------------------------------------
class IndexHNSW(Index):
    __slots__ = ()

    @property
    def hnsw(self) -> Any:
        """faiss's ``hnsw`` parameters (GPU path: efSearch maps to CAGRA's itopk_size)."""
        return self._engine.hnsw_params()


class IndexHNSWFlat(IndexHNSW):
    """Graph index. CPU: faiss HNSW. GPU path: cuVS CAGRA (graph degree 2*M), with deletes."""

    __slots__ = ()

    def __init__(
        self, d: int = 0, M: int = 32, metric: int = METRIC_L2, *, device: str | None = None
    ) -> None:
        d, M, metric = int(d), int(M), int(metric)
        self._place(
            device,
            lambda: _faiss().IndexHNSWFlat(d, M, metric),
            lambda b: GpuEngine(b, "cagra", d, metric, cpu_shape="IndexHNSWFlat", hnsw_m=M),
        )


# --- IDMap ---------------------------------------------------------------------------------
class IndexIDMap(Index):
    """Adds user ids to an index (``add_with_ids``); ids survive ``remove_ids``."""

    __slots__ = ()
    _takes_ids = True

    def _native_refs(self, native: Any) -> list[Index]:
        return [wrap_faiss(native.index, self._placement)]

    def _share_engine(self, like: Index) -> None:
        sub = object.__new__(type(like._refs[0]))
        sub._setup(self._engine, self._placement)
        self._engine.label = type(self).__name__
        self._refs.append(sub)

    def __init__(self, index: Any) -> None:
        sub = index if isinstance(index, Index) else wrap_faiss(index)
        if sub.ntotal:
            raise RuntimeError(f"{type(self).__name__}: the wrapped index must be empty")
        # on the GPU path the wrapper shares the sub-index's engine; on the CPU, faiss wraps it
        engine = sub._engine.with_id_map(isinstance(self, IndexIDMap2), type(self).__name__)
        self._setup(engine, sub._placement)
        self._refs.append(sub)

    @property
    def index(self) -> Index:
        return self._refs[0]

    @property
    def id_map(self) -> Any:
        return self._engine.id_map()

    def add(self, x: Any) -> None:
        raise RuntimeError("add does not make sense with IndexIDMap, use add_with_ids")

    def add_with_ids(self, x: Any, ids: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        ids = _checks.as_ids(ids, x.shape[0])
        try:
            self._engine.add_with_ids(x, ids)
        except DeviceOutOfMemory as exc:
            self._leave_device(exc)
            if not exc.applied:
                self._engine.add_with_ids(x, ids)


class IndexIDMap2(IndexIDMap):
    """IndexIDMap that can also ``reconstruct`` by id."""

    __slots__ = ()


def downcast_index(index: Any) -> Any:
    """Our objects are always their most-derived class already; faiss objects get wrapped."""
    return index if isinstance(index, Index) else wrap_faiss(index)


def extract_index_ivf(index: Any) -> IndexIVF:
    """The IVF index inside ``index`` (itself, or under an IDMap)."""
    while True:
        if isinstance(index, IndexIVF):
            return index
        if isinstance(index, IndexIDMap):
            index = index.index
            continue
        raise RuntimeError(f"{type(index).__name__} is not an IVF index")
