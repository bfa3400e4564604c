"""IVF-Flat on cuVS: its own k-means at ``train``, lists extended with row numbers as ids."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector._gpu.base import Strategy

__all__ = ["IvfFlat"]


class IvfFlat(Strategy):
    kind = "ivf_flat"
    trained_at_start = False
    takes_ids = True

    def __init__(self, binding: Any, d: int, metric: int, *, nlist: int) -> None:
        self.nlist = int(nlist)
        #: kept to re-create empty lists after compaction or reset (cuVS cannot empty an index)
        self.train_sample: np.ndarray | None = None
        super().__init__(binding, d, metric)

    @property
    def module(self) -> Any:
        return self.b.ivf_flat

    def _index_params(self) -> Any:
        return self.module.IndexParams(
            n_lists=self.nlist, metric=self.metric_name, add_data_on_build=False
        )

    def train(self, x: np.ndarray) -> bool:
        if x.shape[0] < self.nlist:
            raise RuntimeError(
                f"train: {x.shape[0]} training vectors for nlist={self.nlist} clusters; "
                "need at least as many vectors as clusters"
            )
        self.train_sample = x[: max(self.nlist * 256, 65_536)].copy()
        self._build_empty()
        return True

    def restart(self) -> None:
        if self.train_sample is not None:
            self._build_empty()

    def _build_empty(self) -> None:
        assert self.train_sample is not None
        data = self.b.to_device(self.train_sample)
        self.engine = self.module.build(self._index_params(), data)
        self.engine_kind = self.kind

    def device_bytes(self, rows: int, old_rows: int) -> int:
        return super().device_bytes(rows, old_rows) + rows * 4 * self.d  # cuVS's own copy

    def _extend(self, new_dev: Any, first_row: int, n_rows: int) -> None:
        rows = self.b.to_device(np.arange(first_row, n_rows, dtype=np.int64))
        extended = self.module.extend(self.engine, new_dev, rows)
        self.engine = extended if extended is not None else self.engine

    def search(self, q: Any, k: int, bitset: Any, nprobe: int, ef_search: int) -> tuple[Any, Any]:
        params = self.module.SearchParams(n_probes=int(nprobe))
        return self.module.search(params, self.engine, q, k, filter=bitset)

    def centers(self) -> np.ndarray | None:
        if self.engine is None:
            return None
        return self.b.to_host(self.b.as_array(self.engine.centers)).astype(np.float32)
