"""Moving indexes between the CPU (faiss-cpu objects) and the GPU path (GpuState)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector import _placement
from vector._index import (
    Index,
    IndexFlat,
    IndexFlatIP,
    IndexFlatL2,
    IndexHNSWFlat,
    IndexIDMap,
    IndexIDMap2,
    IndexIVF,
    IndexIVFFlat,
    IndexIVFPQ,
    _export,
    wrap_faiss,
)
from vector._placement import Placement

__all__ = ["place", "to_cpu", "to_gpu_path"]


def _faiss_inner(index: Index) -> Any:
    """An empty faiss-cpu index with the same type and parameters as GPU-path ``index``."""
    from vector._cpu import faiss

    state = index._gpu
    assert state is not None
    shape = index.index if isinstance(index, IndexIDMap) else index
    d, metric = state.d, state.metric
    if state.kind == "flat":
        if type(shape) is IndexFlatL2:
            return faiss.IndexFlatL2(d)
        if type(shape) is IndexFlatIP:
            return faiss.IndexFlatIP(d)
        return faiss.IndexFlat(d, metric)
    if state.kind == "cagra":
        out = faiss.IndexHNSWFlat(d, state.hnsw_m, metric)
        out.hnsw.efSearch = state.ef_search
        out.hnsw.efConstruction = state.ef_construction
        return out
    quantizer = faiss.IndexFlat(d, metric)
    if state.kind == "ivf_flat":
        out = faiss.IndexIVFFlat(quantizer, d, state.nlist, metric)
        centers = state.centers()
        if centers is not None:
            # the same coarse centroids, so every vector lands in the list cuVS put it in
            quantizer.add(centers)
            out.is_trained = True
    else:
        out = faiss.IndexIVFPQ(quantizer, d, state.nlist, state.pq_m, state.pq_bits, metric)
        if state._train_sample is not None:
            out.train(state._train_sample)  # PQ codebooks are re-trained on the CPU
    out.nprobe = state.nprobe
    return out


def to_cpu(index: Index) -> Index:
    """A faiss-cpu copy of ``index`` (``index`` itself when it is already on the CPU)."""
    if index._gpu is None:
        return index
    from vector._cpu import faiss

    vectors, labels = _export(index)
    inner = _faiss_inner(index)
    if isinstance(index, IndexIDMap):
        cls = faiss.IndexIDMap2 if isinstance(index, IndexIDMap2) else faiss.IndexIDMap
        out = cls(inner)
        out.add_with_ids(vectors, labels)
    elif isinstance(index, IndexIVF):
        inner.add_with_ids(vectors, labels)
        out = inner
    else:
        if not np.array_equal(labels, np.arange(labels.size)):
            raise RuntimeError(
                f"{type(index).__name__} had ids removed on the GPU, so its ids are no longer "
                "0..ntotal-1 and faiss-cpu cannot represent it; wrap it in IndexIDMap2 instead"
            )
        inner.add(vectors)
        out = inner
    return wrap_faiss(out, Placement("cpu", f"copied from the {index.device} path"))


def _empty_like(index: Index, device: str) -> Index:
    """An empty GPU-path index shaped like CPU ``index``; NotImplementedError if none fits."""
    cpu = index._cpu
    if isinstance(index, IndexIDMap):
        sub = _empty_like(index.index, device)
        return type(index)(sub)
    if type(index) in (IndexFlatL2, IndexFlatIP):
        return type(index)(index.d, device=device)
    if type(index) is IndexFlat:
        return IndexFlat(index.d, index.metric_type, device=device)
    if type(index) is IndexHNSWFlat:
        out = IndexHNSWFlat(
            index.d, int(cpu.hnsw.nb_neighbors(1)), index.metric_type, device=device
        )
        out.hnsw.efSearch = int(cpu.hnsw.efSearch)
        out.hnsw.efConstruction = int(cpu.hnsw.efConstruction)
        return out
    if type(index) is IndexIVFFlat:
        out_ivf = IndexIVFFlat(None, index.d, int(cpu.nlist), index.metric_type, device=device)
        out_ivf.nprobe = int(cpu.nprobe)
        return out_ivf
    if type(index) is IndexIVFPQ:
        raise NotImplementedError(
            "IndexIVFPQ cannot move to the GPU: the CPU index keeps only PQ codes, "
            "not the vectors cuVS needs"
        )
    raise NotImplementedError(f"{type(index).__name__} has no GPU (cuVS) equivalent")


def to_gpu_path(index: Index, placement: Placement) -> Index:
    """A GPU-path copy of CPU ``index``; falls back to ``index`` itself (with a reason) if needed."""
    if index._gpu is not None:
        return index
    try:
        out = _empty_like(index, placement.device)
        if out._gpu is None:  # the constructor already fell back
            return out if out.fallback_reason else index
        vectors, labels = _export(index)
        if isinstance(out, IndexIVF):
            quantizer = index._cpu.quantizer
            train = (
                vectors
                if vectors.shape[0] >= out.nlist
                else quantizer.reconstruct_n(0, quantizer.ntotal)
            )
            if train.shape[0] >= out.nlist:
                out.train(train)
        if vectors.shape[0]:
            if isinstance(out, (IndexIDMap, IndexIVF)):
                out.add_with_ids(vectors, labels)
            else:
                out.add(vectors)
        return out
    except NotImplementedError as exc:
        fell = _placement.fallback(type(index).__name__, str(exc))
        index._set_placement(fell)
        return index


def place(index: Index, device: str | None) -> Index:
    """Put a freshly loaded CPU index where the resolver says new indexes go."""
    placement = _placement.resolve(device)
    if not placement.on_gpu_path:
        index._set_placement(placement)
        return index
    return to_gpu_path(index, placement)
