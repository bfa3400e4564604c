"""Flat (exact) indexes on cuVS brute force; rebuilt on every add and removal (cheap)."""

from __future__ import annotations

from typing import Any

from vector._gpu.base import Strategy

__all__ = ["Flat"]


class Flat(Strategy):
    kind = "flat"
    compacts_at_once = True

    def _extend(self, new_dev: Any, first_row: int, n_rows: int) -> None:
        self._build_brute_force()

    def search(self, q: Any, k: int, bitset: Any, nprobe: int, ef_search: int) -> tuple[Any, Any]:
        return self._search_brute_force(q, k, bitset)
