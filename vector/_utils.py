"""Module-level helpers of faiss: normalize_L2, threads, vector_to_array, knn."""

from __future__ import annotations

from typing import Any

import numpy as np

from vector._params import METRIC_L2

__all__ = ["knn", "normalize_L2", "omp_get_max_threads", "omp_set_num_threads", "vector_to_array"]


def normalize_L2(x: Any) -> None:
    """Scale each row of ``x`` to unit L2 norm, in place (zero rows stay zero), like faiss.

    As in faiss, ``x`` must be a C-contiguous float32 2-D array: a copy would be normalised
    instead of the caller's data, which is the classic silent bug this refuses.
    """
    if hasattr(x, "__cuda_array_interface__") and not isinstance(x, np.ndarray):
        import cupy as cp  # only reached with a CuPy array in hand

        norms = cp.linalg.norm(x, axis=1, keepdims=True)
        x /= cp.where(norms > 0, norms, 1)
        return
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
        raise TypeError(
            "normalize_L2 works in place on a 2-D float32 numpy array; got "
            f"{type(x).__name__} {getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}".rstrip()
        )
    if not x.flags.c_contiguous:
        raise TypeError("normalize_L2 needs a C-contiguous array (use np.ascontiguousarray first)")
    from vector._faiss import faiss

    faiss.normalize_L2(x)


def omp_set_num_threads(n: int) -> None:
    from vector._faiss import faiss

    faiss.omp_set_num_threads(int(n))


def omp_get_max_threads() -> int:
    from vector._faiss import faiss

    return int(faiss.omp_get_max_threads())


def vector_to_array(v: Any) -> np.ndarray:
    if isinstance(v, np.ndarray):
        return v.copy()
    from vector._faiss import faiss

    return faiss.vector_to_array(v)


def knn(xq: Any, xb: Any, k: int, metric: int = METRIC_L2) -> tuple[np.ndarray, np.ndarray]:
    from vector._faiss import faiss

    return faiss.knn(
        np.ascontiguousarray(xq, dtype=np.float32),
        np.ascontiguousarray(xb, dtype=np.float32),
        int(k),
        metric,
    )
