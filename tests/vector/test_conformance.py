"""Differential conformance: the same calls on vector and on faiss-cpu, seeded data, same answers.

CPU: exact equality (vector delegates to faiss-cpu). GPU path (simulated here, cuVS on a GPU):
Flat agrees up to float rounding and tie order; IVF/HNSW recall@10 within 0.01 of faiss.
"""

from __future__ import annotations

import numpy as np
import pytest

import vector

from .conftest import make_data, recall_at

D = 32
FLT_MAX = np.finfo(np.float32).max


def assert_knn_equal(device, ours, theirs, rtol=1e-5):
    d1, i1 = ours
    d2, i2 = theirs
    assert d1.dtype == np.float32
    assert i1.dtype == np.int64
    assert d1.shape == d2.shape
    assert i1.shape == i2.shape
    if device == "cpu":
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(d1, d2)
        return
    np.testing.assert_allclose(d1, d2, rtol=rtol, atol=1e-4)
    # ids may differ only where distances tie
    for row in range(i1.shape[0]):
        for col in np.flatnonzero(i1[row] != i2[row]):
            assert np.isclose(d1[row, col], d2[row, col], rtol=rtol, atol=1e-4)


@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_flat_matches_faiss(device, oracle, metric):
    xb, xq = make_data(500, D, 1), make_data(20, D, 2)
    ours = (
        vector.IndexFlatL2(D, device=device)
        if metric == "L2"
        else vector.IndexFlatIP(D, device=device)
    )
    theirs = oracle.IndexFlatL2(D) if metric == "L2" else oracle.IndexFlatIP(D)
    ours.add(xb)
    theirs.add(xb)
    assert ours.ntotal == theirs.ntotal == 500
    assert ours.is_trained
    assert ours.d == D
    assert ours.metric_type == theirs.metric_type
    assert_knn_equal(device, ours.search(xq, 10), theirs.search(xq, 10))


def test_generic_flat_with_metric_argument(device, oracle):
    xb = make_data(100, D, 3)
    ours, theirs = (
        vector.IndexFlat(D, vector.METRIC_INNER_PRODUCT, device=device),
        oracle.IndexFlat(D, oracle.METRIC_INNER_PRODUCT),
    )
    ours.add(xb)
    theirs.add(xb)
    assert_knn_equal(device, ours.search(xb[:5], 3), theirs.search(xb[:5], 3))


def test_flat_ties_resolve_to_smaller_id(device, oracle):
    # Every database vector is one of two points: many exact ties.
    xb = np.repeat(np.eye(2, D, dtype=np.float32), 8, axis=0)
    xq = np.eye(2, D, dtype=np.float32)
    ours, theirs = vector.IndexFlatL2(D, device=device), oracle.IndexFlatL2(D)
    ours.add(xb)
    theirs.add(xb)
    od, oi = ours.search(xq, 5)
    td, ti = theirs.search(xq, 5)
    np.testing.assert_array_equal(oi, ti)
    np.testing.assert_array_equal(od, td)


def test_padding_when_k_exceeds_ntotal(device, oracle):
    xb = make_data(3, D, 4)
    for ctor, fctor, pad in (
        (vector.IndexFlatL2, oracle.IndexFlatL2, FLT_MAX),
        (vector.IndexFlatIP, oracle.IndexFlatIP, -FLT_MAX),
    ):
        ours, theirs = ctor(D, device=device), fctor(D)
        ours.add(xb)
        theirs.add(xb)
        od, oi = ours.search(xb[:2], 6)
        _td, ti = theirs.search(xb[:2], 6)
        np.testing.assert_array_equal(oi[:, 3:], -1)
        np.testing.assert_array_equal(od[:, 3:], pad)
        np.testing.assert_array_equal(oi, ti)


def test_empty_index_search_is_all_padding(device):
    index = vector.IndexFlatL2(D, device=device)
    dist, ids = index.search(make_data(2, D), 3)
    np.testing.assert_array_equal(ids, -1)
    np.testing.assert_array_equal(dist, FLT_MAX)


def test_self_distance_is_exactly_zero(device):
    xb = make_data(200, D, 5) * 100
    index = vector.IndexFlatL2(D, device=device)
    index.add(xb)
    for row in (0, 17, 199):
        dist, ids = index.search(xb[row : row + 1], 1)
        assert ids[0, 0] == row
        assert dist[0, 0] == 0.0


def test_dtypes_are_converted_like_faiss(device, oracle):
    xb = make_data(50, D, 6)
    ours, theirs = vector.IndexFlatL2(D, device=device), oracle.IndexFlatL2(D)
    ours.add(xb.astype(np.float64))
    theirs.add(xb.astype(np.float64))
    for dtype in (np.float64, np.float16, np.int32):
        q = (xb[:4] * 3).astype(dtype)
        assert_knn_equal(device, ours.search(q, 4), theirs.search(q, 4))
    # Lists are accepted too (faiss would need an array).
    assert ours.search(xb[:1].tolist(), 1)[1][0, 0] == 0


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros((2, D + 1), np.float32), "columns"),
        (np.zeros(D, np.float32), "2-D"),
        (np.full((2, D), np.nan, np.float32), "NaN"),
        (np.array([[np.inf] * D], np.float32), "NaN or infinity"),
    ],
)
def test_bad_vectors_are_refused_clearly(device, bad, match):
    index = vector.IndexFlatL2(D, device=device)
    with pytest.raises(vector.InputError, match=match):
        index.add(bad)
    index.add(make_data(5, D))
    with pytest.raises(ValueError, match=match):
        index.search(bad, 1)
    with pytest.raises(AssertionError):  # faiss asserts on these; code catching that still works
        index.search(bad, 1)
    assert index.ntotal == 5


@pytest.mark.parametrize("k", [0, -1, 1.5, "3", True])
def test_bad_k(device, k):
    index = vector.IndexFlatL2(D, device=device)
    index.add(make_data(5, D))
    with pytest.raises(vector.InputError, match="k must be a positive integer"):
        index.search(make_data(1, D), k)


def test_search_and_add_before_train_raise(device):
    index = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 8, device=device)
    assert not index.is_trained
    with pytest.raises(RuntimeError, match="not trained"):
        index.search(make_data(1, D), 1)
    with pytest.raises(RuntimeError, match="not trained"):
        index.add(make_data(10, D))


def test_unknown_attribute_is_an_error_like_faiss(device):
    index = vector.IndexFlatL2(D, device=device)
    with pytest.raises(AttributeError):
        index.nprobe = 3


def test_add_with_ids_needs_idmap(device, oracle):
    with pytest.raises(RuntimeError, match="not implemented"):
        oracle.IndexFlatL2(D).add_with_ids(make_data(2, D), np.arange(2))
    with pytest.raises(RuntimeError, match="not implemented"):
        vector.IndexFlatL2(D, device=device).add_with_ids(make_data(2, D), np.arange(2))


def test_remove_ids_compacts_flat_like_faiss(device, oracle):
    xb = make_data(20, D, 7)
    ours, theirs = vector.IndexFlatL2(D, device=device), oracle.IndexFlatL2(D)
    ours.add(xb)
    theirs.add(xb)
    gone = np.array([0, 5, 19], dtype=np.int64)
    assert ours.remove_ids(gone) == theirs.remove_ids(gone) == 3
    assert ours.ntotal == 17
    # LangChain relies on this: the remaining vectors are renumbered 0..16.
    assert_knn_equal(device, ours.search(xb, 3), theirs.search(xb, 3))
    np.testing.assert_array_equal(ours.reconstruct_n(0, 17), theirs.reconstruct_n(0, 17))
    assert ours.remove_ids(np.array([100], dtype=np.int64)) == 0


@pytest.mark.parametrize("cls", ["IndexIDMap", "IndexIDMap2"])
def test_idmap_keeps_user_ids(device, oracle, cls):
    xb = make_data(30, D, 8)
    ids = np.arange(30, dtype=np.int64) * 10 + 7
    ours = getattr(vector, cls)(vector.IndexFlatL2(D, device=device))
    theirs = getattr(oracle, cls)(oracle.IndexFlatL2(D))
    ours.add_with_ids(xb, ids)
    theirs.add_with_ids(xb, ids)
    assert_knn_equal(device, ours.search(xb[:5], 4), theirs.search(xb[:5], 4))
    assert ours.remove_ids(np.array([7, 17, 297])) == theirs.remove_ids(np.array([7, 17, 297])) == 3
    assert_knn_equal(device, ours.search(xb[:5], 4), theirs.search(xb[:5], 4))
    with pytest.raises(RuntimeError, match="add_with_ids"):
        ours.add(xb)
    if cls == "IndexIDMap2":
        np.testing.assert_array_equal(ours.reconstruct(27), theirs.reconstruct(27))
        np.testing.assert_array_equal(ours.reconstruct(27), xb[2])
    else:
        with pytest.raises(RuntimeError):
            ours.reconstruct(27)
    assert isinstance(ours.index, vector.IndexFlatL2)


def test_idmap_duplicate_ids_are_tolerated(device, oracle):
    # LlamaIndex derives ids from ntotal, so ids can repeat after deletes.
    xb = make_data(4, D, 9)
    ours = vector.IndexIDMap(vector.IndexFlatL2(D, device=device))
    theirs = oracle.IndexIDMap(oracle.IndexFlatL2(D))
    for index in (ours, theirs):
        index.add_with_ids(xb[:2], np.array([1, 1]))
        index.add_with_ids(xb[2:], np.array([2, 1]))
    assert_knn_equal(device, ours.search(xb, 4), theirs.search(xb, 4))
    assert ours.remove_ids(np.array([1])) == theirs.remove_ids(np.array([1])) == 3


def _ivf_pair(device, oracle, kind, xb, nlist=16):
    if kind == "flat":
        ours = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, nlist, device=device)
        theirs = oracle.IndexIVFFlat(oracle.IndexFlatL2(D), D, nlist)
    else:
        # 4-bit codes keep PQ training fast on a shared 2-core machine
        ours = vector.IndexIVFPQ(vector.IndexFlatL2(D), D, nlist, 8, 4, device=device)
        theirs = oracle.IndexIVFPQ(oracle.IndexFlatL2(D), D, nlist, 8, 4)
    for index in (ours, theirs):
        index.train(xb)
        index.add(xb)
        index.nprobe = 4
    return ours, theirs


@pytest.mark.parametrize("kind", ["flat", "pq"])
def test_ivf_recall_matches_faiss(device, oracle, kind):
    xb, xq = make_data(4000, D, 10, clusters=40), make_data(50, D, 11, clusters=40)
    truth = oracle.knn(xq, xb, 10)[1]
    ours, theirs = _ivf_pair(device, oracle, kind, xb)
    assert ours.is_trained
    assert ours.nlist == 16
    assert ours.nprobe == 4
    found, expected = ours.search(xq, 10), theirs.search(xq, 10)
    if device == "cpu":
        assert_knn_equal(device, found, expected)
    assert recall_at(found[1], truth, 10) >= recall_at(expected[1], truth, 10) - 0.01
    # SearchParametersIVF overrides nprobe for one call
    wide = ours.search(xq, 10, params=vector.SearchParametersIVF(nprobe=16))
    assert recall_at(wide[1], truth, 10) >= recall_at(found[1], truth, 10)


def test_ivf_remove_and_add_with_ids(device, oracle):
    xb = make_data(1000, D, 12, clusters=10)
    ours, theirs = _ivf_pair(device, oracle, "flat", xb)
    gone = np.arange(0, 1000, 3, dtype=np.int64)
    assert ours.remove_ids(gone) == theirs.remove_ids(gone)
    assert ours.ntotal == theirs.ntotal
    extra = make_data(5, D, 13)
    ours.add_with_ids(extra, np.arange(5000, 5005))
    theirs.add_with_ids(extra, np.arange(5000, 5005))
    _od, oi = ours.search(extra, 1)
    np.testing.assert_array_equal(oi[:, 0], np.arange(5000, 5005))
    found = ours.search(xb, 1)[1][:, 0]
    assert not np.isin(found, gone).any()


def test_hnsw_recall_matches_faiss(device, oracle):
    xb, xq = make_data(3000, D, 14, clusters=30), make_data(50, D, 15, clusters=30)
    truth = oracle.knn(xq, xb, 10)[1]
    ours, theirs = vector.IndexHNSWFlat(D, 16, device=device), oracle.IndexHNSWFlat(D, 16)
    for index in (ours, theirs):
        index.hnsw.efSearch = 64
        index.add(xb)
    found, expected = ours.search(xq, 10), theirs.search(xq, 10)
    if device == "cpu":
        assert_knn_equal(device, found, expected)
    assert recall_at(found[1], truth, 10) >= recall_at(expected[1], truth, 10) - 0.01
    params = vector.SearchParametersHNSW(efSearch=128)
    assert ours.search(xq, 10, params=params)[0].shape == (50, 10)


def test_hnsw_remove_on_cpu_is_not_implemented_like_faiss(oracle):
    index = vector.IndexHNSWFlat(D, 8, device="cpu")
    index.add(make_data(10, D))
    with pytest.raises(RuntimeError, match="not implemented"):
        index.remove_ids(np.array([1]))


SELECTORS = {
    "range": lambda m: m.IDSelectorRange(10, 60),
    "array": lambda m: m.IDSelectorArray(np.array([3, 5, 99, 150], dtype=np.int64)),
    "batch": lambda m: m.IDSelectorBatch(np.array([3, 5, 99, 150], dtype=np.int64)),
    "bitmap": lambda m: m.IDSelectorBitmap(np.packbits(np.arange(200) % 3 == 0, bitorder="little")),
    "not": lambda m: m.IDSelectorNot(m.IDSelectorRange(10, 190)),
    "and": lambda m: m.IDSelectorAnd(m.IDSelectorRange(0, 100), m.IDSelectorRange(50, 150)),
    "or": lambda m: m.IDSelectorOr(m.IDSelectorRange(0, 10), m.IDSelectorRange(190, 200)),
    "xor": lambda m: m.IDSelectorXOr(m.IDSelectorRange(0, 100), m.IDSelectorRange(50, 150)),
}


def _keep(selector_name: str) -> np.ndarray:
    return vector_selector(selector_name).mask(np.arange(200))


def vector_selector(name):
    return SELECTORS[name](vector)


def _faiss_selector(oracle, name):
    sel = SELECTORS[name](oracle)
    return sel


@pytest.mark.parametrize("name", sorted(SELECTORS))
def test_selectors_in_flat_search(device, oracle, name):
    xb, xq = make_data(200, D, 16), make_data(10, D, 17)
    ours, theirs = vector.IndexFlatL2(D, device=device), oracle.IndexFlatL2(D)
    ours.add(xb)
    theirs.add(xb)
    found = ours.search(xq, 8, params=vector.SearchParameters(sel=vector_selector(name)))
    fsel = _faiss_selector(oracle, name)
    expected = theirs.search(xq, 8, params=oracle.SearchParameters(sel=fsel))
    assert_knn_equal(device, found, expected)
    valid = found[1][found[1] >= 0]
    assert _keep(name)[valid].all()


@pytest.mark.parametrize("name", ["range", "batch", "not"])
def test_selectors_in_remove_ids(device, oracle, name):
    xb = make_data(200, D, 18)
    ours = vector.IndexIDMap2(vector.IndexFlatL2(D, device=device))
    theirs = oracle.IndexIDMap2(oracle.IndexFlatL2(D))
    ours.add_with_ids(xb, np.arange(200))
    theirs.add_with_ids(xb, np.arange(200))
    assert ours.remove_ids(vector_selector(name)) == theirs.remove_ids(
        _faiss_selector(oracle, name)
    )
    assert ours.ntotal == theirs.ntotal
    assert_knn_equal(device, ours.search(xb[:20], 5), theirs.search(xb[:20], 5))


def test_selector_in_ivf_and_hnsw_search(device, oracle):
    xb, xq = make_data(2000, D, 19, clusters=20), make_data(20, D, 20, clusters=20)
    sel = vector.IDSelectorRange(0, 1000)
    ivf = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 8, device=device)
    ivf.train(xb)
    ivf.add(xb)
    found = ivf.search(xq, 10, params=vector.SearchParametersIVF(sel=sel, nprobe=8))[1]
    assert ((found >= 0) & (found < 1000) | (found == -1)).all()
    hnsw = vector.IndexHNSWFlat(D, 16, device=device)
    hnsw.add(xb)
    found = hnsw.search(xq, 10, params=vector.SearchParametersHNSW(sel=sel, efSearch=64))[1]
    assert ((found >= 0) & (found < 1000) | (found == -1)).all()
    assert (found >= 0).mean() > 0.9


@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_range_search_matches_faiss(device, oracle, metric):
    xb, xq = make_data(300, D, 21), make_data(5, D, 22)
    make = (
        (vector.IndexFlatL2, oracle.IndexFlatL2)
        if metric == "L2"
        else (vector.IndexFlatIP, oracle.IndexFlatIP)
    )
    ours, theirs = make[0](D, device=device), make[1](D)
    ours.add(xb)
    theirs.add(xb)
    thresh = 40.0 if metric == "L2" else 8.0
    lims, dist, ids = ours.range_search(xq, thresh)
    flims, fdist, fids = theirs.range_search(xq, thresh)
    np.testing.assert_array_equal(lims, flims)
    for q in range(5):
        a = dict(zip(ids[lims[q] : lims[q + 1]], dist[lims[q] : lims[q + 1]], strict=True))
        b = dict(zip(fids[flims[q] : flims[q + 1]], fdist[flims[q] : flims[q + 1]], strict=True))
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[i] for i in b], list(b.values()), rtol=1e-4, atol=1e-3)


def test_reconstruct_reset_merge(device, oracle):
    xb = make_data(40, D, 23)
    a, b = vector.IndexFlatL2(D, device=device), vector.IndexFlatL2(D, device=device)
    a.add(xb[:25])
    b.add(xb[25:])
    np.testing.assert_array_equal(a.reconstruct(3), xb[3])
    np.testing.assert_array_equal(a.reconstruct_n(5, 4), xb[5:9])
    np.testing.assert_array_equal(a.reconstruct_batch(np.array([1, 2])), xb[1:3])
    with pytest.raises(RuntimeError):
        a.reconstruct(1000)
    a.merge_from(b)
    assert a.ntotal == 40
    assert b.ntotal == 0
    np.testing.assert_array_equal(a.reconstruct_n(0, 40), xb)
    a.reset()
    assert a.ntotal == 0
    assert a.is_trained


def test_merge_between_cpu_and_gpu_path():
    xb = make_data(10, D, 24)
    cpu, sim = vector.IndexFlatL2(D, device="cpu"), vector.IndexFlatL2(D, device="simulated")
    sim.add(xb)
    cpu.merge_from(sim)
    assert cpu.ntotal == 10
    assert sim.ntotal == 0
    np.testing.assert_array_equal(cpu.reconstruct_n(0, 10), xb)


def test_search_fills_given_output_arrays(device):
    index = vector.IndexFlatL2(D, device=device)
    index.add(make_data(10, D))
    out_d = np.empty((2, 3), np.float32)
    out_i = np.empty((2, 3), np.int64)
    dist, ids = index.search(make_data(2, D), 3, D=out_d, I=out_i)
    assert dist is out_d
    assert ids is out_i
    assert (ids >= 0).all()


@pytest.mark.parametrize(
    ("description", "faiss_type"),
    [
        ("Flat", "IndexFlat"),
        ("IDMap,Flat", "IndexIDMap"),
        ("IDMap2,Flat", "IndexIDMap2"),
        ("IVF16,Flat", "IndexIVFFlat"),
        ("IVF16,PQ8", "IndexIVFPQ"),
        ("IVF16,PQ8x4", "IndexIVFPQ"),
        ("HNSW16", "IndexHNSWFlat"),
    ],
)
@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_index_factory_strings(device, oracle, description, faiss_type, metric):
    m = vector.METRIC_L2 if metric == "L2" else vector.METRIC_INNER_PRODUCT
    ours = vector.index_factory(D, description, m, device=device)
    theirs = oracle.index_factory(D, description, m)
    assert type(ours).__name__ == type(theirs).__name__ == faiss_type
    assert ours.metric_type == theirs.metric_type
    assert ours.fallback_reason is None
    if description == "IVF16,PQ8":
        return  # 8-bit PQ training takes tens of seconds here; PQ8x4 covers the rest
    xb = make_data(600, D, 25, clusters=16)
    for index in (ours, theirs):
        index.train(xb)
        if "IDMap" in description:
            index.add_with_ids(xb, np.arange(600) + 1000)
        else:
            index.add(xb)
    assert ours.ntotal == theirs.ntotal == 600
    if device == "cpu":
        assert_knn_equal(device, ours.search(xb[:5], 5), theirs.search(xb[:5], 5))


def test_index_factory_other_strings_work_on_cpu(device):
    index = vector.index_factory(D, "SQ8", device=device)
    if device == "cpu":
        assert index.fallback_reason is None
    else:
        assert "no cuVS equivalent" in index.fallback_reason
    index.train(make_data(100, D))
    index.add(make_data(100, D))
    assert index.ntotal == 100


def test_normalize_l2_in_place_like_faiss(oracle):
    x = make_data(10, D, 26)
    x[3] = 0
    y = x.copy()
    assert vector.normalize_L2(x) is None
    oracle.normalize_L2(y)
    np.testing.assert_array_equal(x, y)
    with pytest.raises(TypeError, match="float32"):
        vector.normalize_L2(x.astype(np.float64))
    with pytest.raises(TypeError, match="C-contiguous"):
        vector.normalize_L2(np.asfortranarray(x))


def test_concurrent_searches_from_threads(device):
    from concurrent.futures import ThreadPoolExecutor

    xb = make_data(2000, D, 27)
    index = vector.IndexFlatL2(D, device=device)
    index.add(xb)
    expected = index.search(xb[:64], 5)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: index.search(xb[:64], 5), range(32)))
    for dist, ids in results:
        np.testing.assert_array_equal(ids, expected[1])
        np.testing.assert_array_equal(dist, expected[0])
