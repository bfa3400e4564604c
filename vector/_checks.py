"""Input validation shared by every index: shapes, dtypes, NaN, k, ids (faiss-compatible, clearer)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vector._placement import InputError

__all__ = ["as_ids", "as_k", "as_matrix"]


def _to_host(x: Any) -> Any:
    # CuPy arrays (and anything else with .get()) are copied to the host; faiss would refuse them.
    if hasattr(x, "__cuda_array_interface__") and hasattr(x, "get"):
        return x.get()
    return x


def as_matrix(x: Any, d: int, what: str = "x") -> np.ndarray:
    """``x`` as a C-contiguous float32 (n, d) array, like faiss's wrappers, plus a NaN check.

    faiss converts float64/float16/int input to float32 silently; so do we. Unlike faiss, rows with
    NaN or infinity are refused: they can never be found and they poison k-means training.
    """
    if type(x) is not np.ndarray:  # the common case skips these probes (per-query cost)
        x = _to_host(x)
        if getattr(x, "shape", None) is None:
            x = np.asarray(x)
    shape = x.shape
    if len(shape) != 2:
        raise InputError(f"{what} must be a 2-D array of shape (n, {d}); got shape {tuple(shape)}")
    if shape[1] != d:
        raise InputError(f"{what} has {shape[1]} columns but the index has d={d}")
    try:
        ok = type(x) is np.ndarray and x.dtype == np.float32 and x.flags.c_contiguous
        out = x if ok else np.ascontiguousarray(x, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be converted to float32: {exc}") from None
    if out.size:
        # One BLAS dot finds any NaN or inf cheaply (they propagate into the sum of squares);
        # a finite sum that overflows only costs the exact per-row check below.
        flat = out.reshape(-1)
        if not math.isfinite(float(np.dot(flat, flat))):
            bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
            if bad.size:
                raise InputError(
                    f"{what} row {int(bad[0])} contains NaN or infinity "
                    f"({bad.size} bad row(s)); such vectors cannot be indexed or searched"
                )
    return out


def as_k(k: Any) -> int:
    """``k`` as a positive int (faiss asserts k > 0)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise InputError(f"k must be a positive integer; got {k!r}")
    if k <= 0:
        raise InputError(f"k must be a positive integer; got {k}")
    return int(k)


def as_ids(ids: Any, n: int) -> np.ndarray:
    """``ids`` as a contiguous int64 array of length ``n``."""
    ids = np.ascontiguousarray(_to_host(ids), dtype=np.int64)
    if ids.shape != (n,):
        raise InputError(f"ids must have shape ({n},) to match the vectors; got {ids.shape}")
    return ids
