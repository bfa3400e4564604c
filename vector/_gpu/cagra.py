"""HNSW on the GPU path as cuVS CAGRA (graph degree 2*M); exact brute force below a size."""

from __future__ import annotations

from typing import Any

from vector._gpu.base import Strategy

__all__ = ["CAGRA_MIN_ROWS", "Cagra"]

#: Below this many rows a CAGRA graph is not worth building; search is exact brute force.
CAGRA_MIN_ROWS = 4_096


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class Cagra(Strategy):
    kind = "cagra"
    ids_count_up = True

    def __init__(self, binding: Any, d: int, metric: int, *, hnsw_m: int) -> None:
        self.hnsw_m = int(hnsw_m)
        super().__init__(binding, d, metric)

    def device_bytes(self, rows: int, old_rows: int) -> int:
        need = super().device_bytes(rows, old_rows) + rows * 4 * self.d  # cuVS's own copy
        return need + rows * 4 * 2 * self.hnsw_m  # the graph

    def _extend(self, new_dev: Any, first_row: int, n_rows: int) -> None:
        if n_rows < CAGRA_MIN_ROWS:
            self._build_brute_force()
        elif self.engine_kind != "cagra" or first_row == 0:
            self._build_cagra()
        else:
            # cuVS >= 26.10: the caller passes old || new rows and the row where the new ones
            # start; the index then reads that array, which must outlive it.
            cagra = self.b.cagra
            extended = cagra.extend(cagra.ExtendParams(), self.engine, self.dev_data, first_row)
            self.engine = extended if extended is not None else self.engine
            self._engine_data = self.dev_data

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

    def search(self, q: Any, k: int, bitset: Any, nprobe: int, ef_search: int) -> tuple[Any, Any]:
        if self.engine_kind == "bf":
            return self._search_brute_force(q, k, bitset)
        # CAGRA needs k <= itopk_size; itopk is rounded to 32 like cuVS does internally.
        itopk = _round_up(max(int(ef_search), k, 32), 32)
        params = self.b.cagra.SearchParams(itopk_size=itopk)
        return self.b.cagra.search(params, self.engine, q, k, filter=bitset)
