"""Random add/remove/search sequences on the GPU path (host stand-in) against a plain model.

The machinery under test (id labels, tombstones, compaction, buffered adds) is what cuVS lacks,
so it is checked against the obvious answer: exact k-NN over the ids still present.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vector
from vector._gpu import cagra

D = 8

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 40)),
        st.tuples(st.just("remove"), st.floats(0.0, 1.0)),
        st.tuples(st.just("search"), st.integers(1, 12)),
    ),
    min_size=1,
    max_size=15,
)


def _make(kind: str):
    if kind == "idmap":
        return vector.IndexIDMap2(vector.IndexFlatL2(D, device="simulated"))
    if kind == "ivf":
        index = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 4, device="simulated")
        index.train(np.random.default_rng(99).standard_normal((200, D)).astype(np.float32))
        index.nprobe = 4  # every list: exact, so the model's answer is the right one
        return index
    index = vector.IndexHNSWFlat(D, 8, device="simulated")
    index.hnsw.efSearch = 256
    return index


@pytest.mark.parametrize("kind", ["idmap", "ivf", "hnsw"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=ops, seed=st.integers(0, 2**16))
def test_random_sequences_match_exact_search(monkeypatch, kind, sequence, seed):
    monkeypatch.setattr(cagra, "CAGRA_MIN_ROWS", 16)  # reach the CAGRA (graph) path with tiny data
    rng = np.random.default_rng(seed)
    index = _make(kind)
    model: dict[int, np.ndarray] = {}
    next_id = 0
    for op, arg in sequence:
        if op == "add":
            x = rng.standard_normal((arg, D)).astype(np.float32)
            if kind == "hnsw":
                ids = np.arange(next_id, next_id + arg)  # implicit ids keep counting up
                index.add(x)
            else:
                # unique ids (faiss's IVF numbering from ntotal repeats ids after removals;
                # duplicates are covered in test_conformance)
                ids = np.arange(next_id, next_id + arg) * 3 + 1
                index.add_with_ids(x, ids)
            next_id += arg
            model.update(zip(ids.tolist(), x, strict=True))
        elif op == "remove":
            if not model:
                continue
            present = np.array(sorted(model), dtype=np.int64)
            gone = present[rng.random(present.size) < arg]
            assert index.remove_ids(gone) == gone.size
            for key in gone.tolist():
                del model[key]
        else:
            assert index.ntotal == len(model)
            q = rng.standard_normal((3, D)).astype(np.float32)
            dist, ids = index.search(q, arg)
            keys = np.array(sorted(model), dtype=np.int64)
            for row in range(3):
                found = ids[row][ids[row] >= 0]
                assert len(set(found.tolist())) == found.size  # no duplicates
                assert set(found.tolist()) <= set(model)  # never a removed id
                assert found.size == min(arg, len(model))
                if not model:
                    continue
                base = np.stack([model[k] for k in keys.tolist()])
                exact = np.sort(((base - q[row]) ** 2).sum(1))[: found.size]
                if kind == "hnsw":
                    assert np.isin(found, keys).all()
                else:
                    np.testing.assert_allclose(dist[row][: found.size], exact, rtol=1e-4, atol=1e-4)
