"""Metric constants, SearchParameters and IDSelectors: plain Python values usable on either device.

On the CPU each converts to its faiss object; on the GPU path a selector becomes a boolean mask over
the index's ids (then a cuVS bitset), as faiss's own cuVS integration does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "METRIC_INNER_PRODUCT",
    "METRIC_L1",
    "METRIC_L2",
    "IDSelector",
    "IDSelectorAll",
    "IDSelectorAnd",
    "IDSelectorArray",
    "IDSelectorBatch",
    "IDSelectorBitmap",
    "IDSelectorNot",
    "IDSelectorOr",
    "IDSelectorRange",
    "IDSelectorXOr",
    "IVFSearchParameters",
    "METRIC_Linf",
    "SearchParameters",
    "SearchParametersHNSW",
    "SearchParametersIVF",
    "to_faiss_params",
    "to_faiss_selector",
]

# Same values as faiss/MetricType.h.
METRIC_INNER_PRODUCT = 0
METRIC_L2 = 1
METRIC_L1 = 2
METRIC_Linf = 3


class IDSelector:
    """Base class: decides, per id, whether a vector takes part in a search or a removal."""

    def mask(self, ids: np.ndarray) -> np.ndarray:
        """Boolean array: True where ``ids`` are selected."""
        raise NotImplementedError

    def is_member(self, id_: int) -> bool:
        return bool(self.mask(np.array([id_], dtype=np.int64))[0])

    def to_faiss(self, keep: list[Any]) -> Any:
        """The equivalent faiss selector; objects it points into are appended to ``keep``."""
        raise NotImplementedError


class IDSelectorAll(IDSelector):
    def mask(self, ids: np.ndarray) -> np.ndarray:
        return np.ones(ids.shape, dtype=bool)

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        return faiss.IDSelectorAll()


class IDSelectorRange(IDSelector):
    """Ids in ``[imin, imax)``."""

    def __init__(self, imin: int, imax: int, assume_sorted: bool = False) -> None:
        self.imin, self.imax, self.assume_sorted = int(imin), int(imax), bool(assume_sorted)

    def mask(self, ids: np.ndarray) -> np.ndarray:
        return (ids >= self.imin) & (ids < self.imax)

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        return faiss.IDSelectorRange(self.imin, self.imax, self.assume_sorted)


class IDSelectorArray(IDSelector):
    """Ids listed in an array (faiss scans it linearly; we use a sorted lookup)."""

    def __init__(self, ids: Any, *rest: Any) -> None:
        # faiss also accepts (n, ids); take the array in either form.
        array = rest[0] if rest else ids
        self.ids = np.ascontiguousarray(array, dtype=np.int64).ravel()
        if rest:
            self.ids = self.ids[: int(ids)]

    def mask(self, ids: np.ndarray) -> np.ndarray:
        return np.isin(ids, self.ids)

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        keep.append(self.ids)
        return faiss.IDSelectorArray(self.ids.size, faiss.swig_ptr(self.ids))


class IDSelectorBatch(IDSelectorArray):
    """Ids listed in an array (faiss uses a hash set and a Bloom filter)."""

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        return faiss.IDSelectorBatch(self.ids.size, faiss.swig_ptr(self.ids))


class IDSelectorBitmap(IDSelector):
    """Id ``i`` is selected when bit ``i % 8`` of byte ``i // 8`` is set (little-endian bits)."""

    def __init__(self, bitmap: Any, *rest: Any) -> None:
        array = rest[0] if rest else bitmap
        self.bitmap = np.ascontiguousarray(array, dtype=np.uint8).ravel()
        if rest:
            self.bitmap = self.bitmap[: int(bitmap)]

    def mask(self, ids: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(self.bitmap, bitorder="little").astype(bool)
        inside = (ids >= 0) & (ids < bits.size)
        out = np.zeros(ids.shape, dtype=bool)
        out[inside] = bits[ids[inside]]
        return out

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        keep.append(self.bitmap)
        return faiss.IDSelectorBitmap(self.bitmap.size, faiss.swig_ptr(self.bitmap))


class IDSelectorNot(IDSelector):
    def __init__(self, sel: IDSelector) -> None:
        self.sel = sel

    def mask(self, ids: np.ndarray) -> np.ndarray:
        return ~self.sel.mask(ids)

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        inner = self.sel.to_faiss(keep)
        keep.append(inner)
        return faiss.IDSelectorNot(inner)


class _IDSelectorPair(IDSelector):
    _faiss_name = ""

    def __init__(self, lhs: IDSelector, rhs: IDSelector) -> None:
        self.lhs, self.rhs = lhs, rhs

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mask(self, ids: np.ndarray) -> np.ndarray:
        return self._combine(self.lhs.mask(ids), self.rhs.mask(ids))

    def to_faiss(self, keep: list[Any]) -> Any:
        from vector._faiss import faiss

        lhs, rhs = self.lhs.to_faiss(keep), self.rhs.to_faiss(keep)
        keep.extend((lhs, rhs))
        return getattr(faiss, self._faiss_name)(lhs, rhs)


class IDSelectorAnd(_IDSelectorPair):
    _faiss_name = "IDSelectorAnd"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a & b


class IDSelectorOr(_IDSelectorPair):
    _faiss_name = "IDSelectorOr"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a | b


class IDSelectorXOr(_IDSelectorPair):
    _faiss_name = "IDSelectorXOr"

    def _combine(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a ^ b


class SearchParameters:
    """Per-search options; ``sel`` restricts the search to selected ids."""

    _fields: tuple[str, ...] = ("sel",)

    def __init__(self, **kwargs: Any) -> None:
        self.sel: IDSelector | None = None
        for name, value in kwargs.items():
            if name not in self._fields:
                raise AttributeError(
                    f"{type(self).__name__} has no parameter {name!r} "
                    f"(known: {', '.join(self._fields)})"
                )
            setattr(self, name, value)


class SearchParametersIVF(SearchParameters):
    _fields = ("sel", "nprobe", "max_codes")

    def __init__(self, **kwargs: Any) -> None:
        self.nprobe = 1
        self.max_codes = 0
        super().__init__(**kwargs)


IVFSearchParameters = SearchParametersIVF


class SearchParametersHNSW(SearchParameters):
    _fields = ("sel", "efSearch", "check_relative_distance", "bounded_queue")

    def __init__(self, **kwargs: Any) -> None:
        self.efSearch = 16
        self.check_relative_distance = True
        self.bounded_queue = True
        super().__init__(**kwargs)


def to_faiss_selector(sel: Any, keep: list[Any]) -> Any:
    """A faiss selector for ``sel`` (ours, or already a faiss one)."""
    if isinstance(sel, IDSelector):
        out = sel.to_faiss(keep)
        keep.append(out)
        return out
    return sel


def to_faiss_params(params: Any, keep: list[Any]) -> Any:
    """faiss SearchParameters for ``params`` (ours, a faiss one, or None)."""
    if params is None or not isinstance(params, SearchParameters):
        return params
    from vector._faiss import faiss

    if isinstance(params, SearchParametersIVF):
        out = faiss.SearchParametersIVF()
        out.nprobe = int(params.nprobe)
        out.max_codes = int(params.max_codes)
    elif isinstance(params, SearchParametersHNSW):
        out = faiss.SearchParametersHNSW()
        out.efSearch = int(params.efSearch)
        out.check_relative_distance = bool(params.check_relative_distance)
        out.bounded_queue = bool(params.bounded_queue)
    else:
        out = faiss.SearchParameters()
    if params.sel is not None:
        out.sel = to_faiss_selector(params.sel, keep)
    keep.append(out)
    return out
