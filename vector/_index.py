"""The FAISS-named index classes. Each wraps a faiss-cpu index (CPU) or a GpuState (GPU path)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector import _checks, _placement, _progress
from vector._gpu import GpuState
from vector._params import (
    METRIC_INNER_PRODUCT,
    METRIC_L2,
    IDSelector,
    IDSelectorBatch,
    SearchParameters,
    SearchParametersHNSW,
    SearchParametersIVF,
    to_faiss_params,
    to_faiss_selector,
)
from vector._placement import Placement

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
    "wrap_faiss",
]


def _not_implemented(what: str, index: Index) -> RuntimeError:
    # faiss's own wording, so code matching on "not implemented" keeps working.
    return RuntimeError(f"{what} not implemented for this type of index ({type(index).__name__})")


class Index:
    """Base class of every index. Not constructed directly (as in faiss)."""

    __slots__ = ("__weakref__", "_cpu", "_d", "_gpu", "_placement", "_refs", "_trained_seen")

    _cpu: Any
    _gpu: GpuState | None
    _placement: Placement
    _refs: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("vector.Index is abstract; use IndexFlatL2, IndexIVFFlat, ... instead")

    # --- construction helpers ------------------------------------------------------------
    def _setup(self, cpu: Any, gpu: GpuState | None, placement: Placement) -> None:
        object.__setattr__(self, "_cpu", cpu)
        object.__setattr__(self, "_gpu", gpu)
        object.__setattr__(self, "_placement", placement)
        object.__setattr__(self, "_refs", [])
        # d never changes; reading it through SWIG on every search costs more than the check
        object.__setattr__(self, "_d", int(gpu.d if gpu is not None else cpu.d))
        # Once seen trained, an index stays trained (reset keeps training): skip re-checking.
        object.__setattr__(self, "_trained_seen", False)

    def _set_placement(self, placement: Placement) -> None:
        object.__setattr__(self, "_placement", placement)
        for ref in self._refs:
            if isinstance(ref, Index) and ref._gpu is None and self._gpu is None:
                ref._set_placement(placement)

    def _place(self, device: str | None, make_cpu: Any, make_gpu: Any) -> None:
        """Put a new index on the resolved device; a GPU path that cannot build it falls back."""
        placement = _placement.resolve(device)
        if placement.on_gpu_path:
            try:
                binding = _placement.binding_for(placement)
                state = make_gpu(binding)
            except (ImportError, NotImplementedError) as exc:
                if placement.device == "gpu" and _requested_gpu(device):
                    raise
                placement = _placement.fallback(type(self).__name__, str(exc))
            else:
                self._setup(None, state, placement)
                return
        self._setup(make_cpu(), None, placement)

    # --- where it runs ---------------------------------------------------------------------
    @property
    def device(self) -> str:
        """ "cpu", "gpu" or "simulated" (the GPU code path on a host stand-in)."""
        return self._placement.device

    @property
    def device_reason(self) -> str:
        """Why the index runs where it does (the resolver's answer)."""
        if self._gpu is not None:
            return f"{self._placement.reason}; engine: {self._gpu.describe()}"
        return self._placement.reason

    @property
    def fallback_reason(self) -> str | None:
        """Why this index left the GPU path for the CPU, or None if it did not."""
        return self._placement.fallback_reason

    # --- attributes faiss users read ---------------------------------------------------------
    @property
    def d(self) -> int:
        return self._d

    @property
    def ntotal(self) -> int:
        return int(self._gpu.ntotal if self._gpu is not None else self._cpu.ntotal)

    @property
    def is_trained(self) -> bool:
        return bool(self._gpu.is_trained if self._gpu is not None else self._cpu.is_trained)

    @is_trained.setter
    def is_trained(self, value: bool) -> None:
        object.__setattr__(self, "_trained_seen", False)
        if self._gpu is not None:
            self._gpu.is_trained = bool(value)
        else:
            self._cpu.is_trained = bool(value)

    @property
    def metric_type(self) -> int:
        return int(self._gpu.metric if self._gpu is not None else self._cpu.metric_type)

    @property
    def metric_arg(self) -> float:
        return 0.0 if self._gpu is not None else float(self._cpu.metric_arg)

    @property
    def verbose(self) -> bool:
        return False if self._gpu is not None else bool(self._cpu.verbose)

    @verbose.setter
    def verbose(self, value: bool) -> None:
        if self._cpu is not None:
            self._cpu.verbose = bool(value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: forward faiss-specific attributes on the CPU.
        if name.startswith("_"):
            raise AttributeError(name)
        cpu = object.__getattribute__(self, "_cpu")
        if cpu is not None:
            return getattr(cpu, name)
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}' on the GPU path"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        cpu = getattr(self, "_cpu", None)
        if cpu is not None and not name.startswith("_") and hasattr(cpu, name):
            setattr(cpu, name, value)
            return
        # faiss >= 1.13 also refuses unknown attributes (a typo must not pass silently).
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<vector.{type(self).__name__} d={self.d} ntotal={self.ntotal} on {self.device}>"

    # --- the faiss methods -------------------------------------------------------------------
    def _require_trained(self, what: str) -> None:
        if self._trained_seen:
            return
        if not self.is_trained:
            raise RuntimeError(f"{what}: {type(self).__name__} is not trained; call train(x) first")
        object.__setattr__(self, "_trained_seen", True)

    def _gpu_try(self, op: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Run ``op`` on the GPU path; out of device memory, move this index to the CPU.

        Returns ``(True, result)``, or ``(False, None)`` when the caller must redo the call on
        the CPU (the index is a faiss-cpu one from then on, with ``fallback_reason`` set).
        """
        state = self._gpu
        assert state is not None
        try:
            return True, op(*args, **kwargs)
        except state.b.oom_errors + state.b.library_errors as exc:
            if not isinstance(exc, state.b.oom_errors) and not state.b.is_oom(exc):
                raise
            self._leave_gpu(f"out of GPU memory ({type(exc).__name__}: {exc})")
            return False, None

    def _leave_gpu(self, reason: str) -> None:
        from vector import _convert

        placement = _placement.fallback(type(self).__name__, reason)
        moved = _convert.to_cpu(self)
        object.__setattr__(self, "_cpu", moved._cpu)
        object.__setattr__(self, "_gpu", None)
        object.__setattr__(self, "_refs", moved._refs)
        self._set_placement(placement)

    def _build_estimate(self, phase: str, n: int) -> float:
        """Rough seconds a CPU train/add of ``n`` vectors takes (only to decide on a bar)."""
        if isinstance(self, IndexHNSW) and phase == "add":
            return _progress.estimate_seconds("hnsw", n, self.d)
        if isinstance(self, IndexIVF):
            return _progress.estimate_seconds(f"ivf_{phase}", n, self.d, self.nlist)
        return 0.0

    def train(self, x: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        if self._gpu is not None:
            done, _ = self._gpu_try(self._gpu.train, x)
            if done:
                return
        with _progress.building(
            f"{type(self).__name__}.train", self._build_estimate("train", len(x))
        ):
            self._cpu.train(x)

    def add(self, x: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        self._require_trained("add")
        if self._gpu is not None:
            done, _ = self._gpu_try(self._gpu.add, x, None)
            if done:
                return
        with _progress.building(f"{type(self).__name__}.add", self._build_estimate("add", len(x))):
            self._cpu.add(x)

    def add_with_ids(self, x: Any, ids: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        ids = _checks.as_ids(ids, x.shape[0])
        self._require_trained("add_with_ids")
        if self._gpu is not None:
            if self._gpu.positional and self._gpu.kind != "ivf_flat" and self._gpu.kind != "ivf_pq":
                raise _not_implemented("add_with_ids", self)
            done, _ = self._gpu_try(self._gpu.add, x, ids)
            if done:
                return
        self._cpu.add_with_ids(x, ids)

    def _gpu_search_args(self, params: Any) -> dict[str, Any]:
        if params is None:
            return {}
        if not isinstance(params, SearchParameters):
            raise TypeError(
                "on the GPU path, params must be a vector.SearchParameters* object; "
                f"got {type(params).__name__}"
            )
        args: dict[str, Any] = {"sel": params.sel}
        if isinstance(params, SearchParametersIVF):
            args["nprobe"] = params.nprobe
        if isinstance(params, SearchParametersHNSW):
            args["ef_search"] = params.efSearch
        if args["sel"] is not None and not isinstance(args["sel"], IDSelector):
            raise TypeError("on the GPU path, params.sel must be a vector.IDSelector* object")
        return args

    def search(
        self,
        x: Any,
        k: Any,
        *,
        params: Any = None,
        D: Any = None,
        I: Any = None,  # noqa: E741
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest neighbours of each row of ``x``: ``(D, I)``, float32 and int64.

        Missing results are ``-1`` ids with ``FLT_MAX`` (L2) or ``-FLT_MAX`` (IP) distances; L2
        distances are squared, as in faiss.
        """
        x = _checks.as_matrix(x, self.d)
        k = _checks.as_k(k)
        self._require_trained("search")
        if self._gpu is not None:
            done, found = self._gpu_try(self._gpu.search, x, k, **self._gpu_search_args(params))
            if done:
                dist, ids = found
                if D is not None:
                    D[...] = dist
                    dist = D
                if I is not None:
                    I[...] = ids
                    ids = I
                return dist, ids
        if params is None:
            return self._cpu.search(x, k, D=D, I=I)
        keep: list[Any] = []  # faiss holds raw pointers into these during the call
        return self._cpu.search(x, k, params=to_faiss_params(params, keep), D=D, I=I)

    def assign(self, x: Any, k: Any, labels: Any = None) -> np.ndarray:
        _, ids = self.search(x, k, I=labels)
        return ids

    def range_search(
        self, x: Any, thresh: float, *, params: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All neighbours within ``thresh``: ``(lims, D, I)`` (L2: ``< thresh``, IP: ``> thresh``)."""
        x = _checks.as_matrix(x, self.d)
        self._require_trained("range_search")
        if self._gpu is not None:
            sel = self._gpu_search_args(params).get("sel")
            done, found = self._gpu_try(self._gpu.range_search, x, float(thresh), sel)
            if done:
                return found
        keep: list[Any] = []
        return self._cpu.range_search(x, float(thresh), params=to_faiss_params(params, keep))

    def remove_ids(self, x: Any) -> int:
        """Remove the selected ids (an IDSelector or an array of ids); returns how many went."""
        if self._gpu is not None:
            # Unlike faiss's HNSW, the GPU path supports removal everywhere (tombstones).
            sel = x if isinstance(x, IDSelector) else IDSelectorBatch(x)
            return self._gpu.remove(sel)
        keep: list[Any] = []
        if isinstance(x, IDSelector):
            return int(self._cpu.remove_ids(to_faiss_selector(x, keep)))
        if isinstance(x, (np.ndarray, list, tuple)):
            x = np.ascontiguousarray(x, dtype=np.int64)
        return int(self._cpu.remove_ids(x))

    def reconstruct(self, key: Any, x: Any = None) -> np.ndarray:
        key = int(key)
        if self._gpu is not None:
            if not self._gpu.positional and type(self) is IndexIDMap:
                raise _not_implemented("reconstruct", self)
            out = self._gpu.reconstruct(key)
        else:
            out = self._cpu.reconstruct(key)
        if x is not None:
            x[...] = out
            return x
        return out

    def reconstruct_n(self, n0: int = 0, ni: int = -1, x: Any = None) -> np.ndarray:
        if self._gpu is not None:
            vectors, _ = self._gpu.export()
            ni = vectors.shape[0] - n0 if ni < 0 else ni
            if n0 < 0 or n0 + ni > vectors.shape[0]:
                raise RuntimeError(
                    f"reconstruct_n: range [{n0}, {n0 + ni}) is outside [0, {vectors.shape[0]})"
                )
            out = vectors[n0 : n0 + ni].copy()
        else:
            ni = self._cpu.ntotal - n0 if ni < 0 else ni
            out = self._cpu.reconstruct_n(n0, ni)
        if x is not None:
            x[...] = out
            return x
        return out

    def reconstruct_batch(self, keys: Any, x: Any = None) -> np.ndarray:
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        if self._gpu is not None:
            out = (
                np.stack([self.reconstruct(int(key)) for key in keys])
                if keys.size
                else (np.empty((0, self.d), dtype=np.float32))
            )
        else:
            out = self._cpu.reconstruct_batch(keys)
        if x is not None:
            x[...] = out
            return x
        return out

    def reset(self) -> None:
        if self._gpu is not None:
            self._gpu.reset()
        else:
            self._cpu.reset()

    def merge_from(self, other: Index, add_id: int = 0) -> None:
        """Move every vector of ``other`` into this index (``other`` ends up empty, as in faiss)."""
        if not isinstance(other, Index):
            other = wrap_faiss(other)
        if other.d != self.d:
            raise RuntimeError(f"merge_from: dimensions differ ({other.d} vs {self.d})")
        if self._gpu is None and other._gpu is None:
            self._cpu.merge_from(other._cpu, add_id)
            return
        vectors, labels = _export(other)
        if self._gpu is not None:
            positional = self._gpu.positional and self._gpu.kind not in ("ivf_flat", "ivf_pq")
            self._gpu.add(vectors, None if positional else labels + add_id)
        else:
            if _uses_ids(self):
                self._cpu.add_with_ids(vectors, labels + add_id)
            else:
                self._cpu.add(vectors)
        other.reset()

    def __getstate__(self) -> dict[str, Any]:
        from vector._io import serialize_index

        return {"this": serialize_index(self).tobytes()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from vector._io import deserialize_into

        deserialize_into(self, np.frombuffer(state["this"], dtype=np.uint8))


def _requested_gpu(device: str | None) -> bool:
    """Whether the GPU was asked for explicitly (argument or ACCEL_DEVICE=gpu)."""
    if device is not None:
        return str(device).strip().lower() == "gpu"
    from accel import _device

    return _device.current_config().device == "gpu"


def _uses_ids(index: Index) -> bool:
    return isinstance(index, (IndexIDMap, IndexIVF))


def _export(index: Index) -> tuple[np.ndarray, np.ndarray]:
    """Live vectors and their ids, from either device."""
    if index._gpu is not None:
        return index._gpu.export()
    if isinstance(index, IndexIDMap):
        from vector._cpu import faiss

        ids = faiss.vector_to_array(index._cpu.id_map).astype(np.int64)
        sub = index._cpu.index
        return sub.reconstruct_n(0, sub.ntotal), ids
    if isinstance(index, IndexIVF):
        index._cpu.make_direct_map()
        from vector._cpu import faiss

        invlists = index._cpu.invlists
        ids = np.concatenate(
            [
                faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                for i in range(index._cpu.nlist)
            ]
            or [np.empty(0, dtype=np.int64)]
        )
        ids = np.sort(ids)
        return index._cpu.reconstruct_batch(ids), ids
    n = index._cpu.ntotal
    return index._cpu.reconstruct_n(0, n), np.arange(n, dtype=np.int64)


# --- Flat ----------------------------------------------------------------------------------
class IndexFlat(Index):
    """Exact search. GPU path: cuVS brute force (distances re-computed exactly)."""

    __slots__ = ()

    def __init__(self, d: int = 0, metric: int = METRIC_L2, *, device: str | None = None) -> None:
        self._init_flat(int(d), int(metric), device)

    def _init_flat(self, d: int, metric: int, device: str | None) -> None:
        from vector._cpu import faiss

        def make_cpu() -> Any:
            if type(self) is IndexFlatL2:
                return faiss.IndexFlatL2(d)
            if type(self) is IndexFlatIP:
                return faiss.IndexFlatIP(d)
            return faiss.IndexFlat(d, metric)

        self._place(device, make_cpu, lambda b: GpuState(b, "flat", d, metric))


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

    @property
    def nprobe(self) -> int:
        return int(self._gpu.nprobe if self._gpu is not None else self._cpu.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self._gpu is not None:
            self._gpu.nprobe = int(value)
        else:
            self._cpu.nprobe = int(value)

    @property
    def nlist(self) -> int:
        return int(self._gpu.nlist if self._gpu is not None else self._cpu.nlist)

    @property
    def quantizer(self) -> Any:
        if self._refs:
            return self._refs[0]
        return wrap_faiss(self._cpu.quantizer) if self._cpu is not None else None

    def make_direct_map(self, new_maintain: bool = True) -> None:
        if self._cpu is not None:
            self._cpu.make_direct_map(new_maintain)
        # the GPU path keeps a host copy, so reconstruct always works there

    def set_direct_map_type(self, kind: Any) -> None:
        if self._cpu is not None:
            self._cpu.set_direct_map_type(kind)

    def _init_ivf(
        self,
        quantizer: Any,
        d: int,
        nlist: int,
        metric: int,
        device: str | None,
        make: Any,
        gpu: Any,
    ) -> None:
        def make_cpu() -> Any:
            # a quantizer left on the GPU path cannot serve a faiss-cpu IVF: use a fresh one
            usable = quantizer is not None and not (
                isinstance(quantizer, Index) and quantizer._gpu is not None
            )
            q = as_faiss(quantizer) if usable else None
            if q is None:
                from vector._cpu import faiss

                q = faiss.IndexFlat(d, metric)
            return make(q)

        self._place(device, make_cpu, gpu)
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
        from vector._cpu import faiss

        d, nlist, metric = int(d), int(nlist), int(metric)
        self._init_ivf(
            quantizer,
            d,
            nlist,
            metric,
            device,
            lambda q: faiss.IndexIVFFlat(q, d, nlist, metric),
            lambda b: GpuState(b, "ivf_flat", d, metric, nlist=nlist),
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
        from vector._cpu import faiss

        d, nlist, M, nbits, metric = int(d), int(nlist), int(M), int(nbits), int(metric)
        if M <= 0 or d % M:
            raise RuntimeError(f"IndexIVFPQ: d={d} must be a multiple of M={M}")
        self._init_ivf(
            quantizer,
            d,
            nlist,
            metric,
            device,
            lambda q: faiss.IndexIVFPQ(q, d, nlist, M, nbits, metric),
            lambda b: GpuState(b, "ivf_pq", d, metric, nlist=nlist, pq_m=M, pq_bits=nbits),
        )


# --- HNSW ----------------------------------------------------------------------------------
class _GpuHNSWParams:
    """``index.hnsw`` on the GPU path: efSearch maps to CAGRA's itopk_size."""

    __slots__ = ("_state",)

    def __init__(self, state: GpuState) -> None:
        self._state = state

    @property
    def efSearch(self) -> int:
        return self._state.ef_search

    @efSearch.setter
    def efSearch(self, value: int) -> None:
        self._state.ef_search = int(value)

    @property
    def efConstruction(self) -> int:
        return self._state.ef_construction

    @efConstruction.setter
    def efConstruction(self, value: int) -> None:
        self._state.ef_construction = int(value)


class IndexHNSW(Index):
    __slots__ = ()

    @property
    def hnsw(self) -> Any:
        if self._gpu is not None:
            return _GpuHNSWParams(self._gpu)
        return self._cpu.hnsw


class IndexHNSWFlat(IndexHNSW):
    """Graph index. CPU: faiss HNSW. GPU path: cuVS CAGRA (graph degree 2*M), with deletes."""

    __slots__ = ()

    def __init__(
        self, d: int = 0, M: int = 32, metric: int = METRIC_L2, *, device: str | None = None
    ) -> None:
        from vector._cpu import faiss

        d, M, metric = int(d), int(M), int(metric)
        self._place(
            device,
            lambda: faiss.IndexHNSWFlat(d, M, metric),
            lambda b: GpuState(b, "cagra", d, metric, hnsw_m=M),
        )


# --- IDMap ---------------------------------------------------------------------------------
class IndexIDMap(Index):
    """Adds user ids to an index (``add_with_ids``); ids survive ``remove_ids``."""

    __slots__ = ()

    def __init__(self, index: Any) -> None:
        from vector._cpu import faiss

        sub = index if isinstance(index, Index) else wrap_faiss(index)
        if sub.ntotal:
            raise RuntimeError(f"{type(self).__name__}: the wrapped index must be empty")
        if sub._gpu is not None:
            sub._gpu.positional = False
            self._setup(None, sub._gpu, sub._placement)
        else:
            cls = faiss.IndexIDMap2 if isinstance(self, IndexIDMap2) else faiss.IndexIDMap
            self._setup(cls(sub._cpu), None, sub._placement)
        self._refs.append(sub)

    @property
    def index(self) -> Index:
        return self._refs[0]

    @property
    def id_map(self) -> Any:
        if self._gpu is not None:
            return self._gpu.export()[1]
        return self._cpu.id_map

    def add(self, x: Any) -> None:
        raise RuntimeError("add does not make sense with IndexIDMap, use add_with_ids")

    def add_with_ids(self, x: Any, ids: Any) -> None:
        x = _checks.as_matrix(x, self.d)
        ids = _checks.as_ids(ids, x.shape[0])
        if self._gpu is not None:
            done, _ = self._gpu_try(self._gpu.add, x, ids)
            if done:
                return
        self._cpu.add_with_ids(x, ids)


class IndexIDMap2(IndexIDMap):
    """IndexIDMap that can also ``reconstruct`` by id."""

    __slots__ = ()


# --- wrapping faiss objects ------------------------------------------------------------------
_WRAPPERS: dict[str, type[Index]] = {
    "IndexFlat": IndexFlat,
    "IndexFlatL2": IndexFlatL2,
    "IndexFlatIP": IndexFlatIP,
    "IndexIVFFlat": IndexIVFFlat,
    "IndexIVFPQ": IndexIVFPQ,
    "IndexHNSWFlat": IndexHNSWFlat,
    "IndexIDMap": IndexIDMap,
    "IndexIDMap2": IndexIDMap2,
}


def wrap_faiss(obj: Any, placement: Placement | None = None) -> Index:
    """Our wrapper around a faiss-cpu index object (most-derived class, like faiss's downcast)."""
    if isinstance(obj, Index):
        return obj
    from vector._cpu import faiss

    owner = obj
    if type(obj) is faiss.Index:
        # downcast gives a new proxy that does not own the C++ object: keep the owner alive
        obj = faiss.downcast_index(obj)
    cls = _WRAPPERS.get(type(obj).__name__)
    if cls is None:
        cls = IndexIVF if isinstance(obj, faiss.IndexIVF) else Index
        if isinstance(obj, faiss.IndexHNSW):
            cls = IndexHNSW
    wrapper = object.__new__(cls)
    wrapper._setup(obj, None, placement or Placement("cpu", "a faiss-cpu index"))
    if owner is not obj:
        wrapper._refs.append(owner)
    if isinstance(wrapper, IndexIDMap):
        wrapper._refs.insert(0, wrap_faiss(obj.index, wrapper._placement))
    elif isinstance(wrapper, IndexIVF):
        wrapper._refs.insert(0, wrap_faiss(obj.quantizer, wrapper._placement))
    return wrapper


def as_faiss(index: Any) -> Any:
    """The faiss-cpu object behind ``index`` (a CPU wrapper or a faiss object)."""
    if isinstance(index, Index):
        if index._gpu is not None:
            raise RuntimeError(
                f"{type(index).__name__} is on the GPU path; use index_gpu_to_cpu() first"
            )
        return index._cpu
    return index


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
