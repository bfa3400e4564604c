"""A host-memory stand-in for cuVS (``ACCEL_DEVICE=simulated``): cuVS's call shapes on accel's simulated device.

It lets the GPU path (ids, tombstone bitsets, buffered adds, batching, CAGRA's uint32 sentinel
and ``k <= itopk_size`` rule) run and be tested without a GPU. Its ``xp`` is accel's stand-in
for CuPy: device arrays that refuse implicit conversion to NumPy, so a missed transfer fails
here as it would on a GPU. Where cuVS is importable (it is without a GPU), the parameter
classes are cuVS's own and every call is bound against the real function's signature, so an
API drift fails the ``rapids`` tier; without it, local copies of the cuVS 26.10 shapes stand in.
The algorithms underneath are faiss-cpu's (IVF-Flat, IVF-PQ, HNSW for CAGRA) and NumPy brute
force, so recall here says nothing about cuVS's recall. Bytes copied "to the device" are
counted in :data:`STATS`; the card's memory and its pools are modelled by :data:`MEMORY`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

from accel.simulated import SimArray, make_namespace
from vector._cuvs_sim_memory import MEMORY, SimMemory
from vector._faiss import faiss
from vector._gpu.binding import Binding
from vector._gpu.ivf_pq import PQ_BITS
from vector._gpu.memory import available_bytes

__all__ = ["BINDING", "MEMORY", "STATS", "SimCuvsError", "SimMemory", "real_cuvs"]

STATS = {"to_device_bytes": 0, "to_host_bytes": 0, "builds": 0, "extends": 0, "searches": 0}
_NO_ROW = np.iinfo(np.uint32).max
_METRIC = {"sqeuclidean": faiss.METRIC_L2, "inner_product": faiss.METRIC_INNER_PRODUCT}
xp = make_namespace()


class SimCuvsError(RuntimeError):
    """Stands in for ``cuvs.common.exceptions.CuvsException`` where cuVS is not installed."""


@functools.cache
def real_cuvs() -> SimpleNamespace | None:
    """The installed cuVS modules (importable without a GPU), or None."""
    try:
        from cuvs.common.exceptions import CuvsException
        from cuvs.neighbors import brute_force, cagra, filters, ivf_flat, ivf_pq
    except ImportError:
        return None
    return SimpleNamespace(
        error=CuvsException,
        brute_force=brute_force,
        cagra=cagra,
        filters=filters,
        ivf_flat=ivf_flat,
        ivf_pq=ivf_pq,
    )


def _error() -> type[Exception]:
    real = real_cuvs()
    return real.error if real is not None else SimCuvsError


def _read(x: Any, what: str) -> np.ndarray:
    """What a kernel sees of a device array. Stricter than cuVS, whose builds also take host
    arrays: the GPU path always hands device arrays, so a NumPy array here is a missed copy."""
    if not isinstance(x, SimArray):
        raise TypeError(f"{what}: expected a device array, got {type(x).__name__}")
    return x.get()


def _local_params(name: str, **defaults: Any) -> type:
    """A keyword-only parameter class with cuVS's defaults (used when cuVS is not installed)."""

    def __init__(self: Any, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown:
            raise TypeError(f"__init__() got an unexpected keyword argument {unknown[0]!r}")
        for key, value in {**defaults, **kwargs}.items():
            setattr(self, key, value)

    return type(name, (), {"__init__": __init__, "__slots__": tuple(defaults)})


def _check_params(params: Any, cls: type, what: str) -> None:
    # cuVS's Cython functions type their params argument: anything else is a TypeError.
    if not isinstance(params, cls):
        raise TypeError(f"{what}: Argument 'params' has incorrect type (expected {cls.__name__})")


# --- brute_force --------------------------------------------------------------------------
class _BruteForceIndex:
    def __init__(self, dataset: np.ndarray, metric: str) -> None:
        self.dataset, self.metric = dataset, metric


def _bf_build(
    dataset: Any, metric: str = "sqeuclidean", metric_arg: float = 2.0, resources: Any = None
) -> Any:
    STATS["builds"] += 1
    return _BruteForceIndex(_read(dataset, "brute_force.build").astype(np.float32), metric)


def _bf_search(
    index: _BruteForceIndex,
    queries: Any,
    k: int,
    neighbors: Any = None,
    distances: Any = None,
    resources: Any = None,
    prefilter: Any = None,
) -> tuple[SimArray, SimArray]:
    STATS["searches"] += 1
    data, q = index.dataset, _read(queries, "brute_force.search").astype(np.float32)
    if k > data.shape[0]:
        raise _error()(f"k={k} is larger than the dataset ({data.shape[0]} rows)")
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
    dist = (dist if index.metric == "sqeuclidean" else -dist).astype(np.float32)
    return SimArray(dist), SimArray(rows)


class _Filter:
    def __init__(self, bitset: Any) -> None:
        words = _read(bitset, "filters.from_bitset")
        if words.dtype != np.uint32:
            raise TypeError(f"filters.from_bitset: bitset must be uint32, got {words.dtype}")
        self.bitset = np.ascontiguousarray(words)

    def keep(self, n_rows: int) -> np.ndarray:
        bits = np.unpackbits(self.bitset.view(np.uint8), bitorder="little").astype(bool)
        return bits[:n_rows]

    def faiss_selector(self) -> Any:
        packed = self.bitset.view(np.uint8)
        return faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed)), packed


def _from_bitset(bitset: Any) -> _Filter:
    return _Filter(bitset)


def _faiss_search(inner: Any, queries: Any, k: int, sp: Any, flt: Any, what: str) -> Any:
    keep: Any = None
    if flt is not None:
        sp.sel, keep = flt.faiss_selector()
    dist, rows = inner.search(_read(queries, what).astype(np.float32), k, params=sp)
    del keep  # the bitmap the selector points into lives until here
    return dist, rows


# --- ivf_flat / ivf_pq (faiss IVF as the stand-in; ids are the rows cuVS would store) -----
class _IvfIndex:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def centers(self) -> SimArray:
        return SimArray(self.inner.quantizer.reconstruct_n(0, self.inner.nlist))

    def __len__(self) -> int:
        return int(self.inner.ntotal)


def _ivf_module(kind: str, real: Any) -> SimpleNamespace:
    if real is not None:
        index_cls, search_cls = real.IndexParams, real.SearchParams
    elif kind == "ivf_flat":
        index_cls = _local_params(
            "IndexParams", n_lists=1024, metric="sqeuclidean", add_data_on_build=True
        )
        search_cls = _local_params("SearchParams", n_probes=20)
    else:
        index_cls = _local_params(
            "IndexParams",
            n_lists=1024,
            metric="sqeuclidean",
            pq_bits=8,
            pq_dim=0,
            add_data_on_build=True,
        )
        search_cls = _local_params("SearchParams", n_probes=20)

    def build(index_params: Any, dataset: Any, resources: Any = None) -> _IvfIndex:
        _check_params(index_params, index_cls, f"{kind}.build")
        STATS["builds"] += 1
        x = _read(dataset, f"{kind}.build").astype(np.float32)
        d, metric = x.shape[1], _METRIC[index_params.metric]
        quantizer = faiss.IndexFlat(d, metric)
        if kind == "ivf_flat":
            inner = faiss.IndexIVFFlat(quantizer, d, index_params.n_lists, metric)
        else:
            bits, pq_dim = int(index_params.pq_bits), int(index_params.pq_dim)
            # What cuVS's C++ build refuses (faiss takes wider codes).
            if not PQ_BITS[0] <= bits <= PQ_BITS[1]:
                raise _error()(f"`pq_bits` must be within closed range [4,8], but got {bits}.")
            if (pq_dim * bits) % 8:
                raise _error()(f"`pq_dim * pq_bits` must be a multiple of 8 ({pq_dim}x{bits})")
            inner = faiss.IndexIVFPQ(quantizer, d, index_params.n_lists, pq_dim, bits, metric)
        inner.train(x)
        if index_params.add_data_on_build:
            inner.add_with_ids(x, np.arange(x.shape[0], dtype=np.int64))
        return _IvfIndex(inner)

    def extend(
        index: _IvfIndex, new_vectors: Any, new_indices: Any, resources: Any = None
    ) -> _IvfIndex:
        STATS["extends"] += 1
        ids = _read(new_indices, f"{kind}.extend")
        if ids.dtype != np.int64:
            raise TypeError(f"{kind}.extend: new_indices must be int64, got {ids.dtype}")
        index.inner.add_with_ids(_read(new_vectors, f"{kind}.extend").astype(np.float32), ids)
        return index

    def search_ivf(
        search_params: Any,
        index: _IvfIndex,
        queries: Any,
        k: int,
        neighbors: Any = None,
        distances: Any = None,
        resources: Any = None,
        filter: Any = None,
    ) -> tuple[SimArray, SimArray]:
        _check_params(search_params, search_cls, f"{kind}.search")
        STATS["searches"] += 1
        sp = faiss.SearchParametersIVF()
        sp.nprobe = int(search_params.n_probes)
        dist, rows = _faiss_search(index.inner, queries, k, sp, filter, f"{kind}.search")
        return SimArray(dist), SimArray(rows)

    # cuVS's Python IVF-PQ search takes no filter argument.
    def search_pq(
        search_params: Any,
        index: _IvfIndex,
        queries: Any,
        k: int,
        neighbors: Any = None,
        distances: Any = None,
        resources: Any = None,
    ) -> tuple[SimArray, SimArray]:
        return search_ivf(search_params, index, queries, k)

    return SimpleNamespace(
        IndexParams=index_cls,
        SearchParams=search_cls,
        build=build,
        extend=extend,
        search=search_ivf if kind == "ivf_flat" else search_pq,
    )


# --- cagra (faiss HNSW as the graph stand-in; uint32 rows, k <= itopk_size) ---------------
class _CagraIndex:
    def __init__(self, inner: Any, dataset: Any) -> None:
        self.inner = inner
        self.dataset = dataset  # cuVS's index reads the caller's array: it must stay alive

    def __len__(self) -> int:
        return int(self.inner.ntotal)


def _cagra_module(real: Any) -> SimpleNamespace:
    if real is not None:
        index_cls, search_cls = real.IndexParams, real.SearchParams
        extend_cls = real.ExtendParams
    else:
        index_cls = _local_params(
            "IndexParams",
            metric="sqeuclidean",
            intermediate_graph_degree=128,
            graph_degree=64,
            build_algo="ivf_pq",
        )
        search_cls = _local_params("SearchParams", max_queries=0, itopk_size=64)
        extend_cls = _local_params("ExtendParams", max_chunk_size=None)

    def build(index_params: Any, dataset: Any, resources: Any = None) -> _CagraIndex:
        _check_params(index_params, index_cls, "cagra.build")
        STATS["builds"] += 1
        x = _read(dataset, "cagra.build").astype(np.float32)
        inner = faiss.IndexHNSWFlat(
            x.shape[1], max(4, index_params.graph_degree // 2), _METRIC[index_params.metric]
        )
        inner.hnsw.efConstruction = max(40, index_params.intermediate_graph_degree)
        inner.add(x)
        return _CagraIndex(inner, dataset)

    def extend(
        params: Any,
        index: _CagraIndex,
        extended_dataset: Any,
        new_start_row: int,
        resources: Any = None,
    ) -> _CagraIndex:
        _check_params(params, extend_cls, "cagra.extend")
        STATS["extends"] += 1
        x = _read(extended_dataset, "cagra.extend").astype(np.float32)
        # cuVS 26.10: the caller passes old || new rows; new ones start at the index's size.
        if int(new_start_row) != len(index) or x.shape[0] <= len(index):
            raise _error()(
                f"cagra.extend: new_start_row={new_start_row} must equal the index size "
                f"{len(index)} and the dataset ({x.shape[0]} rows) must hold the new rows after it"
            )
        index.inner.add(x[int(new_start_row) :])
        index.dataset = extended_dataset
        return index

    def search(
        search_params: Any,
        index: _CagraIndex,
        queries: Any,
        k: int,
        neighbors: Any = None,
        distances: Any = None,
        resources: Any = None,
        filter: Any = None,
    ) -> tuple[SimArray, SimArray]:
        _check_params(search_params, search_cls, "cagra.search")
        STATS["searches"] += 1
        itopk = int(search_params.itopk_size)
        if k > itopk:
            raise _error()(f"topk = {k} must be smaller than itopk_size = {itopk}")
        sp = faiss.SearchParametersHNSW()
        sp.efSearch = itopk
        dist, rows = _faiss_search(index.inner, queries, k, sp, filter, "cagra.search")
        return SimArray(dist), SimArray(np.where(rows < 0, _NO_ROW, rows).astype(np.uint32))

    return SimpleNamespace(
        IndexParams=index_cls,
        SearchParams=search_cls,
        ExtendParams=extend_cls,
        build=build,
        extend=extend,
        search=search,
    )


#: The functions the GPU path calls, per cuVS module (each bound to cuVS's signature).
FUNCTIONS = {
    "brute_force": ("build", "search"),
    "ivf_flat": ("build", "extend", "search"),
    "ivf_pq": ("build", "extend", "search"),
    "cagra": ("build", "extend", "search"),
    "filters": ("from_bitset",),
}


def _bound_to(sim: Callable[..., Any], real: Callable[..., Any]) -> Callable[..., Any]:
    """``sim`` called only as ``real`` may be called: a call cuVS would refuse is a TypeError."""
    signature = inspect.signature(real)

    @functools.wraps(sim)
    def call(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        return sim(*bound.args, **bound.kwargs)

    call.__signature__ = signature  # type: ignore[attr-defined]
    return call


def _modules() -> dict[str, SimpleNamespace]:
    real = real_cuvs()
    modules = {
        "brute_force": SimpleNamespace(build=_bf_build, search=_bf_search),
        "ivf_flat": _ivf_module("ivf_flat", real and real.ivf_flat),
        "ivf_pq": _ivf_module("ivf_pq", real and real.ivf_pq),
        "cagra": _cagra_module(real and real.cagra),
        "filters": SimpleNamespace(from_bitset=_from_bitset),
    }
    if real is not None:
        for module, names in FUNCTIONS.items():
            for name in names:
                sim_fn = getattr(modules[module], name)
                setattr(
                    modules[module], name, _bound_to(sim_fn, getattr(getattr(real, module), name))
                )
    return modules


def _to_device(x: Any) -> SimArray:
    out = xp.asarray(x)
    STATS["to_device_bytes"] += out.nbytes
    return out


def _to_host(x: Any) -> np.ndarray:
    out = xp.asnumpy(x)
    STATS["to_host_bytes"] += out.nbytes
    return out


def _free_bytes() -> int:
    return available_bytes(
        MEMORY.driver_free(), MEMORY.total_bytes, MEMORY.cupy_pool, MEMORY.rmm_resource
    )


_MODULES = _modules()
BINDING = Binding(
    name="simulated cuVS",
    xp=xp,
    brute_force=_MODULES["brute_force"],
    ivf_flat=_MODULES["ivf_flat"],
    ivf_pq=_MODULES["ivf_pq"],
    cagra=_MODULES["cagra"],
    filters=_MODULES["filters"],
    to_device=_to_device,
    to_host=_to_host,
    as_array=xp.asarray,
    free_bytes=_free_bytes,
    oom_errors=(MemoryError,),  # accel's simulated OutOfMemoryError is one
    library_errors=(_error(),),
    is_oom=lambda exc: "out of memory" in str(exc).lower(),
    device="simulated",
)
