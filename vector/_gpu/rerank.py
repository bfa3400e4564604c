"""Turning cuVS's answer into faiss's: row -> id, exact distances re-computed, faiss's order."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector._params import METRIC_L2

__all__ = ["FLT_MAX", "finish", "order"]

FLT_MAX = float(np.finfo(np.float32).max)


def finish(
    b: Any,
    metric: int,
    dev_data: Any,
    q: Any,
    dist: Any,
    rows: Any,
    keep: np.ndarray | None,
    labels: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(D, I)`` for one batch from cuVS's ``dist``/``rows`` (device arrays)."""
    n_rows = labels.size
    # CAGRA returns uint32 rows with 0xFFFFFFFF for "none": out of range, so invalid below.
    rows_h = b.to_host(b.as_array(rows)).astype(np.int64)
    valid = (rows_h >= 0) & (rows_h < n_rows)
    if keep is not None:
        valid[valid] = keep[rows_h[valid]]
    rows_h[~valid] = -1
    if dev_data is not None:
        # Recompute distances directly (not ||x||^2+||y||^2-2xy): a vector's distance to
        # itself is then exactly 0.0, as with faiss-cpu on single queries.
        safe = b.to_device(np.where(valid, rows_h, 0))
        vecs = dev_data[safe]
        if metric == METRIC_L2:
            diff = vecs - q[:, None, :]
            dist_dev = (diff * diff).sum(axis=2)
        else:
            dist_dev = (vecs * q[:, None, :]).sum(axis=2)
        dist_h = b.to_host(dist_dev).astype(np.float32)
    else:
        dist_h = b.to_host(b.as_array(dist)).astype(np.float32)
    return order(metric, dist_h, rows_h, valid, labels)


def order(
    metric: int, dist: np.ndarray, rows: np.ndarray, valid: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sort each result row like faiss: best distance first, ties by smaller id, pads last."""
    ids = np.where(valid, labels[np.where(valid, rows, 0)], -1)
    worst = FLT_MAX if metric == METRIC_L2 else -FLT_MAX
    dist = np.where(valid, dist, worst).astype(np.float32)
    key = dist if metric == METRIC_L2 else -dist
    sort = np.lexsort((ids, key, ~valid), axis=1)
    return np.take_along_axis(dist, sort, 1), np.take_along_axis(ids, sort, 1)
