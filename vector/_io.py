"""write_index / read_index / serialize: faiss's binary format, atomic writes, clear read errors."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from vector import _convert
from vector._index import Index, as_faiss, wrap_faiss

__all__ = [
    "IO_FLAG_MMAP",
    "IO_FLAG_READ_ONLY",
    "IndexReadError",
    "deserialize_index",
    "deserialize_into",
    "read_index",
    "serialize_index",
    "write_index",
]

# Same values as faiss/index_io.h.
IO_FLAG_READ_ONLY = 2
IO_FLAG_MMAP = 1684996104  # 'mmap' fourcc-style flag value, as faiss 1.15 defines it


class IndexReadError(RuntimeError):
    """An index file or buffer could not be read; the message names the file and the problem."""


# fourcc -> element size of the one vector that follows the header, for the flat formats we can
# check completely before faiss parses them.
_FLAT_FOURCCS = {b"IxF2", b"IxFI", b"IxFl"}
_HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4  # fourcc, d, ntotal, 2 dummies, is_trained, metric


def _cpu_object(index: Any) -> Any:
    if isinstance(index, Index) and index._gpu is not None:
        index = _convert.to_cpu(index)
    return as_faiss(index)


def _check_flat_bytes(head: bytes | memoryview, total: int, name: str) -> None:
    """Reject truncated or inconsistent flat files before faiss sees them.

    ``head`` is the first bytes (at least the header), ``total`` the full length.
    """
    if total < 4:
        raise IndexReadError(f"{name}: {total} bytes is too short to be a faiss index")
    if bytes(head[:4]) not in _FLAT_FOURCCS:
        return
    if total < _HEADER_BYTES + 8 or len(head) < _HEADER_BYTES + 8:
        raise IndexReadError(f"{name}: truncated flat index header ({total} bytes)")
    d = int(np.frombuffer(head, dtype=np.int32, count=1, offset=4)[0])
    ntotal = int(np.frombuffer(head, dtype=np.int64, count=1, offset=8)[0])
    metric = int(np.frombuffer(head, dtype=np.int32, count=1, offset=33)[0])
    offset = _HEADER_BYTES + (4 if metric > 1 else 0)
    if d <= 0 or ntotal < 0 or total < offset + 8 or len(head) < offset + 8:
        raise IndexReadError(f"{name}: corrupt flat index header (d={d}, ntotal={ntotal})")
    count = int(np.frombuffer(head, dtype=np.uint64, count=1, offset=offset)[0])
    expected = offset + 8 + 4 * count
    if count != d * ntotal or total != expected:
        raise IndexReadError(
            f"{name}: corrupt or truncated flat index: header says {ntotal} x {d} floats, "
            f"it has {total} bytes (expected {expected})"
        )


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def write_index(index: Any, fname: Any) -> None:
    """Write ``index`` in faiss's format. Files are written to a temporary name, then renamed,
    so a crash never leaves a partial file. GPU-path indexes are written as their faiss-cpu
    equivalent (plain faiss-cpu can read them)."""
    obj = _cpu_object(index)
    from vector._cpu import faiss

    if hasattr(fname, "write"):
        fname.write(faiss.serialize_index(obj).tobytes())
        return
    path = os.fspath(fname)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        faiss.write_index(obj, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_faiss(fname: Any, io_flags: int) -> Any:
    from vector._cpu import faiss

    if hasattr(fname, "read"):
        data = fname.read()
        return _deserialize_faiss(np.frombuffer(data, dtype=np.uint8), "index stream")
    path = os.fspath(fname)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(_HEADER_BYTES + 16)
    except OSError as exc:
        raise IndexReadError(f"read_index: cannot open {path!r}: {exc.strerror or exc}") from None
    _check_flat_bytes(head, size, path)
    try:
        return faiss.read_index(path, io_flags)
    except RuntimeError as exc:
        raise IndexReadError(
            f"read_index: {path!r} is not a readable faiss index: {_short(exc)}"
        ) from None
    except MemoryError:
        raise IndexReadError(
            f"read_index: {path!r} is corrupt (it asks for impossible sizes)"
        ) from None


def _short(exc: BaseException) -> str:
    # faiss messages start with "Error in <C++ signature> at file:line: "; keep the reason.
    text = str(exc).strip()
    return text.split(": ", 2)[-1] if text.startswith("Error in") else text


def _deserialize_faiss(data: np.ndarray, name: str) -> Any:
    from vector._cpu import faiss

    _check_flat_bytes(data[: _HEADER_BYTES + 16].tobytes(), int(data.size), name)
    try:
        return faiss.deserialize_index(np.ascontiguousarray(data, dtype=np.uint8))
    except RuntimeError as exc:
        raise IndexReadError(f"{name} is not a readable faiss index: {_short(exc)}") from None
    except MemoryError:
        raise IndexReadError(f"{name} is corrupt (it asks for impossible sizes)") from None


def read_index(fname: Any, io_flags: int = 0, *, device: str | None = None) -> Index:
    """Read an index written by ``write_index`` or by faiss itself, and place it on ``device``
    (resolver default: ``ACCEL_DEVICE``, then autodetect)."""
    return _convert.place(wrap_faiss(_read_faiss(fname, io_flags)), device)


def serialize_index(index: Any) -> np.ndarray:
    """The index in faiss's binary format, as a uint8 array."""
    from vector._cpu import faiss

    return faiss.serialize_index(_cpu_object(index))


def deserialize_index(data: Any, *, device: str | None = None) -> Index:
    array = np.asarray(data, dtype=np.uint8).ravel()
    return _convert.place(wrap_faiss(_deserialize_faiss(array, "serialized index")), device)


def deserialize_into(target: Index, data: np.ndarray) -> None:
    """Fill an unpickled (empty) wrapper from serialized bytes."""
    loaded = deserialize_index(data)
    target._setup(loaded._cpu, loaded._gpu, loaded._placement)
    target._refs.extend(loaded._refs)
