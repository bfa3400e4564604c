"""A host-memory stand-in for cuVS (``ACCEL_DEVICE=simulated``): same call shapes, NumPy arrays.

It lets the GPU path (ids, tombstone bitsets, buffered adds, batching, CAGRA's uint32 sentinel
and ``k <= itopk_size`` rule) run and be tested without a GPU. The algorithms underneath are
faiss-cpu's (IVF-Flat, IVF-PQ, HNSW for CAGRA) and NumPy brute force, so recall here says
nothing about cuVS's recall. Bytes copied "to the device" are counted in :data:`STATS`.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from vector._cpu import faiss
from vector._gpu import Binding

__all__ = ["BINDING", "STATS"]

STATS = {"to_device_bytes": 0, "to_host_bytes": 0, "builds": 0, "extends": 0, "searches": 0}
_NO_ROW = np.iinfo(np.uint32).max
_METRIC = {"sqeuclidean": faiss.METRIC_L2, "inner_product": faiss.METRIC_INNER_PRODUCT}


def _to_device(x: Any) -> np.ndarray:
    out = np.array(x, copy=True)
    STATS["to_device_bytes"] += out.nbytes
    return out


def _to_host(x: Any) -> np.ndarray:
    out = np.array(x, copy=True)
    STATS["to_host_bytes"] += out.nbytes
    return out


class _Filter:
    def __init__(self, bitset: np.ndarray) -> None:
        self.bitset = np.ascontiguousarray(bitset, dtype=np.uint32)

    def keep(self, n_rows: int) -> np.ndarray:
        bits = np.unpackbits(self.bitset.view(np.uint8), bitorder="little").astype(bool)
        return bits[:n_rows]

    def faiss_selector(self) -> Any:
        packed = self.bitset.view(np.uint8)
        return faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed)), packed


def _params(**defaults: Any) -> type:
    class Params(SimpleNamespace):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            values = dict(defaults)
            if args:
                values[next(iter(defaults))] = args[0]
            values.update(kwargs)
            super().__init__(**values)

    return Params


# --- brute_force --------------------------------------------------------------------------
class _BruteForceIndex:
    def __init__(self, dataset: np.ndarray, metric: str) -> None:
        self.dataset, self.metric = dataset, metric


def _bf_build(
    dataset: Any, metric: str = "sqeuclidean", metric_arg: float = 2.0, resources: Any = None
) -> Any:
    STATS["builds"] += 1
    return _BruteForceIndex(np.asarray(dataset, dtype=np.float32), metric)


def _bf_search(
    index: _BruteForceIndex,
    queries: Any,
    k: int,
    neighbors: Any = None,
    distances: Any = None,
    resources: Any = None,
    prefilter: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    STATS["searches"] += 1
    data, q = index.dataset, np.asarray(queries, dtype=np.float32)
    if k > data.shape[0]:
        raise ValueError(f"k={k} is larger than the dataset ({data.shape[0]} rows)")
    if index.metric == "sqeuclidean":
        # Expanded form, as GPU GEMM-based brute force computes it (not exact for x == y).
        score = (q * q).sum(1)[:, None] + (data * data).sum(1)[None, :] - 2 * q @ data.T
    else:
        score = -(q @ data.T)
    if prefilter is not None:
        score = np.where(prefilter.keep(data.shape[0])[None, :], score, np.inf)
    top = np.argsort(score, axis=1, kind="stable")[:, :k]
    dist = np.take_along_axis(score, top, 1)
    rows = np.where(np.isinf(dist), data.shape[0], top).astype(np.int64)
    return (dist if index.metric == "sqeuclidean" else -dist).astype(np.float32), rows


brute_force = SimpleNamespace(build=_bf_build, search=_bf_search)
filters = SimpleNamespace(from_bitset=_Filter)


# --- ivf_flat / ivf_pq (faiss IVF as the stand-in; ids are the rows cuVS would store) -----
class _IvfIndex:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def centers(self) -> np.ndarray:
        return self.inner.quantizer.reconstruct_n(0, self.inner.nlist)


def _ivf_module(kind: str) -> SimpleNamespace:
    index_params = _params(
        n_lists=1024, metric="sqeuclidean", pq_dim=0, pq_bits=8, add_data_on_build=True
    )

    def build(params: Any, dataset: Any, resources: Any = None) -> _IvfIndex:
        STATS["builds"] += 1
        x = np.asarray(dataset, dtype=np.float32)
        d, metric = x.shape[1], _METRIC[params.metric]
        quantizer = faiss.IndexFlat(d, metric)
        if kind == "ivf_flat":
            inner = faiss.IndexIVFFlat(quantizer, d, params.n_lists, metric)
        else:
            inner = faiss.IndexIVFPQ(
                quantizer, d, params.n_lists, params.pq_dim, params.pq_bits, metric
            )
        inner.train(x)
        if params.add_data_on_build:
            inner.add_with_ids(x, np.arange(x.shape[0], dtype=np.int64))
        return _IvfIndex(inner)

    def extend(
        index: _IvfIndex, new_vectors: Any, new_indices: Any, resources: Any = None
    ) -> _IvfIndex:
        STATS["extends"] += 1
        index.inner.add_with_ids(
            np.asarray(new_vectors, dtype=np.float32), np.asarray(new_indices, dtype=np.int64)
        )
        return index

    def search(
        params: Any,
        index: _IvfIndex,
        queries: Any,
        k: int,
        neighbors: Any = None,
        distances: Any = None,
        resources: Any = None,
        filter: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        STATS["searches"] += 1
        sp = faiss.SearchParametersIVF()
        sp.nprobe = int(params.n_probes)
        keep: Any = None
        if filter is not None:
            sp.sel, keep = filter.faiss_selector()
        dist, rows = index.inner.search(np.asarray(queries, dtype=np.float32), k, params=sp)
        del keep
        return dist, rows

    namespace = SimpleNamespace(
        IndexParams=index_params,
        SearchParams=_params(n_probes=20),
        build=build,
        extend=extend,
    )
    if kind == "ivf_flat":
        namespace.search = search
    else:
        # cuVS's Python IVF-PQ search takes no filter argument.
        def search_pq(
            params: Any,
            index: _IvfIndex,
            queries: Any,
            k: int,
            neighbors: Any = None,
            distances: Any = None,
            resources: Any = None,
        ) -> Any:
            return search(params, index, queries, k)

        namespace.search = search_pq
    return namespace


ivf_flat = _ivf_module("ivf_flat")
ivf_pq = _ivf_module("ivf_pq")


# --- cagra (faiss HNSW as the graph stand-in; uint32 rows, k <= itopk_size) ---------------
class _CagraIndex:
    def __init__(self, inner: Any) -> None:
        self.inner = inner


def _cagra_build(params: Any, dataset: Any, resources: Any = None) -> _CagraIndex:
    STATS["builds"] += 1
    x = np.asarray(dataset, dtype=np.float32)
    inner = faiss.IndexHNSWFlat(
        x.shape[1], max(4, params.graph_degree // 2), _METRIC[params.metric]
    )
    inner.hnsw.efConstruction = max(40, params.intermediate_graph_degree)
    inner.add(x)
    return _CagraIndex(inner)


def _cagra_extend(
    params: Any, index: _CagraIndex, additional_dataset: Any, resources: Any = None
) -> None:
    STATS["extends"] += 1
    index.inner.add(np.asarray(additional_dataset, dtype=np.float32))


def _cagra_search(
    params: Any,
    index: _CagraIndex,
    queries: Any,
    k: int,
    neighbors: Any = None,
    distances: Any = None,
    resources: Any = None,
    filter: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    STATS["searches"] += 1
    if k > params.itopk_size:
        raise ValueError(f"topk = {k} must be smaller than itopk_size = {params.itopk_size}")
    sp = faiss.SearchParametersHNSW()
    sp.efSearch = int(params.itopk_size)
    keep: Any = None
    if filter is not None:
        sp.sel, keep = filter.faiss_selector()
    dist, rows = index.inner.search(np.asarray(queries, dtype=np.float32), k, params=sp)
    del keep
    return dist, np.where(rows < 0, _NO_ROW, rows).astype(np.uint32)


cagra = SimpleNamespace(
    IndexParams=_params(
        metric="sqeuclidean", intermediate_graph_degree=128, graph_degree=64, build_algo="ivf_pq"
    ),
    SearchParams=_params(max_queries=0, itopk_size=64),
    ExtendParams=_params(max_chunk_size=None),
    build=_cagra_build,
    extend=_cagra_extend,
    search=_cagra_search,
)

BINDING = Binding(
    name="simulated cuVS",
    xp=np,
    brute_force=brute_force,
    ivf_flat=ivf_flat,
    ivf_pq=ivf_pq,
    cagra=cagra,
    filters=filters,
    to_device=_to_device,
    to_host=_to_host,
    as_array=np.asarray,
    free_bytes=lambda: 8 << 30,
    oom_errors=(MemoryError,),
)
