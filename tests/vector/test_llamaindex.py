"""LlamaIndex's FaissVectorStore and FaissMapVectorStore with ``vector`` installed as ``faiss``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

# LlamaIndex is in the dev extras, not in the RAPIDS venv: skip there, do not fail collection.
pytest.importorskip("llama_index.vector_stores.faiss")

from llama_index.core.schema import TextNode
from llama_index.core.vector_stores import VectorStoreQuery
from llama_index.vector_stores.faiss import FaissMapVectorStore, FaissVectorStore

import vector

from .conftest import make_data

D = 32


@pytest.fixture
def as_faiss(monkeypatch, device):
    # LlamaIndex does `import faiss` inside its methods and checks isinstance(faiss.IndexIDMap).
    monkeypatch.setitem(sys.modules, "faiss", vector)
    monkeypatch.setenv("ACCEL_DEVICE", device)
    return vector


def _nodes(n: int, seed: int = 0) -> list[TextNode]:
    emb = make_data(n, D, seed)
    return [TextNode(text=f"node {i}", id_=f"n{i}", embedding=emb[i].tolist()) for i in range(n)]


def test_vector_store_add_query_persist(as_faiss, tmp_path, device):
    faiss = as_faiss
    store = FaissVectorStore(faiss_index=faiss.IndexFlatL2(D))
    nodes = _nodes(20)
    ids = store.add(nodes)  # one vector at a time, as LlamaIndex does
    assert len(ids) == 20
    assert store.client.ntotal == 20
    result = store.query(VectorStoreQuery(query_embedding=nodes[7].embedding, similarity_top_k=3))
    assert result.ids[0] == "7"
    assert result.similarities[0] == 0.0
    path = tmp_path / "default__vector_store.json"
    store.persist(persist_path=str(path))
    loaded = FaissVectorStore.from_persist_path(str(path))
    assert loaded.client.ntotal == 20
    assert loaded.client.device == device
    again = loaded.query(VectorStoreQuery(query_embedding=nodes[3].embedding, similarity_top_k=1))
    assert again.ids == ["3"]


def test_map_store_add_delete_query(as_faiss, tmp_path):
    faiss = as_faiss
    store = FaissMapVectorStore(faiss_index=faiss.IndexIDMap2(faiss.IndexFlatL2(D)))
    nodes = _nodes(10, 1)
    store.add(nodes)
    store.delete("n4")
    store.delete_nodes(["n5", "n6"])
    assert store.client.ntotal == 7
    result = store.query(VectorStoreQuery(query_embedding=nodes[4].embedding, similarity_top_k=10))
    assert "n4" not in result.ids
    assert "n5" not in result.ids
    assert len(result.ids) == 7
    hit = store.query(VectorStoreQuery(query_embedding=nodes[8].embedding, similarity_top_k=1))
    assert hit.ids == ["n8"]
    store.persist(persist_path=str(tmp_path / "store.json"))
    loaded = FaissMapVectorStore.from_persist_path(str(tmp_path / "store.json"))
    assert loaded.client.ntotal == 7


def test_map_store_rejects_plain_index_like_with_faiss(as_faiss):
    with pytest.raises(ValueError, match="IndexIDMap"):
        FaissMapVectorStore(faiss_index=as_faiss.IndexFlatL2(D))


def test_ids_reused_after_delete_are_tolerated(as_faiss):
    # FaissMapVectorStore derives ids from ntotal, so an id can come back after a delete.
    faiss = as_faiss
    index = faiss.IndexIDMap(faiss.IndexFlatL2(D))
    x = make_data(3, D, 2)
    index.add_with_ids(x[:2], np.array([0, 1]))
    index.remove_ids(np.array([0]))
    index.add_with_ids(x[2:], np.array([index.ntotal]))  # id 1 again
    _, ids = index.search(x, 2)
    assert sorted(ids[2]) == [1, 1]
