"""Steps for ``python -m accel demo``: the same index work on faiss-cpu (plain) and vector."""

from __future__ import annotations

from typing import Any

import numpy as np

from accel.core import DemoStep

__all__ = ["demo_steps"]


def _data(n: int, nq: int, d: int, seed: int, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, d)).astype(np.float32) * 3
    xb = centers[rng.integers(0, clusters, n)] + rng.standard_normal((n, d)).astype(np.float32)
    xq = centers[rng.integers(0, clusters, nq)] + rng.standard_normal((nq, d)).astype(np.float32)
    return xb.astype(np.float32), xq.astype(np.float32)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    hits = sum(len(set(f) & set(t)) for f, t in zip(found[:, :k], truth, strict=True))
    return hits / truth.size


def demo_steps(scale: float = 1.0) -> list[DemoStep]:
    """Flat build+search (exact agreement) and HNSW/IVF recall@10 (within 0.01 of faiss)."""
    import vector
    from vector._faiss import faiss

    n = max(2_000, int(100_000 * scale))
    n_graph = max(2_000, int(20_000 * scale))
    nlist = max(8, min(128, n_graph // 39))  # faiss wants 39 training points per list
    xb, xq = _data(n, 500, 128, 0, 64)
    # many small clusters: hard enough that recall is below 1.0
    gb, gq = _data(n_graph, 500, 64, 1, 2_000)
    truth = faiss.knn(gq, gb, 10)[1]
    last: dict[str, Any] = {}

    def flat(module: Any) -> np.ndarray:
        index = module.IndexFlatL2(xb.shape[1])
        index.add(xb)
        last["index"] = index
        return np.asarray(index.search(xq, 10)[1])

    def flat_same(plain: np.ndarray, ours: np.ndarray) -> bool:
        # exact on the CPU; on a GPU float rounding may swap near-ties, so 99.9% overlap
        return bool(np.array_equal(plain, ours) or _recall(ours, plain) >= 0.999)

    def hnsw(module: Any) -> float:
        index = module.IndexHNSWFlat(gb.shape[1], 32)
        index.hnsw.efSearch = 16
        index.add(gb)
        last["index"] = index
        return _recall(np.asarray(index.search(gq, 10)[1]), truth)

    def ivf(module: Any) -> float:
        index = module.IndexIVFFlat(module.IndexFlatL2(gb.shape[1]), gb.shape[1], nlist)
        index.train(gb)
        index.add(gb)
        index.nprobe = 8
        last["index"] = index
        return _recall(np.asarray(index.search(gq, 10)[1]), truth)

    def recall_same(plain: float, ours: float) -> bool:
        return ours >= plain - 0.01

    def device() -> str:
        index = last.get("index")
        if index is None or not isinstance(index, vector.Index):
            return "-"
        engine = {"cpu": "faiss-cpu", "gpu": "cuVS"}.get(index.device, "stand-in")
        return f"{index.device} ({engine}): {index.fallback_reason or index.device_reason}"

    return [
        DemoStep(
            f"flat L2 add+search {n:,}x128",
            lambda: flat(faiss),
            lambda: flat(vector),
            flat_same,
            device,
        ),
        DemoStep(
            f"HNSW32 recall@10 {n_graph:,}x64",
            lambda: hnsw(faiss),
            lambda: hnsw(vector),
            recall_same,
            device,
        ),
        DemoStep(
            f"IVF{nlist} nprobe 8 recall@10 {n_graph:,}x64",
            lambda: ivf(faiss),
            lambda: ivf(vector),
            recall_same,
            device,
        ),
    ]
