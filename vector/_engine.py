"""The engine protocol: what an index facade asks of the thing that holds its vectors.

Two engines implement it: :class:`vector._cpu.CpuEngine` (a faiss-cpu index) and
:class:`vector._gpu.GpuEngine` (cuVS, or its host stand-in). The facade in :mod:`vector._index`
validates input, calls one engine method, and moves the index to the CPU when the GPU engine
raises :class:`DeviceOutOfMemory`; :mod:`vector._convert` turns one engine into the other.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["DeviceOutOfMemory", "Engine", "not_implemented"]


class DeviceOutOfMemory(Exception):
    """The device ran out of memory; the index must continue on the CPU.

    ``applied`` is True when the call's data is already in the engine's host copy (buffered
    adds), so the CPU copy holds it and the call must not be repeated there.
    """

    def __init__(self, reason: str, *, applied: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.applied = applied


def not_implemented(what: str, label: str) -> RuntimeError:
    # faiss's own wording, so code matching on "not implemented" keeps working.
    return RuntimeError(f"{what} not implemented for this type of index ({label})")


class Engine(Protocol):
    """One index's storage and search; inputs arrive validated (float32 (n, d), int64 ids)."""

    #: True for the GPU path (cuVS or the stand-in)
    on_device: bool
    #: the faiss-cpu object behind a CPU engine (attributes forward to it), else None
    native: Any
    #: the facade's class name, for messages and the ledger
    label: str
    is_trained: bool
    verbose: bool
    nprobe: int

    @property
    def d(self) -> int: ...
    @property
    def metric_type(self) -> int: ...
    @property
    def metric_arg(self) -> float: ...
    @property
    def ntotal(self) -> int: ...
    @property
    def nlist(self) -> int: ...
    def describe(self) -> str | None: ...
    def train(self, x: np.ndarray) -> None: ...
    def add(self, x: np.ndarray) -> None: ...
    def add_with_ids(self, x: np.ndarray, ids: np.ndarray) -> None: ...
    def search(
        self,
        x: np.ndarray,
        k: int,
        params: Any = None,
        D: Any = None,
        I: Any = None,  # noqa: E741
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def range_search(
        self, x: np.ndarray, thresh: float, params: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
    def remove_ids(self, x: Any) -> int: ...
    def reconstruct(self, key: int) -> np.ndarray: ...
    def reconstruct_n(self, n0: int, ni: int) -> np.ndarray: ...
    def reconstruct_batch(self, keys: np.ndarray) -> np.ndarray: ...
    def reset(self) -> None: ...
    def export(self) -> tuple[np.ndarray, np.ndarray]: ...
    def absorb(self, vectors: np.ndarray, labels: np.ndarray, add_id: int) -> None: ...
    def hnsw_params(self) -> Any: ...
    def id_map(self) -> Any: ...
    def with_id_map(self, two: bool, label: str) -> Engine: ...
