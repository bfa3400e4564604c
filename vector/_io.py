"""write_index / read_index / serialize: faiss's binary format, atomic writes, clear read errors."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from vector._format import HEADER_BYTES, IndexReadError, check_flat_bytes, short
from vector._index import Index, faiss_object, from_faiss_bytes, placed, wrap_faiss

__all__ = [
    "IO_FLAG_MMAP",
    "IO_FLAG_READ_ONLY",
    "IndexReadError",
    "deserialize_index",
    "read_index",
    "serialize_index",
    "write_index",
]

# Same values as faiss/index_io.h.
IO_FLAG_READ_ONLY = 2
IO_FLAG_MMAP = 1684996104  # 'mmap' fourcc-style flag value, as faiss 1.15 defines it


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
    obj = faiss_object(index)
    from vector._faiss import faiss

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


def _read_faiss(fname: Any, io_flags: int) -> Index:
    from vector._faiss import faiss

    if hasattr(fname, "read"):
        data = fname.read()
        return from_faiss_bytes(np.frombuffer(data, dtype=np.uint8), "index stream")
    path = os.fspath(fname)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES + 16)
    except OSError as exc:
        raise IndexReadError(f"read_index: cannot open {path!r}: {exc.strerror or exc}") from None
    check_flat_bytes(head, size, path)
    try:
        return wrap_faiss(faiss.read_index(path, io_flags))
    except RuntimeError as exc:
        raise IndexReadError(
            f"read_index: {path!r} is not a readable faiss index: {short(exc)}"
        ) from None
    except MemoryError:
        raise IndexReadError(
            f"read_index: {path!r} is corrupt (it asks for impossible sizes)"
        ) from None


def read_index(fname: Any, io_flags: int = 0, *, device: str | None = None) -> Index:
    """Read an index written by ``write_index`` or by faiss itself, and place it on ``device``
    (resolver default: ``ACCEL_DEVICE``, then autodetect)."""
    return placed(_read_faiss(fname, io_flags), device)


def serialize_index(index: Any) -> np.ndarray:
    """The index in faiss's binary format, as a uint8 array."""
    from vector._faiss import faiss

    return faiss.serialize_index(faiss_object(index))


def deserialize_index(data: Any, *, device: str | None = None) -> Index:
    array = np.asarray(data, dtype=np.uint8).ravel()
    return placed(from_faiss_bytes(array, "serialized index"), device)
