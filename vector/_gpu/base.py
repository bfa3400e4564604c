"""What every GPU-path kind does the same way, and what each kind (one module each) decides.

A strategy owns the device side of one index: the cuVS index (``engine``, of ``engine_kind``),
the device copy of the vectors kept for exact re-ranking (``dev_data``) and the array the cuVS
index was built on (cuVS may keep a view of it, not a copy). Rows, ids and tombstones live in
:class:`vector._gpu.rows.RowStore`; the orchestration in :class:`vector._gpu.engine.GpuEngine`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from vector._params import METRIC_INNER_PRODUCT, METRIC_L2

__all__ = ["CUVS_METRIC", "Strategy"]

CUVS_METRIC = {METRIC_L2: "sqeuclidean", METRIC_INNER_PRODUCT: "inner_product"}
_ENGINE_NAMES = {
    "bf": "brute force",
    "ivf_flat": "IVF-Flat",
    "ivf_pq": "IVF-PQ",
    "cagra": "CAGRA",
    "empty": "empty",
}


class Strategy:
    """One kind of GPU-path index. Subclasses set the class flags and the device calls."""

    #: the kind's name in messages ("flat", "ivf_flat", "ivf_pq", "cagra")
    kind: ClassVar[str] = ""
    #: usable without ``train`` (Flat, CAGRA)
    trained_at_start: ClassVar[bool] = True
    #: keeps a device copy of the vectors for exact re-ranking (IVF-PQ stays compressed)
    keeps_vectors: ClassVar[bool] = True
    #: cuVS's search takes the tombstone/selector bitset (IVF-PQ's Python search does not)
    filters_in_search: ClassVar[bool] = True
    #: ``add_with_ids`` works without an IDMap wrapper (IVF, as in faiss)
    takes_ids: ClassVar[bool] = False
    #: removals compact at once and renumber like faiss's IndexFlat (brute force rebuilds are cheap)
    compacts_at_once: ClassVar[bool] = False
    #: implicit ids keep counting up after removals (faiss's HNSW cannot remove; ours can)
    ids_count_up: ClassVar[bool] = False

    def __init__(self, binding: Any, d: int, metric: int) -> None:
        self.b = binding
        self.d = int(d)
        self.metric = int(metric)
        self.clear()

    def clear(self) -> None:
        """Forget the device side (rows are re-sent by the caller)."""
        self.engine: Any = None
        self.engine_kind = "empty"
        self.dev_data: Any = None
        self._engine_data: Any = None

    def restart(self) -> None:
        """After :meth:`clear`: put back what must exist before the first add (IVF lists)."""

    @property
    def metric_name(self) -> str:
        return CUVS_METRIC[self.metric]

    def describe(self) -> str:
        return f"{self.b.name} {_ENGINE_NAMES.get(self.engine_kind, self.engine_kind)}"

    # --- training and adding -----------------------------------------------------------------
    def train(self, x: np.ndarray) -> bool:
        """Train on ``x``; True when the kind needed it (so the index is trained now)."""
        return False

    def device_bytes(self, rows: int, old_rows: int) -> int:
        """About how many device bytes ``rows`` vectors need while ``old_rows`` are replaced."""
        # the device copy is re-concatenated, so old and new copies briefly coexist
        return (rows + old_rows) * 4 * self.d

    def append(self, new_x: np.ndarray, first_row: int, n_rows: int) -> None:
        """Send rows ``first_row..n_rows-1`` (``new_x``) to the device index."""
        new_dev = self.b.to_device(new_x)
        if self.keeps_vectors:
            self.dev_data = (
                new_dev
                if self.dev_data is None
                else self.b.xp.concatenate([self.dev_data, new_dev])
            )
        self._extend(new_dev, first_row, n_rows)

    def _extend(self, new_dev: Any, first_row: int, n_rows: int) -> None:
        raise NotImplementedError

    def _build_brute_force(self) -> None:
        if self.dev_data is None or self.dev_data.shape[0] == 0:
            self.engine, self.engine_kind = None, "empty"
            return
        self.engine = self.b.brute_force.build(self.dev_data, metric=self.metric_name)
        self._engine_data = self.dev_data
        self.engine_kind = "bf"

    # --- searching -----------------------------------------------------------------------------
    def fetch_k(self, k: int, n_rows: int, keep: np.ndarray | None) -> int:
        """How many results to ask cuVS for, to answer ``k`` after filtering."""
        return min(k, n_rows)

    def search(self, q: Any, k: int, bitset: Any, nprobe: int, ef_search: int) -> tuple[Any, Any]:
        """cuVS's ``(distances, rows)`` for device queries ``q``."""
        raise NotImplementedError

    def _search_brute_force(self, q: Any, k: int, bitset: Any) -> tuple[Any, Any]:
        return self.b.brute_force.search(self.engine, q, k, prefilter=bitset)

    def centers(self) -> np.ndarray | None:
        """IVF coarse centroids (for a faithful faiss-cpu copy), or None."""
        return None
