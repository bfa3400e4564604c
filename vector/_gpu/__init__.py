"""The GPU path: an engine over a host row store and one strategy per cuVS kind (no GPU imports).

``binding`` (what a device provides) · ``rows`` (host vectors, ids, tombstones, buffered adds) ·
``base`` + ``flat`` / ``ivf_flat`` / ``ivf_pq`` / ``cagra`` (one module per kind) · ``memory``
(free bytes, fit check) · ``batching`` (search batches, filter bitsets) · ``rerank`` (exact
distances, faiss's order) · ``engine`` (the orchestration behind :mod:`vector._engine`).
"""

from __future__ import annotations

from vector._gpu.binding import Binding
from vector._gpu.engine import GpuEngine

__all__ = ["Binding", "GpuEngine"]
