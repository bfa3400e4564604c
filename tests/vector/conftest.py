"""Fixtures for the vector tests: seeded data and faiss-cpu as the oracle (``device`` is the
suite's, from tests/conftest.py: cpu, simulated, gpu-marked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vector._cpu import faiss as real_faiss


@pytest.fixture
def oracle():
    """The real faiss-cpu module: every answer is compared with it."""
    return real_faiss


REPO_ROOT = Path(__file__).resolve().parents[2]


def make_data(n: int, d: int, seed: int = 0, clusters: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if not clusters:
        return rng.standard_normal((n, d)).astype(np.float32)
    centers = rng.standard_normal((clusters, d)).astype(np.float32) * 4
    return (centers[rng.integers(0, clusters, n)] + rng.standard_normal((n, d))).astype(np.float32)


def recall_at(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k]) - {-1}) for f, t in zip(found, truth, strict=True))
    return hits / (truth.shape[0] * k)
