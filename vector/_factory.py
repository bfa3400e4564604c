"""index_factory: faiss's own parser on the CPU; the common strings mapped to cuVS on the GPU path."""

from __future__ import annotations

import re

from vector import _placement
from vector._index import (
    Index,
    IndexFlat,
    IndexHNSWFlat,
    IndexIDMap,
    IndexIDMap2,
    IndexIVFFlat,
    IndexIVFPQ,
    wrap_faiss,
)
from vector._params import METRIC_L2

__all__ = ["index_factory"]

_IVF = re.compile(r"^IVF(\d+)([kM]?)$")
_PQ = re.compile(r"^PQ(\d+)(?:x(\d+))?$")
_HNSW = re.compile(r"^HNSW(\d+)$")
_SCALE = {"": 1, "k": 1 << 10, "M": 1 << 20}


def _gpu_index(d: int, body: list[str], metric: int, device: str) -> Index | None:
    """The GPU-path index for a parsed description, or None when cuVS has no equivalent."""
    if body == ["Flat"]:
        return IndexFlat(d, metric, device=device)
    hnsw = _HNSW.match(body[0]) if body else None
    if hnsw and body[1:] in ([], ["Flat"]):
        return IndexHNSWFlat(d, int(hnsw.group(1)), metric, device=device)
    ivf = _IVF.match(body[0]) if len(body) == 2 else None
    if ivf:
        nlist = int(ivf.group(1)) * _SCALE[ivf.group(2)]
        if body[1] == "Flat":
            return IndexIVFFlat(None, d, nlist, metric, device=device)
        pq = _PQ.match(body[1])
        if pq:
            nbits = int(pq.group(2) or 8)
            return IndexIVFPQ(None, d, nlist, int(pq.group(1)), nbits, metric, device=device)
    return None


def index_factory(
    d: int, description: str, metric: int = METRIC_L2, *, device: str | None = None
) -> Index:
    """Build an index from a faiss factory string ("Flat", "IDMap,Flat", "IVF100,Flat",
    "IVF100,PQ8", "HNSW32", ...). On the CPU every faiss string works; on the GPU path the
    strings above map to cuVS and any other string falls back to faiss-cpu with a reason."""
    placement = _placement.resolve(device)
    d, metric = int(d), int(metric)
    if placement.on_gpu_path:
        parts = [part.strip() for part in description.split(",")]
        wrapper: type[IndexIDMap] | None = None
        for tag, cls in (("IDMap2", IndexIDMap2), ("IDMap", IndexIDMap)):
            if parts and tag in (parts[0], parts[-1]):
                wrapper = cls
                parts.remove(tag)
                break
        index = _gpu_index(d, parts, metric, placement.device)
        if index is not None:
            return wrapper(index) if wrapper is not None else index
        placement = _placement.fallback(
            f"index_factory({description!r})",
            "this description has no cuVS equivalent",
            meant=placement.device,
        )
    from vector._faiss import faiss

    return wrap_faiss(faiss.index_factory(d, description, metric), placement)
