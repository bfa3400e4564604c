"""faiss's binary format checked before faiss parses it (flat files completely), with clear errors."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["HEADER_BYTES", "IndexReadError", "check_flat_bytes", "deserialize_faiss", "short"]


class IndexReadError(RuntimeError):
    """An index file or buffer could not be read; the message names the file and the problem."""


# fourcc -> element size of the one vector that follows the header, for the flat formats we can
# check completely before faiss parses them.
_FLAT_FOURCCS = {b"IxF2", b"IxFI", b"IxFl"}
HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4  # fourcc, d, ntotal, 2 dummies, is_trained, metric


def check_flat_bytes(head: bytes | memoryview, total: int, name: str) -> None:
    """Reject truncated or inconsistent flat files before faiss sees them.

    ``head`` is the first bytes (at least the header), ``total`` the full length.
    """
    if total < 4:
        raise IndexReadError(f"{name}: {total} bytes is too short to be a faiss index")
    if bytes(head[:4]) not in _FLAT_FOURCCS:
        return
    if total < HEADER_BYTES + 8 or len(head) < HEADER_BYTES + 8:
        raise IndexReadError(f"{name}: truncated flat index header ({total} bytes)")
    d = int(np.frombuffer(head, dtype=np.int32, count=1, offset=4)[0])
    ntotal = int(np.frombuffer(head, dtype=np.int64, count=1, offset=8)[0])
    metric = int(np.frombuffer(head, dtype=np.int32, count=1, offset=33)[0])
    offset = HEADER_BYTES + (4 if metric > 1 else 0)
    if d <= 0 or ntotal < 0 or total < offset + 8 or len(head) < offset + 8:
        raise IndexReadError(f"{name}: corrupt flat index header (d={d}, ntotal={ntotal})")
    count = int(np.frombuffer(head, dtype=np.uint64, count=1, offset=offset)[0])
    expected = offset + 8 + 4 * count
    if count != d * ntotal or total != expected:
        raise IndexReadError(
            f"{name}: corrupt or truncated flat index: header says {ntotal} x {d} floats, "
            f"it has {total} bytes (expected {expected})"
        )


def short(exc: BaseException) -> str:
    # faiss messages start with "Error in <C++ signature> at file:line: "; keep the reason.
    text = str(exc).strip()
    return text.split(": ", 2)[-1] if text.startswith("Error in") else text


def deserialize_faiss(data: np.ndarray, name: str) -> Any:
    """The faiss object serialized in ``data``; IndexReadError (naming ``name``) if unreadable."""
    from vector._faiss import faiss

    check_flat_bytes(data[: HEADER_BYTES + 16].tobytes(), int(data.size), name)
    try:
        return faiss.deserialize_index(np.ascontiguousarray(data, dtype=np.uint8))
    except RuntimeError as exc:
        raise IndexReadError(f"{name} is not a readable faiss index: {short(exc)}") from None
    except MemoryError:
        raise IndexReadError(f"{name} is corrupt (it asks for impossible sizes)") from None
