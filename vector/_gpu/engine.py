"""The GPU-path engine: one index's row store and kind strategy behind the engine protocol.

Written once against a :class:`~vector._gpu.binding.Binding` (CuPy and cuVS on a GPU; NumPy-like
stand-ins when ``ACCEL_DEVICE=simulated``), so the machinery runs and is tested on CPU-only
machines too. Nothing here imports cuVS or CuPy: :mod:`vector._cuvs` does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from accel import core
from vector import _progress
from vector._engine import DeviceOutOfMemory, not_implemented
from vector._gpu import batching, memory, rerank
from vector._gpu.base import CUVS_METRIC, Strategy
from vector._gpu.cagra import Cagra
from vector._gpu.flat import Flat
from vector._gpu.ivf_flat import IvfFlat
from vector._gpu.ivf_pq import IvfPq
from vector._gpu.rows import RowStore
from vector._params import (
    METRIC_L2,
    IDSelector,
    IDSelectorBatch,
    SearchParameters,
    SearchParametersHNSW,
    SearchParametersIVF,
)

__all__ = ["COMPACT_DEAD_FRACTION", "FLUSH_ROWS", "KINDS", "GpuEngine"]

#: Buffered single-vector adds are flushed at the next search, or once this many rows wait.
FLUSH_ROWS = 65_536
#: Tombstoned rows above this fraction trigger a rebuild of IVF/CAGRA indexes.
COMPACT_DEAD_FRACTION = 0.5
#: kind -> strategy class (the one place a kind name picks code)
KINDS: dict[str, type[Strategy]] = {
    "flat": Flat,
    "ivf_flat": IvfFlat,
    "ivf_pq": IvfPq,
    "cagra": Cagra,
}


class GpuHNSWParams:
    """``index.hnsw`` on the GPU path: efSearch maps to CAGRA's itopk_size."""

    __slots__ = ("_engine",)

    def __init__(self, engine: GpuEngine) -> None:
        self._engine = engine

    @property
    def efSearch(self) -> int:
        return self._engine.ef_search

    @efSearch.setter
    def efSearch(self, value: int) -> None:
        self._engine.ef_search = int(value)

    @property
    def efConstruction(self) -> int:
        return self._engine.ef_construction

    @efConstruction.setter
    def efConstruction(self, value: int) -> None:
        self._engine.ef_construction = int(value)


class GpuEngine:
    """One GPU-path index. ``cpu_shape`` names the faiss class it is written as on the CPU."""

    on_device = True
    native = None  # no faiss object behind it
    metric_arg = 0.0

    def __init__(
        self,
        binding: Any,
        kind: str,
        d: int,
        metric: int,
        *,
        cpu_shape: str = "",
        **params: int,
    ) -> None:
        if metric not in CUVS_METRIC:
            raise NotImplementedError(f"metric {metric} has no cuVS equivalent (only L2 and IP)")
        self.strategy = KINDS[kind](binding, d, metric, **params)
        self.rows = RowStore(d)
        self.d = int(d)
        self.metric_type = int(metric)
        self.cpu_shape = cpu_shape
        #: None, "IndexIDMap" or "IndexIDMap2" once wrapped: labels come from add_with_ids
        self.id_map_kind: str | None = None
        self.label = cpu_shape or kind
        self.nprobe = 1
        self.ef_search = 16
        self.ef_construction = 40
        self.lock = threading.RLock()
        self.is_trained = self.strategy.trained_at_start
        #: Next implicit id for CAGRA indexes: never reused, even after compaction renumbers rows.
        self._next_label = 0

    # --- what the facade reads ----------------------------------------------------------------
    @property
    def b(self) -> Any:
        return self.strategy.b

    @b.setter
    def b(self, binding: Any) -> None:
        self.strategy.b = binding

    @property
    def positional(self) -> bool:
        return self.id_map_kind is None

    @property
    def ntotal(self) -> int:
        return self.rows.ntotal

    @property
    def nlist(self) -> int:
        return int(getattr(self.strategy, "nlist", 0))

    @property
    def verbose(self) -> bool:
        return False

    @verbose.setter
    def verbose(self, value: bool) -> None:
        pass  # cuVS has no verbose switch

    def describe(self) -> str:
        self.flush()  # buffered adds decide which engine runs
        return self.strategy.describe()

    def hnsw_params(self) -> GpuHNSWParams:
        return GpuHNSWParams(self)

    def id_map(self) -> np.ndarray:
        return self.export()[1]

    def with_id_map(self, two: bool, label: str) -> GpuEngine:
        """This engine, now taking ids from ``add_with_ids`` (IDMap shares the device index)."""
        self.id_map_kind = "IndexIDMap2" if two else "IndexIDMap"
        self.label = label
        return self

    def _record(self, call: str, started: float, count: int = 1) -> None:
        core.ledger.record_call(
            "vector",
            f"{self.label}.{call}",
            device=self.b.device,
            seconds=time.perf_counter() - started,
            count=count,
            engine=self.b.name,
        )

    def _guard(self, op: Callable[..., Any], *args: Any, applied: bool = False) -> Any:
        """Run ``op``; a device out-of-memory error becomes :class:`DeviceOutOfMemory`."""
        b = self.b
        try:
            return op(*args)
        except b.oom_errors + b.library_errors as exc:
            if not isinstance(exc, b.oom_errors) and not b.is_oom(exc):
                raise
            why = f"out of GPU memory ({type(exc).__name__}: {exc})"
            raise DeviceOutOfMemory(why, applied=applied) from exc

    # --- training and adding ------------------------------------------------------------------
    def train(self, x: np.ndarray) -> None:
        self._guard(self._train, x)

    def _train(self, x: np.ndarray) -> None:
        with self.lock:
            if self.strategy.train(x):
                self.is_trained = True

    def add(self, x: np.ndarray) -> None:
        started = time.perf_counter()
        # rows are buffered before any device work: after an OOM they move to the CPU with
        # the rest, so the caller must not add them again (applied=True)
        self._guard(self._add, x, None, applied=True)
        self._record("add", started)

    def add_with_ids(self, x: np.ndarray, ids: np.ndarray) -> None:
        if self.positional and not self.strategy.takes_ids:
            raise not_implemented("add_with_ids", self.label)
        started = time.perf_counter()
        self._guard(self._add, x, ids, applied=True)
        self._record("add_with_ids", started)

    def _add(self, x: np.ndarray, ids: np.ndarray | None) -> None:
        with self.lock:
            if not self.is_trained:
                raise RuntimeError("add: the index is not trained; call train() first")
            if ids is None:
                # faiss numbers new vectors from ntotal (so ids repeat after removals). faiss's
                # HNSW cannot remove; ours can, so its ids keep counting up instead.
                base = self._next_label if self.strategy.ids_count_up else self.ntotal
                ids = np.arange(base, base + x.shape[0], dtype=np.int64)
                self._next_label = base + x.shape[0]
            self.rows.buffer(x, ids)
            if self.rows.n_pending >= FLUSH_ROWS:
                self.flush()

    def flush(self) -> None:
        """Move buffered adds into the host copy and the device index (one cuVS call)."""
        with self.lock:
            block = self.rows.take_pending()
            if block is None:
                return
            new_x, new_ids = block
            rows = self.rows.n_rows + new_x.shape[0]
            need = self.strategy.device_bytes(rows, self.rows.n_rows)
            memory.check_fits(need, self.b.free_bytes(), rows, self.d, self.strategy.kind)
            first_row = self.rows.commit(new_x, new_ids)
            self.strategy.append(new_x, first_row, self.rows.n_rows)

    def absorb(self, vectors: np.ndarray, labels: np.ndarray, add_id: int) -> None:
        """``merge_from``'s target side: take ``other``'s vectors (ids shifted by ``add_id``)."""
        positional = self.positional and not self.strategy.takes_ids
        self._add(vectors, None if positional else labels + add_id)

    # --- searching ------------------------------------------------------------------------------
    def _search_args(self, params: Any) -> tuple[IDSelector | None, int | None, int | None]:
        if params is None:
            return None, None, None
        if not isinstance(params, SearchParameters):
            raise TypeError(
                "on the GPU path, params must be a vector.SearchParameters* object; "
                f"got {type(params).__name__}"
            )
        nprobe = params.nprobe if isinstance(params, SearchParametersIVF) else None
        ef_search = params.efSearch if isinstance(params, SearchParametersHNSW) else None
        if params.sel is not None and not isinstance(params.sel, IDSelector):
            raise TypeError("on the GPU path, params.sel must be a vector.IDSelector* object")
        return params.sel, nprobe, ef_search

    def search(
        self,
        x: np.ndarray,
        k: int,
        params: Any = None,
        D: Any = None,
        I: Any = None,  # noqa: E741
    ) -> tuple[np.ndarray, np.ndarray]:
        sel, nprobe, ef_search = self._search_args(params)
        started = time.perf_counter()
        dist, ids = self._guard(self._search, x, k, sel, nprobe, ef_search)
        self._record("search", started, count=1)
        if D is not None:
            D[...] = dist
            dist = D
        if I is not None:
            I[...] = ids
            ids = I
        return dist, ids

    def _search(
        self,
        x: np.ndarray,
        k: int,
        sel: IDSelector | None,
        nprobe: int | None,
        ef_search: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            self.flush()
            rows, strategy = self.rows, self.strategy
            n = x.shape[0]
            worst = rerank.FLT_MAX if self.metric_type == METRIC_L2 else -rerank.FLT_MAX
            out_d = np.full((n, k), worst, dtype=np.float32)
            out_i = np.full((n, k), -1, dtype=np.int64)
            if rows.n_alive == 0 or strategy.engine is None or n == 0:
                return out_d, out_i
            keep = rows.keep_mask(sel)
            if keep is not None and not keep.any():
                return out_d, out_i
            k_eff = strategy.fetch_k(k, rows.n_rows, keep)
            batch = batching.search_batch_rows(n, self.d, k_eff, self.b.free_bytes())
            bitset = (
                batching.bitset(self.b, keep)
                if keep is not None and strategy.filters_in_search
                else None
            )
            probes, ef = int(nprobe or self.nprobe), int(ef_search or self.ef_search)
            with _progress.counting(f"{self.label}.search", n, "queries", batch < n) as tick:
                for start in range(0, n, batch):
                    stop = min(n, start + batch)
                    q = self.b.to_device(x[start:stop])
                    dist, found = strategy.search(q, k_eff, bitset, probes, ef)
                    d_part, i_part = rerank.finish(
                        self.b, self.metric_type, strategy.dev_data, q, dist, found, keep,
                        rows.labels,
                    )  # fmt: skip
                    take = min(k, d_part.shape[1])
                    out_d[start:stop, :take] = d_part[:, :take]
                    out_i[start:stop, :take] = i_part[:, :take]
                    tick(stop - start)
            return out_d, out_i

    def range_search(
        self, x: np.ndarray, thresh: float, params: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sel = self._search_args(params)[0]
        return self._guard(self._range_search, x, float(thresh), sel)

    def _range_search(
        self, x: np.ndarray, thresh: float, sel: IDSelector | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact range search over the host copy (cuVS has none): L2 ``< thresh``, IP ``> thresh``."""
        with self.lock:
            self.flush()
            b, store = self.b, self.rows
            rows = np.flatnonzero(store.live_mask(sel))
            lims = np.zeros(x.shape[0] + 1, dtype=np.uint64)
            ds: list[np.ndarray] = []
            ids: list[np.ndarray] = []
            if rows.size:
                dev_data = self.strategy.dev_data
                base = dev_data[b.to_device(rows)] if dev_data is not None else None
                if base is None:
                    base = b.to_device(store.host[rows])
                step = batching.range_step(rows.size)
                for start in range(0, x.shape[0], step):
                    q = b.to_device(x[start : start + step])
                    if self.metric_type == METRIC_L2:
                        dist = (
                            (q * q).sum(1)[:, None] + (base * base).sum(1)[None, :] - 2 * q @ base.T
                        )
                        dist = b.xp.maximum(dist, 0)
                        hit = dist < thresh
                    else:
                        dist = q @ base.T
                        hit = dist > thresh
                    dist_h, hit_h = b.to_host(dist), b.to_host(hit)
                    for j in range(hit_h.shape[0]):
                        cols = np.flatnonzero(hit_h[j])
                        ds.append(dist_h[j, cols].astype(np.float32))
                        ids.append(store.labels[rows[cols]])
                        lims[start + j + 1] = cols.size
            lims = np.cumsum(lims).astype(np.uint64)
            out_d = np.concatenate(ds) if ds else np.empty(0, dtype=np.float32)
            out_i = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
            return lims, out_d, out_i

    # --- removing, reading back, resetting -------------------------------------------------------
    def remove_ids(self, x: Any) -> int:
        # Unlike faiss's HNSW, the GPU path supports removal everywhere (tombstones).
        sel = x if isinstance(x, IDSelector) else IDSelectorBatch(x)
        with self.lock:
            self.flush()
            count = self.rows.tombstone(sel)
            if count and (
                self.strategy.compacts_at_once or self.rows.dead_fraction > COMPACT_DEAD_FRACTION
            ):
                self._compact()
            return count

    def _compact(self) -> None:
        """Drop tombstoned rows for good and rebuild the device index from the host copy."""
        host, labels = self.rows.live()
        if self.strategy.compacts_at_once and self.positional:
            labels = np.arange(labels.size, dtype=np.int64)  # faiss renumbers Flat after removal
        self.rows.clear()
        self.strategy.clear()
        self.strategy.restart()  # cuVS cannot empty an IVF index: fresh lists, same sample
        if host.size:
            self.rows.buffer(host, labels)
            self.flush()

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """The live vectors and their ids, in row order."""
        with self.lock:
            # host data only (no flush): this also serves the move to the CPU after an OOM
            return self.rows.export()

    def reconstruct(self, key: int) -> np.ndarray:
        if self.id_map_kind == "IndexIDMap":
            raise not_implemented("reconstruct", self.label)
        with self.lock:
            self.flush()
            # Flat compacts at every removal, so id == row (LangChain's MMR calls this per hit)
            by_position = self.strategy.compacts_at_once and self.positional
            return self.rows.host[self.rows.row_of(key, by_position)].copy()

    def reconstruct_n(self, n0: int, ni: int) -> np.ndarray:
        vectors, _ = self.export()
        ni = vectors.shape[0] - n0 if ni < 0 else ni
        if n0 < 0 or n0 + ni > vectors.shape[0]:
            raise RuntimeError(
                f"reconstruct_n: range [{n0}, {n0 + ni}) is outside [0, {vectors.shape[0]})"
            )
        return vectors[n0 : n0 + ni].copy()

    def reconstruct_batch(self, keys: np.ndarray) -> np.ndarray:
        if not keys.size:
            return np.empty((0, self.d), dtype=np.float32)
        return np.stack([self.reconstruct(int(key)) for key in keys])

    def reset(self) -> None:
        with self.lock:
            self.rows.clear()
            self.strategy.clear()
            self._next_label = 0
            self.strategy.restart()
