"""The faiss-cpu engine: a faiss index behind the engine protocol (results are faiss's own).

``vector._cpu.faiss`` is the real faiss-cpu module, loaded on first use by :mod:`vector._faiss`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vector import _progress
from vector._params import IDSelector, to_faiss_params, to_faiss_selector

__all__ = ["CpuEngine", "faiss"]  # noqa: F822 (faiss: a lazy module attribute, see __getattr__)


def __getattr__(name: str) -> Any:
    if name == "faiss":  # loaded lazily: a GPU-only process never needs faiss-cpu
        from vector._faiss import faiss

        return faiss
    raise AttributeError(f"module 'vector._cpu' has no attribute {name!r}")


def _faiss() -> Any:
    from vector._faiss import faiss

    return faiss


class CpuEngine:
    """A faiss-cpu index (``native``); every call is faiss's, plus progress for long builds."""

    on_device = False
    __slots__ = ("label", "native")

    def __init__(self, native: Any, label: str = "") -> None:
        self.native = native
        self.label = label or type(native).__name__

    # --- attributes ---------------------------------------------------------------------------
    @property
    def d(self) -> int:
        return int(self.native.d)

    @property
    def ntotal(self) -> int:
        return int(self.native.ntotal)

    @property
    def is_trained(self) -> bool:
        return bool(self.native.is_trained)

    @is_trained.setter
    def is_trained(self, value: bool) -> None:
        self.native.is_trained = bool(value)

    @property
    def metric_type(self) -> int:
        return int(self.native.metric_type)

    @property
    def metric_arg(self) -> float:
        return float(self.native.metric_arg)

    @property
    def verbose(self) -> bool:
        return bool(self.native.verbose)

    @verbose.setter
    def verbose(self, value: bool) -> None:
        self.native.verbose = bool(value)

    @property
    def nprobe(self) -> int:
        return int(self.native.nprobe)

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.native.nprobe = int(value)

    @property
    def nlist(self) -> int:
        return int(self.native.nlist)

    def describe(self) -> None:
        return None

    def hnsw_params(self) -> Any:
        return self.native.hnsw

    def id_map(self) -> Any:
        return self.native.id_map

    def with_id_map(self, two: bool, label: str) -> CpuEngine:
        faiss = _faiss()
        cls = faiss.IndexIDMap2 if two else faiss.IndexIDMap
        return CpuEngine(cls(self.native), label)

    # --- building -----------------------------------------------------------------------------
    def _is_ivf(self) -> bool:
        return isinstance(self.native, _faiss().IndexIVF)

    def _estimate(self, phase: str, n: int) -> float:
        """Rough seconds a train/add of ``n`` vectors takes (only to decide on a bar)."""
        faiss = _faiss()
        if phase == "add" and isinstance(self.native, faiss.IndexHNSW):
            return _progress.estimate_seconds("hnsw", n, self.d)
        if isinstance(self.native, faiss.IndexIVF):
            return _progress.estimate_seconds(f"ivf_{phase}", n, self.d, self.nlist)
        return 0.0

    def train(self, x: np.ndarray) -> None:
        with _progress.building(f"{self.label}.train", self._estimate("train", len(x))):
            self.native.train(x)

    def add(self, x: np.ndarray) -> None:
        expected = self._estimate("add", len(x))
        if self._is_ivf() and _progress.shows(expected):
            # IVF adds are per vector (assign, encode, append), so adding in slices gives the
            # same index as one call: the bar can show a percentage.
            with _progress.counting(f"{self.label}.add", len(x), "vectors", True) as tick:
                for start, stop in _progress.slices(len(x)):
                    self.native.add(x[start:stop])
                    tick(stop - start)
            return
        with _progress.building(f"{self.label}.add", expected):
            self.native.add(x)

    def add_with_ids(self, x: np.ndarray, ids: np.ndarray) -> None:
        self.native.add_with_ids(x, ids)

    def absorb(self, vectors: np.ndarray, labels: np.ndarray, add_id: int) -> None:
        faiss = _faiss()
        if isinstance(self.native, (faiss.IndexIDMap, faiss.IndexIVF)):
            self.native.add_with_ids(vectors, labels + add_id)
        else:
            self.native.add(vectors)

    # --- searching ------------------------------------------------------------------------------
    def search(
        self,
        x: np.ndarray,
        k: int,
        params: Any = None,
        D: Any = None,
        I: Any = None,  # noqa: E741
    ) -> tuple[np.ndarray, np.ndarray]:
        if params is None:
            return self.native.search(x, k, D=D, I=I)
        keep: list[Any] = []  # faiss holds raw pointers into these during the call
        return self.native.search(x, k, params=to_faiss_params(params, keep), D=D, I=I)

    def range_search(
        self, x: np.ndarray, thresh: float, params: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keep: list[Any] = []
        return self.native.range_search(x, float(thresh), params=to_faiss_params(params, keep))

    # --- removing, reading back -----------------------------------------------------------------
    def remove_ids(self, x: Any) -> int:
        keep: list[Any] = []
        if isinstance(x, IDSelector):
            return int(self.native.remove_ids(to_faiss_selector(x, keep)))
        if isinstance(x, (np.ndarray, list, tuple)):
            x = np.ascontiguousarray(x, dtype=np.int64)
        return int(self.native.remove_ids(x))

    def reconstruct(self, key: int) -> np.ndarray:
        return self.native.reconstruct(key)

    def reconstruct_n(self, n0: int, ni: int) -> np.ndarray:
        ni = self.native.ntotal - n0 if ni < 0 else ni
        return self.native.reconstruct_n(n0, ni)

    def reconstruct_batch(self, keys: np.ndarray) -> np.ndarray:
        return self.native.reconstruct_batch(keys)

    def reset(self) -> None:
        self.native.reset()

    def export(self) -> tuple[np.ndarray, np.ndarray]:
        """Live vectors and their ids."""
        faiss, index = _faiss(), self.native
        if isinstance(index, faiss.IndexIDMap):
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            sub = index.index
            return sub.reconstruct_n(0, sub.ntotal), ids
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()
            invlists = index.invlists
            ids = np.concatenate(
                [
                    faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                    for i in range(index.nlist)
                ]
                or [np.empty(0, dtype=np.int64)]
            )
            ids = np.sort(ids)
            return index.reconstruct_batch(ids), ids
        n = index.ntotal
        return index.reconstruct_n(0, n), np.arange(n, dtype=np.int64)
