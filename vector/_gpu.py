"""GPU-path index state on cuVS: host master copy, id labels, tombstones, buffered adds, batched search.

Written once against a :class:`Binding` (``xp`` = CuPy and the cuVS modules on a GPU; NumPy and a
host stand-in when ``ACCEL_DEVICE=simulated``), so the machinery runs and is tested on CPU-only
machines too. Nothing here imports cuVS or CuPy: :mod:`vector._cuvs` does.

Row space: every added vector gets an append-only row number; cuVS only ever sees rows.
``labels[row]`` is the id faiss would return, ``alive[row]`` is False once removed (a tombstone,
passed to cuVS as a filter bitset: cuVS has no delete). Flat indexes compact at once (brute
force rebuilds are cheap); IVF and CAGRA compact when more than half the rows are dead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from vector._params import METRIC_INNER_PRODUCT, METRIC_L2, IDSelector

__all__ = ["Binding", "GpuState"]

FLT_MAX = float(np.finfo(np.float32).max)
_CUVS_METRIC = {METRIC_L2: "sqeuclidean", METRIC_INNER_PRODUCT: "inner_product"}
#: Buffered single-vector adds are flushed at the next search, or once this many rows wait.
FLUSH_ROWS = 65_536
#: Below this many rows a CAGRA graph is not worth building; search is exact brute force.
CAGRA_MIN_ROWS = 4_096
#: Tombstoned rows above this fraction trigger a rebuild of IVF/CAGRA indexes.
COMPACT_DEAD_FRACTION = 0.5
#: Device bytes one search batch may use (queries, outputs, refine gather).
SEARCH_BATCH_BYTES = 256 << 20
#: The code widths cuVS IVF-PQ builds (closed range).
PQ_BITS = (4, 8)


@dataclass(frozen=True)
class Binding:
    """What the GPU path needs from a device: an array namespace and the cuVS modules."""

    name: str
    xp: Any
    brute_force: Any
    ivf_flat: Any
    ivf_pq: Any
    cagra: Any
    filters: Any
    to_device: Callable[[np.ndarray], Any]
    to_host: Callable[[Any], np.ndarray]
    #: cuVS returns pylibraft device_ndarrays; this turns one into an ``xp`` array.
    as_array: Callable[[Any], Any]
    free_bytes: Callable[[], int]
    #: Exceptions that mean "the device ran out of memory".
    oom_errors: tuple[type[BaseException], ...]
    #: The GPU library's own error types; one counts as out-of-memory when ``is_oom`` says so.
    library_errors: tuple[type[BaseException], ...] = ()
    is_oom: Callable[[BaseException], bool] = lambda exc: False


def _check_pq(pq_m: int, pq_bits: int) -> None:
    """cuVS IVF-PQ's limits (faiss accepts more); outside them its build raises CuvsException."""
    if not PQ_BITS[0] <= pq_bits <= PQ_BITS[1] or (pq_m * pq_bits) % 8:
        raise NotImplementedError(
            f"IVF-PQ with M={pq_m} x {pq_bits}-bit codes has no cuVS equivalent (cuVS needs "
            f"pq_bits within [{PQ_BITS[0]}, {PQ_BITS[1]}] and M * nbits a multiple of 8)"
        )


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.2f} MiB"


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class GpuState:
    """One GPU-path index. ``kind`` is "flat", "ivf_flat", "ivf_pq" or "cagra"."""

    def __init__(
        self,
        binding: Binding,
        kind: str,
        d: int,
        metric: int,
        *,
        nlist: int = 0,
        pq_m: int = 0,
        pq_bits: int = 8,
        hnsw_m: int = 32,
    ) -> None:
        if metric not in _CUVS_METRIC:
            raise NotImplementedError(f"metric {metric} has no cuVS equivalent (only L2 and IP)")
        if kind == "ivf_pq":
            _check_pq(pq_m, pq_bits)
        self.b = binding
        self.kind = kind
        self.d = int(d)
        self.metric = int(metric)
        self.nlist = int(nlist)
        self.pq_m = int(pq_m)
        self.pq_bits = int(pq_bits)
        self.hnsw_m = int(hnsw_m)
        self.nprobe = 1
        self.ef_search = 16
        self.ef_construction = 40
        #: False for IDMap-style indexes: labels come from add_with_ids.
        self.positional = True
        self.lock = threading.RLock()
        self.is_trained = kind in ("flat", "cagra")
        self._train_sample: np.ndarray | None = None
        #: Next implicit id for CAGRA indexes: never reused, even after compaction renumbers rows.
        self._next_label = 0
        self._clear_rows()

    # --- storage -----------------------------------------------------------------------
    def _clear_rows(self) -> None:
        self.host = np.empty((0, self.d), dtype=np.float32)
        self.labels = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)
        self.n_alive = 0
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_pending = 0
        self.dev_data: Any = None
        self.engine: Any = None
        #: The device array an engine was built on: cuVS may keep a view of it, not a copy.
        self._engine_data: Any = None
        self.engine_kind = "empty"

    @property
    def ntotal(self) -> int:
        return self.n_alive + self.n_pending

    @property
    def n_rows(self) -> int:
        return int(self.alive.size)

    @property
    def metric_name(self) -> str:
        return _CUVS_METRIC[self.metric]

    def describe(self) -> str:
        self.flush()  # buffered adds decide which engine runs
        names = {
            "bf": "brute force",
            "ivf_flat": "IVF-Flat",
            "ivf_pq": "IVF-PQ",
            "cagra": "CAGRA",
            "empty": "empty",
        }
        return f"{self.b.name} {names.get(self.engine_kind, self.engine_kind)}"

    # --- training and adding -------------------------------------------------------------
    def train(self, x: np.ndarray) -> None:
        with self.lock:
            if self.kind not in ("ivf_flat", "ivf_pq"):
                return
            if x.shape[0] < self.nlist:
                raise RuntimeError(
                    f"train: {x.shape[0]} training vectors for nlist={self.nlist} clusters; "
                    "need at least as many vectors as clusters"
                )
            self._train_sample = x[: max(self.nlist * 256, 65_536)].copy()
            self.engine = self._empty_ivf(self._train_sample)
            self.engine_kind = self.kind
            self.is_trained = True

    def _empty_ivf(self, sample: np.ndarray) -> Any:
        data = self.b.to_device(sample)
        if self.kind == "ivf_flat":
            params = self.b.ivf_flat.IndexParams(
                n_lists=self.nlist, metric=self.metric_name, add_data_on_build=False
            )
            return self.b.ivf_flat.build(params, data)
        params = self.b.ivf_pq.IndexParams(
            n_lists=self.nlist,
            metric=self.metric_name,
            pq_dim=self.pq_m,
            pq_bits=self.pq_bits,
            add_data_on_build=False,
        )
        return self.b.ivf_pq.build(params, data)

    def add(self, x: np.ndarray, ids: np.ndarray | None) -> None:
        with self.lock:
            if not self.is_trained:
                raise RuntimeError("add: the index is not trained; call train() first")
            if ids is None:
                # faiss numbers new vectors from ntotal (so ids repeat after removals). faiss's
                # HNSW cannot remove; ours can, so its ids keep counting up instead.
                base = self._next_label if self.kind == "cagra" else self.ntotal
                ids = np.arange(base, base + x.shape[0], dtype=np.int64)
                self._next_label = base + x.shape[0]
            self.pending.append((x.copy(), ids.copy()))
            self.n_pending += x.shape[0]
            if self.n_pending >= FLUSH_ROWS:
                self.flush()

    def flush(self) -> None:
        """Move buffered adds into the host copy and the device index (one cuVS call)."""
        with self.lock:
            if not self.pending:
                return
            new_x = np.concatenate([p[0] for p in self.pending])
            new_ids = np.concatenate([p[1] for p in self.pending])
            self._check_fits(new_x.shape[0])
            first_row = self.n_rows
            self.host = np.concatenate([self.host, new_x])
            self.labels = np.concatenate([self.labels, new_ids])
            self.alive = np.concatenate([self.alive, np.ones(new_x.shape[0], dtype=bool)])
            self.n_alive += new_x.shape[0]
            self.pending, self.n_pending = [], 0
            self._device_append(new_x, first_row)

    def _check_fits(self, new_rows: int) -> None:
        """MemoryError (an OOM the caller turns into a CPU fallback) if the data cannot fit."""
        rows = self.n_rows + new_rows
        if self.kind == "ivf_pq":
            need = rows * (self.pq_m * self.pq_bits // 8 + 8)
        else:
            # the device copy is re-concatenated, so old and new copies briefly coexist
            need = (rows + self.n_rows) * 4 * self.d
            if self.kind in ("ivf_flat", "cagra"):
                need += rows * 4 * self.d  # cuVS keeps its own copy of the vectors
            if self.kind == "cagra":
                need += rows * 4 * 2 * self.hnsw_m  # the graph
        free = self.b.free_bytes()
        if need > free:
            raise MemoryError(
                f"{rows:,} x {self.d} vectors need about {_size(need)} of GPU memory "
                f"for {self.kind}; {_size(free)} is free"
            )

    def _device_append(self, new_x: np.ndarray, first_row: int) -> None:
        b = self.b
        new_dev = b.to_device(new_x)
        if self.kind != "ivf_pq":
            # Kept on the device for exact re-ranking and brute force (IVF-PQ stays compressed).
            self.dev_data = (
                new_dev if self.dev_data is None else b.xp.concatenate([self.dev_data, new_dev])
            )
        if self.kind == "flat":
            self._build_brute_force()
        elif self.kind in ("ivf_flat", "ivf_pq"):
            rows = b.to_device(np.arange(first_row, first_row + new_x.shape[0], dtype=np.int64))
            module = b.ivf_flat if self.kind == "ivf_flat" else b.ivf_pq
            extended = module.extend(self.engine, new_dev, rows)
            self.engine = extended if extended is not None else self.engine
        elif self.n_rows < CAGRA_MIN_ROWS:
            self._build_brute_force()
        elif self.engine_kind != "cagra" or first_row == 0:
            self._build_cagra()
        else:
            # cuVS >= 26.10: the caller passes old || new rows and the row where the new ones
            # start; the index then reads that array, which must outlive it.
            extended = b.cagra.extend(b.cagra.ExtendParams(), self.engine, self.dev_data, first_row)
            self.engine = extended if extended is not None else self.engine
            self._engine_data = self.dev_data

    def _build_brute_force(self) -> None:
        if self.dev_data is None or self.dev_data.shape[0] == 0:
            self.engine, self.engine_kind = None, "empty"
            return
        self.engine = self.b.brute_force.build(self.dev_data, metric=self.metric_name)
        self._engine_data = self.dev_data
        self.engine_kind = "bf"

    def _build_cagra(self) -> None:
        graph_degree = max(8, 2 * self.hnsw_m)  # HNSW's base layer keeps 2*M neighbours
        params = self.b.cagra.IndexParams(
            metric=self.metric_name,
            graph_degree=graph_degree,
            intermediate_graph_degree=2 * graph_degree,
        )
        self.engine = self.b.cagra.build(params, self.dev_data)
        self._engine_data = self.dev_data
        self.engine_kind = "cagra"

    # --- searching -----------------------------------------------------------------------
    def _keep_mask(self, sel: IDSelector | None) -> np.ndarray | None:
        """Rows a search may return, or None when every row may."""
        keep = self.alive
        if sel is not None:
            keep = keep & sel.mask(self.labels)
        elif self.n_alive == self.n_rows:
            return None
        return keep

    def _bitset(self, keep: np.ndarray) -> Any:
        # cuVS bitsets are uint32 words, bit i of the set = row i, 1 = keep (little-endian bits).
        packed = np.packbits(keep, bitorder="little")
        words = np.zeros(_round_up(packed.size, 4), dtype=np.uint8)
        words[: packed.size] = packed
        return self.b.filters.from_bitset(self.b.to_device(words.view(np.uint32)))

    def search(
        self,
        x: np.ndarray,
        k: int,
        sel: IDSelector | None = None,
        nprobe: int | None = None,
        ef_search: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            self.flush()
            n = x.shape[0]
            worst = FLT_MAX if self.metric == METRIC_L2 else -FLT_MAX
            out_d = np.full((n, k), worst, dtype=np.float32)
            out_i = np.full((n, k), -1, dtype=np.int64)
            if self.n_alive == 0 or self.engine is None or n == 0:
                return out_d, out_i
            keep = self._keep_mask(sel)
            if keep is not None and not keep.any():
                return out_d, out_i
            k_eff = min(k, self.n_rows)
            if self.kind == "ivf_pq" and keep is not None:
                # cuVS IVF-PQ takes no filter in Python: over-fetch, then drop filtered rows.
                k_eff = min(self.n_rows, k + int(self.n_rows - keep.sum()), max(4 * k, 1024))
            per_query = 4 * (self.d + 3 * k_eff + k_eff * self.d) + 64
            budget = min(SEARCH_BATCH_BYTES, max(self.b.free_bytes() // 4, 1 << 20))
            batch = max(1, min(n, budget // per_query))
            bitset = self._bitset(keep) if keep is not None and self.kind != "ivf_pq" else None
            for start in range(0, n, batch):
                stop = min(n, start + batch)
                d_part, i_part = self._search_batch(
                    x[start:stop], k_eff, keep, bitset, nprobe, ef_search
                )
                take = min(k, d_part.shape[1])
                out_d[start:stop, :take] = d_part[:, :take]
                out_i[start:stop, :take] = i_part[:, :take]
            return out_d, out_i

    def _search_batch(
        self,
        q_host: np.ndarray,
        k_eff: int,
        keep: np.ndarray | None,
        bitset: Any,
        nprobe: int | None,
        ef_search: int | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        b = self.b
        q = b.to_device(q_host)
        if self.engine_kind == "bf":
            dist, rows = b.brute_force.search(self.engine, q, k_eff, prefilter=bitset)
        elif self.engine_kind == "ivf_flat":
            params = b.ivf_flat.SearchParams(n_probes=int(nprobe or self.nprobe))
            dist, rows = b.ivf_flat.search(params, self.engine, q, k_eff, filter=bitset)
        elif self.engine_kind == "ivf_pq":
            params = b.ivf_pq.SearchParams(n_probes=int(nprobe or self.nprobe))
            dist, rows = b.ivf_pq.search(params, self.engine, q, k_eff)
        else:
            # CAGRA needs k <= itopk_size; itopk is rounded to 32 like cuVS does internally.
            itopk = _round_up(max(int(ef_search or self.ef_search), k_eff, 32), 32)
            params = b.cagra.SearchParams(itopk_size=itopk)
            dist, rows = b.cagra.search(params, self.engine, q, k_eff, filter=bitset)
        # CAGRA returns uint32 rows with 0xFFFFFFFF for "none": out of range, so invalid below.
        rows_h = b.to_host(b.as_array(rows)).astype(np.int64)
        valid = (rows_h >= 0) & (rows_h < self.n_rows)
        if keep is not None:
            valid[valid] = keep[rows_h[valid]]
        rows_h[~valid] = -1
        if self.dev_data is not None:
            # Recompute distances directly (not ||x||^2+||y||^2-2xy): a vector's distance to
            # itself is then exactly 0.0, as with faiss-cpu on single queries.
            safe = b.to_device(np.where(valid, rows_h, 0))
            vecs = self.dev_data[safe]
            if self.metric == METRIC_L2:
                diff = vecs - q[:, None, :]
                dist_dev = (diff * diff).sum(axis=2)
            else:
                dist_dev = (vecs * q[:, None, :]).sum(axis=2)
            dist_h = b.to_host(dist_dev).astype(np.float32)
        else:
            dist_h = b.to_host(b.as_array(dist)).astype(np.float32)
        return self._order(dist_h, rows_h, valid)

    def _order(
        self, dist: np.ndarray, rows: np.ndarray, valid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sort each result row like faiss: best distance first, ties by smaller id, pads last."""
        labels = np.where(valid, self.labels[np.where(valid, rows, 0)], -1)
        worst = FLT_MAX if self.metric == METRIC_L2 else -FLT_MAX
        dist = np.where(valid, dist, worst).astype(np.float32)
        key = dist if self.metric == METRIC_L2 else -dist
        order = np.lexsort((labels, key, ~valid), axis=1)
        return np.take_along_axis(dist, order, 1), np.take_along_axis(labels, order, 1)

    def range_search(
        self, x: np.ndarray, thresh: float, sel: IDSelector | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact range search over the host copy (cuVS has none): L2 ``< thresh``, IP ``> thresh``."""
        with self.lock:
            self.flush()
            keep = self.alive if sel is None else self.alive & sel.mask(self.labels)
            rows = np.flatnonzero(keep)
            lims = np.zeros(x.shape[0] + 1, dtype=np.uint64)
            ds: list[np.ndarray] = []
            ids: list[np.ndarray] = []
            if rows.size:
                xp = self.b.xp
                base = self.dev_data[self.b.to_device(rows)] if self.dev_data is not None else None
                if base is None:
                    base = self.b.to_device(self.host[rows])
                step = max(1, SEARCH_BATCH_BYTES // (4 * rows.size + 1))
                for start in range(0, x.shape[0], step):
                    q = self.b.to_device(x[start : start + step])
                    if self.metric == METRIC_L2:
                        dist = (
                            (q * q).sum(1)[:, None] + (base * base).sum(1)[None, :] - 2 * q @ base.T
                        )
                        dist = xp.maximum(dist, 0)
                        hit = dist < thresh
                    else:
                        dist = q @ base.T
                        hit = dist > thresh
                    dist_h, hit_h = self.b.to_host(dist), self.b.to_host(hit)
                    for j in range(hit_h.shape[0]):
                        cols = np.flatnonzero(hit_h[j])
                        ds.append(dist_h[j, cols].astype(np.float32))
                        ids.append(self.labels[rows[cols]])
                        lims[start + j + 1] = cols.size
            lims = np.cumsum(lims).astype(np.uint64)
            out_d = np.concatenate(ds) if ds else np.empty(0, dtype=np.float32)
            out_i = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
            return lims, out_d, out_i

    # --- removing, reading back, resetting -------------------------------------------------
    def remove(self, sel: IDSelector) -> int:
        with self.lock:
            self.flush()
            hit = self.alive & sel.mask(self.labels)
            count = int(hit.sum())
            if not count:
                return 0
            self.alive[hit] = False
            self.n_alive -= count
            if (
                self.kind == "flat"
                or self.n_rows - self.n_alive > COMPACT_DEAD_FRACTION * self.n_rows
            ):
                self._compact()
            return count

    def _compact(self) -> None:
        """Drop tombstoned rows for good and rebuild the device index from the host copy."""
        keep = self.alive
        host, labels = self.host[keep], self.labels[keep]
        if self.kind == "flat" and self.positional:
            labels = np.arange(labels.size, dtype=np.int64)  # faiss renumbers Flat after removal
        self._clear_rows()
        if self.kind in ("ivf_flat", "ivf_pq"):
            # cuVS cannot empty an IVF index: start from a fresh one trained on the same sample.
            assert self._train_sample is not None
            self.engine = self._empty_ivf(self._train_sample)
            self.engine_kind = self.kind
        if host.size:
            self.pending = [(host, labels)]
            self.n_pending = host.shape[0]
            self.flush()

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """The live vectors and their ids, in row order."""
        with self.lock:
            # host data only (no flush): this also serves the move to the CPU after an OOM
            vectors = [self.host[self.alive], *(p[0] for p in self.pending)]
            labels = [self.labels[self.alive], *(p[1] for p in self.pending)]
            return np.concatenate(vectors), np.concatenate(labels)

    def reconstruct(self, key: int) -> np.ndarray:
        with self.lock:
            self.flush()
            if self.kind == "flat" and self.positional:
                # compacted at every removal, so id == row (LangChain's MMR calls this per hit)
                if 0 <= key < self.n_rows:
                    return self.host[key].copy()
                raise RuntimeError(f"reconstruct: id {key} is not in the index")
            rows = np.flatnonzero((self.labels == key) & self.alive)
            if rows.size == 0:
                raise RuntimeError(f"reconstruct: id {key} is not in the index")
            return self.host[rows[0]].copy()

    def reset(self) -> None:
        with self.lock:
            self._clear_rows()
            self._next_label = 0
            if self.kind in ("ivf_flat", "ivf_pq") and self._train_sample is not None:
                self.engine = self._empty_ivf(self._train_sample)
                self.engine_kind = self.kind

    def centers(self) -> np.ndarray | None:
        """IVF coarse centroids (for a faithful faiss-cpu copy), or None."""
        if self.kind not in ("ivf_flat", "ivf_pq") or self.engine is None:
            return None
        return self.b.to_host(self.b.as_array(self.engine.centers)).astype(np.float32)
