"""LangChain's FAISS vectorstore, driven through its public API with ``vector`` as its faiss."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest

# LangChain is in the dev extras, not in the RAPIDS venv: skip there, do not fail collection.
pytest.importorskip("langchain_community")

from langchain_community.vectorstores import faiss as lc_faiss
from langchain_community.vectorstores.faiss import FAISS
from langchain_community.vectorstores.utils import DistanceStrategy
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

import vector

TEXTS = [
    "GPUs speed up vector search",
    "cuVS builds CAGRA graphs on the GPU",
    "faiss-cpu answers exact nearest neighbour queries",
    "pandas dataframes hold tabular data",
    "Spark plans run on many machines",
    "the cat sat on the mat",
    "a dog chased the ball in the park",
    "vector search finds similar embeddings",
]


class HashEmbeddings(Embeddings):
    """Deterministic bag-of-words embedding: texts sharing words are close (no model needed)."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def _embed(self, text: str) -> list[float]:
        out = np.zeros(self.dim, dtype=np.float32)
        for word in text.lower().split():
            digest = hashlib.sha256(word.encode()).digest()
            out[digest[0] % self.dim] += 1.0
            out[digest[1] % self.dim] += 0.5
        return (out / max(float(np.linalg.norm(out)), 1e-6)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


@pytest.fixture
def use_vector(monkeypatch, device):
    """LangChain's faiss import returns ``vector``; new indexes go to ``device``."""
    monkeypatch.setattr(lc_faiss, "dependable_faiss_import", lambda no_avx2=None: vector)
    monkeypatch.setenv("ACCEL_DEVICE", device)
    return device


def test_add_search_and_exact_self_distance(use_vector):
    store = FAISS.from_texts(TEXTS, HashEmbeddings(), metadatas=[{"i": i} for i in range(8)])
    assert isinstance(store.index, vector.IndexFlatL2)
    assert store.index.device == use_vector
    hits = store.similarity_search_with_score(TEXTS[1], k=3)
    assert hits[0][0].page_content == TEXTS[1]
    assert hits[0][1] == 0.0  # LangChain's own tests assert an exact 0.0
    # k > ntotal: faiss pads with -1, LangChain skips those
    assert len(store.similarity_search("GPU", k=50)) == len(TEXTS)
    filtered = store.similarity_search("GPU vector search", k=2, filter={"i": 7})
    assert [d.metadata["i"] for d in filtered] == [7]


def test_mmr_uses_reconstruct(use_vector):
    store = FAISS.from_texts(TEXTS, HashEmbeddings())
    docs = store.max_marginal_relevance_search("vector search on the GPU", k=3, fetch_k=6)
    assert len(docs) == 3
    assert len({d.page_content for d in docs}) == 3


def test_delete_relies_on_flat_renumbering(use_vector):
    store = FAISS.from_texts(TEXTS, HashEmbeddings(), ids=[f"id{i}" for i in range(8)])
    assert store.delete(["id0", "id5"])
    assert store.index.ntotal == 6
    for text in TEXTS[1:5] + TEXTS[6:]:
        assert store.similarity_search(text, k=1)[0].page_content == text
    remaining = {d.page_content for d in store.similarity_search("x", k=10)}
    assert TEXTS[0] not in remaining
    assert TEXTS[5] not in remaining


def test_inner_product_store_and_merge(use_vector):
    a = FAISS.from_texts(
        TEXTS[:4], HashEmbeddings(), distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT
    )
    b = FAISS.from_texts(
        TEXTS[4:], HashEmbeddings(), distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT
    )
    assert isinstance(a.index, vector.IndexFlatIP)
    a.merge_from(b)
    assert a.index.ntotal == 8
    assert a.similarity_search(TEXTS[6], k=1)[0].page_content == TEXTS[6]


def test_save_load_and_bytes(use_vector, tmp_path):
    store = FAISS.from_texts(TEXTS, HashEmbeddings())
    store.save_local(str(tmp_path))
    loaded = FAISS.load_local(str(tmp_path), HashEmbeddings(), allow_dangerous_deserialization=True)
    assert loaded.index.ntotal == 8
    assert loaded.similarity_search(TEXTS[3], k=1)[0].page_content == TEXTS[3]
    again = FAISS.deserialize_from_bytes(
        store.serialize_to_bytes(), HashEmbeddings(), allow_dangerous_deserialization=True
    )
    assert again.similarity_search(TEXTS[4], k=1)[0].page_content == TEXTS[4]
    # the pickled index inside is ours
    index, _docstore, _ids = pickle.loads(store.serialize_to_bytes())
    assert isinstance(index, vector.IndexFlatL2)


def test_add_documents_after_creation(use_vector):
    store = FAISS.from_texts(TEXTS[:2], HashEmbeddings())
    store.add_documents([Document(page_content=t) for t in TEXTS[2:]])
    assert store.index.ntotal == 8
    assert store.similarity_search(TEXTS[7], k=1)[0].page_content == TEXTS[7]
