"""Engine <-> engine: a faiss-cpu index for a GPU-path engine, an empty GPU engine for a faiss one."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector._cpu import CpuEngine
from vector._gpu import GpuEngine
from vector._gpu.cagra import Cagra
from vector._gpu.flat import Flat
from vector._gpu.ivf_flat import IvfFlat
from vector._gpu.ivf_pq import IvfPq

__all__ = ["empty_gpu_like", "to_faiss"]


def _faiss() -> Any:
    from vector._faiss import faiss

    return faiss


def _empty_faiss(engine: GpuEngine) -> Any:
    """An empty faiss-cpu index with the same type and parameters as ``engine``'s kind."""
    faiss, strategy = _faiss(), engine.strategy
    d, metric = engine.d, engine.metric_type
    if isinstance(strategy, Flat):
        if engine.cpu_shape in ("IndexFlatL2", "IndexFlatIP"):
            return getattr(faiss, engine.cpu_shape)(d)
        return faiss.IndexFlat(d, metric)
    if isinstance(strategy, Cagra):
        out = faiss.IndexHNSWFlat(d, strategy.hnsw_m, metric)
        out.hnsw.efSearch = engine.ef_search
        out.hnsw.efConstruction = engine.ef_construction
        return out
    assert isinstance(strategy, IvfFlat)
    quantizer = faiss.IndexFlat(d, metric)
    if isinstance(strategy, IvfPq):
        out = faiss.IndexIVFPQ(
            quantizer, d, strategy.nlist, strategy.pq_m, strategy.pq_bits, metric
        )
        if strategy.train_sample is not None:
            out.train(strategy.train_sample)  # PQ codebooks are re-trained on the CPU
    else:
        out = faiss.IndexIVFFlat(quantizer, d, strategy.nlist, metric)
        centers = strategy.centers()
        if centers is not None:
            # the same coarse centroids, so every vector lands in the list cuVS put it in
            quantizer.add(centers)
            out.is_trained = True
    out.nprobe = engine.nprobe
    return out


def to_faiss(engine: GpuEngine) -> Any:
    """A faiss-cpu index holding what GPU-path ``engine`` holds (its live vectors and ids)."""
    vectors, labels = engine.export()
    inner = _empty_faiss(engine)
    if engine.id_map_kind is not None:
        out = getattr(_faiss(), engine.id_map_kind)(inner)
        out.add_with_ids(vectors, labels)
        return out
    if engine.strategy.takes_ids:
        inner.add_with_ids(vectors, labels)
        return inner
    if not np.array_equal(labels, np.arange(labels.size)):
        raise RuntimeError(
            f"{engine.label} had ids removed on the GPU, so its ids are no longer "
            "0..ntotal-1 and faiss-cpu cannot represent it; wrap it in IndexIDMap2 instead"
        )
    inner.add(vectors)
    return inner


def empty_gpu_like(native: Any, binding: Any, label: str) -> GpuEngine:
    """An empty GPU-path engine shaped like faiss-cpu index ``native``.

    Raises NotImplementedError when cuVS has no equivalent (the caller records a fallback).
    """
    faiss = _faiss()
    if isinstance(native, faiss.IndexIDMap):
        inner = faiss.downcast_index(native.index)
        two = isinstance(native, faiss.IndexIDMap2)
        return empty_gpu_like(inner, binding, label).with_id_map(two, label)
    name, d, metric = type(native).__name__, int(native.d), int(native.metric_type)
    if name in ("IndexFlat", "IndexFlatL2", "IndexFlatIP"):
        return GpuEngine(binding, "flat", d, metric, cpu_shape=name)
    if name == "IndexHNSWFlat":
        hnsw = native.hnsw
        engine = GpuEngine(binding, "cagra", d, metric, cpu_shape=name, hnsw_m=hnsw.nb_neighbors(1))
        engine.ef_search = int(hnsw.efSearch)
        engine.ef_construction = int(hnsw.efConstruction)
        return engine
    if name == "IndexIVFFlat":
        engine = GpuEngine(binding, "ivf_flat", d, metric, cpu_shape=name, nlist=int(native.nlist))
        engine.nprobe = int(native.nprobe)
        return engine
    if name == "IndexIVFPQ":
        raise NotImplementedError(
            "IndexIVFPQ cannot move to the GPU: the CPU index keeps only PQ codes, "
            "not the vectors cuVS needs"
        )
    raise NotImplementedError(f"{label} has no GPU (cuVS) equivalent")


def to_cpu_engine(engine: GpuEngine) -> CpuEngine:
    """:func:`to_faiss` as an engine."""
    return CpuEngine(to_faiss(engine), engine.label)
