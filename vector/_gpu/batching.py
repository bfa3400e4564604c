"""How the GPU path cuts work to fit the device: search batches and the cuVS filter bitset."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SEARCH_BATCH_BYTES", "bitset", "range_step", "search_batch_rows"]

#: Device bytes one search batch may use (queries, outputs, refine gather).
SEARCH_BATCH_BYTES = 256 << 20


def search_batch_rows(n: int, d: int, k_eff: int, free_bytes: int) -> int:
    """Queries per batch: each needs its row, ``k_eff`` results and the gathered vectors."""
    per_query = 4 * (d + 3 * k_eff + k_eff * d) + 64
    budget = min(SEARCH_BATCH_BYTES, max(free_bytes // 4, 1 << 20))
    return max(1, min(n, budget // per_query))


def range_step(n_rows: int) -> int:
    """Queries per exact range-search step (one distance row per query over ``n_rows``)."""
    return max(1, SEARCH_BATCH_BYTES // (4 * n_rows + 1))


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def bitset(binding: Any, keep: np.ndarray) -> Any:
    """A cuVS filter: uint32 words, bit i = row i, 1 = keep (little-endian bits)."""
    packed = np.packbits(keep, bitorder="little")
    words = np.zeros(_round_up(packed.size, 4), dtype=np.uint8)
    words[: packed.size] = packed
    return binding.filters.from_bitset(binding.to_device(words.view(np.uint32)))
