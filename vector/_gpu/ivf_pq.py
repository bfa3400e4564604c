"""IVF-PQ on cuVS: compressed codes only, so no exact re-rank and filters after an over-fetch."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector._gpu.ivf_flat import IvfFlat

__all__ = ["PQ_BITS", "IvfPq", "check_pq"]

#: The code widths cuVS IVF-PQ builds (closed range).
PQ_BITS = (4, 8)


def check_pq(pq_m: int, pq_bits: int) -> None:
    """cuVS IVF-PQ's limits (faiss accepts more); outside them its build raises CuvsException."""
    if not PQ_BITS[0] <= pq_bits <= PQ_BITS[1] or (pq_m * pq_bits) % 8:
        raise NotImplementedError(
            f"IVF-PQ with M={pq_m} x {pq_bits}-bit codes has no cuVS equivalent (cuVS needs "
            f"pq_bits within [{PQ_BITS[0]}, {PQ_BITS[1]}] and M * nbits a multiple of 8)"
        )


class IvfPq(IvfFlat):
    kind = "ivf_pq"
    keeps_vectors = False
    filters_in_search = False

    def __init__(self, binding: Any, d: int, metric: int, *, nlist: int, pq_m: int, pq_bits: int):
        check_pq(pq_m, pq_bits)
        self.pq_m, self.pq_bits = int(pq_m), int(pq_bits)
        super().__init__(binding, d, metric, nlist=nlist)

    @property
    def module(self) -> Any:
        return self.b.ivf_pq

    def _index_params(self) -> Any:
        return self.module.IndexParams(
            n_lists=self.nlist,
            metric=self.metric_name,
            pq_dim=self.pq_m,
            pq_bits=self.pq_bits,
            add_data_on_build=False,
        )

    def device_bytes(self, rows: int, old_rows: int) -> int:
        return rows * (self.pq_m * self.pq_bits // 8 + 8)

    def fetch_k(self, k: int, n_rows: int, keep: np.ndarray | None) -> int:
        if keep is None:
            return min(k, n_rows)
        # cuVS IVF-PQ takes no filter in Python: over-fetch, then drop filtered rows.
        return min(n_rows, k + int(n_rows - keep.sum()), max(4 * k, 1024))

    def search(self, q: Any, k: int, bitset: Any, nprobe: int, ef_search: int) -> tuple[Any, Any]:
        params = self.module.SearchParams(n_probes=int(nprobe))
        return self.module.search(params, self.engine, q, k)
