"""The GPU path's own machinery (buffered adds, tombstones, batching, fallbacks, strict mode),
run on the host stand-in (ACCEL_DEVICE=simulated); the gpu-marked cases repeat on cuVS."""

from __future__ import annotations

import numpy as np
import pytest

import vector
from accel import _device
from vector import _cuvs_sim
from vector._gpu import batching, cagra

from .conftest import make_data, recall_at

D = 16


@pytest.fixture(params=["simulated", pytest.param("gpu", marks=pytest.mark.gpu)])
def gpu_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_single_vector_adds_are_buffered_then_flushed_once(gpu_path):
    index = vector.IndexFlatL2(D, device=gpu_path)
    xb = make_data(50, D)
    builds = _cuvs_sim.STATS["builds"]
    for row in xb:  # LlamaIndex adds one node at a time
        index.add(row[None, :])
    assert index.ntotal == 50
    if gpu_path == "simulated":
        assert _cuvs_sim.STATS["builds"] == builds  # nothing built yet
    _dist, ids = index.search(xb[:5], 1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(5))
    if gpu_path == "simulated":
        assert _cuvs_sim.STATS["builds"] == builds + 1  # one flush, one build


def test_many_queries_are_searched_in_batches(gpu_path, monkeypatch):
    monkeypatch.setattr(batching, "SEARCH_BATCH_BYTES", 4096)
    xb = make_data(300, D, 1)
    index = vector.IndexFlatL2(D, device=gpu_path)
    index.add(xb)
    searches = _cuvs_sim.STATS["searches"]
    _dist, ids = index.search(xb, 3)
    np.testing.assert_array_equal(ids[:, 0], np.arange(300))
    if gpu_path == "simulated":
        assert _cuvs_sim.STATS["searches"] - searches > 5


def test_hnsw_deletes_are_tombstones_and_never_returned(gpu_path):
    xb = make_data(5000, D, 2, clusters=20)
    index = vector.IndexHNSWFlat(D, 16, device=gpu_path)
    index.add(xb)
    assert "CAGRA" in index.device_reason
    gone = np.arange(0, 5000, 4, dtype=np.int64)
    assert index.remove_ids(gone) == gone.size
    assert index.ntotal == 5000 - gone.size
    _, ids = index.search(xb[:200], 10)
    assert not np.isin(ids, gone).any()
    assert (ids[:, 0] >= 0).all()
    # ids are not renumbered (unlike Flat), and new adds get fresh ids
    index.add(make_data(3, D, 3))
    assert index.ntotal == 5000 - gone.size + 3
    _, new = index.search(make_data(3, D, 3), 1)
    np.testing.assert_array_equal(new[:, 0], [5000, 5001, 5002])


def test_heavy_deletes_trigger_compaction(gpu_path):
    xb = make_data(2000, D, 4, clusters=10)
    index = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 8, device=gpu_path)
    index.train(xb)
    index.add(xb)
    index.nprobe = 8
    state = index._engine
    assert state.on_device
    index.remove_ids(vector.IDSelectorRange(0, 1500))
    assert state.rows.n_rows == 500  # tombstones dropped, device index rebuilt
    _, ids = index.search(xb[1500:1510], 1)
    np.testing.assert_array_equal(ids[:, 0], np.arange(1500, 1510))


def test_ivfpq_filters_by_over_fetching(gpu_path):
    xb = make_data(3000, D, 5, clusters=16)
    index = vector.IndexIVFPQ(vector.IndexFlatL2(D), D, 8, 4, 4, device=gpu_path)
    index.train(xb)
    index.add(xb)
    index.nprobe = 8
    sel = vector.IDSelectorRange(1000, 2000)
    _, ids = index.search(xb[:20], 10, params=vector.SearchParametersIVF(sel=sel, nprobe=8))
    valid = ids[ids >= 0]
    assert valid.size > 150
    assert ((valid >= 1000) & (valid < 2000)).all()


def test_small_hnsw_uses_exact_search_until_cagra_pays_off(gpu_path):
    index = vector.IndexHNSWFlat(D, 16, device=gpu_path)
    index.add(make_data(100, D))
    assert "brute force" in index.device_reason
    index.add(make_data(cagra.CAGRA_MIN_ROWS, D, 1))
    index.search(make_data(1, D), 1)
    assert "CAGRA" in index.device_reason


def test_cagra_k_above_itopk_is_handled(gpu_path):
    xb = make_data(5000, D, 6)
    index = vector.IndexHNSWFlat(D, 8, device=gpu_path)
    index.add(xb)
    truth = vector.knn(xb[:10], xb, 100)[1]
    _, ids = index.search(xb[:10], 100)  # efSearch 16 < k: itopk grows to k (cuVS needs k <= itopk)
    assert recall_at(ids, truth, 100) > 0.8


def test_gpu_index_converts_to_cpu_and_back(gpu_path):
    xb = make_data(500, D, 7, clusters=8)
    ivf = vector.IndexIVFFlat(vector.IndexFlatL2(D), D, 8, device=gpu_path)
    ivf.train(xb)
    ivf.add(xb)
    ivf.nprobe = 8
    cpu = vector.index_gpu_to_cpu(ivf)
    assert cpu.device == "cpu"
    assert isinstance(cpu, vector.IndexIVFFlat)
    np.testing.assert_array_equal(cpu.search(xb[:20], 1)[1], ivf.search(xb[:20], 1)[1])


def test_index_cpu_to_gpu_without_a_gpu_falls_back_with_a_reason(oracle):
    vector.clear_fallback_report()
    cpu = vector.IndexFlatL2(D)
    cpu.add(make_data(10, D))
    res = vector.StandardGpuResources()
    moved = vector.index_cpu_to_gpu(res, 0, cpu)
    if _device.probe_gpu().available and _device.has_module("cuvs"):
        pytest.skip("a GPU is present: this is the no-GPU case")
    assert moved.device == "cpu"
    assert moved.fallback_reason
    assert "index_cpu_to_gpu" in moved.fallback_reason
    assert moved.ntotal == 10
    assert moved is not cpu
    assert vector.fallback_report()[-1][0] == "index_cpu_to_gpu"
    # faiss-cpu objects are accepted too
    assert vector.index_cpu_to_gpu(res, 0, oracle.IndexFlatL2(D)).d == D


def test_index_cpu_to_gpu_on_the_simulated_device(monkeypatch, oracle):
    monkeypatch.setenv("ACCEL_DEVICE", "simulated")
    plain = oracle.IndexHNSWFlat(D, 8)
    xb = make_data(200, D, 8)
    plain.add(xb)
    moved = vector.index_cpu_to_gpu(vector.StandardGpuResources(), 0, plain)
    assert moved.device == "simulated"
    assert isinstance(moved, vector.IndexHNSWFlat)
    np.testing.assert_array_equal(moved.search(xb[:5], 1)[1][:, 0], np.arange(5))


def test_strict_mode_turns_a_fallback_into_an_error(monkeypatch):
    monkeypatch.setenv("ACCEL_STRICT", "1")
    with pytest.raises(vector.FallbackError, match="no cuVS equivalent"):
        vector.index_factory(D, "SQ8", device="simulated")
    monkeypatch.setenv("ACCEL_DEVICE", "auto")
    if not _device.probe_gpu().available:
        with pytest.raises(vector.FallbackError, match="index_cpu_to_gpu"):
            vector.index_cpu_to_gpu(None, 0, vector.IndexFlatL2(D))


def test_unsupported_metric_falls_back_per_index():
    index = vector.IndexFlat(D, vector.METRIC_L1, device="simulated")
    assert index.device == "cpu"
    assert "metric" in index.fallback_reason


def test_explicit_gpu_without_one_is_a_clear_error():
    if _device.probe_gpu().available and _device.has_module("cuvs"):
        pytest.skip("a GPU is present")
    with pytest.raises(_device.GPUUnavailableError, match="device='gpu'"):
        vector.IndexFlatL2(D, device="gpu")


def test_environment_picks_the_device(monkeypatch):
    monkeypatch.setenv("ACCEL_DEVICE", "simulated")
    assert vector.IndexFlatL2(D).device == "simulated"
    assert vector.IndexFlatL2(D, device="cpu").device == "cpu"  # argument beats environment
    monkeypatch.setenv("ACCEL_DEVICE", "cpu")
    index = vector.IndexFlatL2(D)
    assert index.device == "cpu"
    assert index.fallback_reason is None


def test_gpu_path_refuses_faiss_native_params(gpu_path, oracle):
    index = vector.IndexFlatL2(D, device=gpu_path)
    index.add(make_data(5, D))
    with pytest.raises(TypeError, match=r"vector\.SearchParameters"):
        index.search(make_data(1, D), 1, params=oracle.SearchParameters())


def test_device_copies_are_counted_on_the_stand_in():
    before = _cuvs_sim.STATS["to_device_bytes"]
    index = vector.IndexFlatL2(D, device="simulated")
    index.add(make_data(100, D))
    index.search(make_data(1, D), 1)
    assert _cuvs_sim.STATS["to_device_bytes"] - before >= 100 * D * 4


def _tiny_gpu(index, free_bytes: int) -> None:
    import dataclasses

    index._engine.b = dataclasses.replace(index._engine.b, free_bytes=lambda: free_bytes)


def test_data_larger_than_gpu_memory_falls_back_to_cpu_with_a_reason():
    vector.clear_fallback_report()
    xb = make_data(2000, D, 9)
    index = vector.IndexFlatL2(D, device="simulated")
    _tiny_gpu(index, 64 * 1024)  # 64 KiB "free": 2000 x 16 floats do not fit twice
    index.add(xb)
    _dist, ids = index.search(xb[:5], 1)  # the flush fails, the index moves to faiss-cpu
    np.testing.assert_array_equal(ids[:, 0], np.arange(5))
    assert index.device == "cpu"
    assert "out of GPU memory" in index.fallback_reason
    assert "MiB of GPU memory" in index.fallback_reason
    assert index.ntotal == 2000
    assert vector.fallback_report()[-1][0] == "IndexFlatL2"


def test_idmap_falls_back_with_its_ids(monkeypatch):
    xb = make_data(500, D, 10)
    index = vector.IndexIDMap2(vector.IndexFlatL2(D, device="simulated"))
    _tiny_gpu(index, 1024)
    index.add_with_ids(xb, np.arange(500) + 7)
    assert index.search(xb[:3], 1)[1][:, 0].tolist() == [7, 8, 9]
    assert index.device == "cpu"
    assert isinstance(index.index, vector.IndexFlatL2)


def test_out_of_memory_under_strict_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("ACCEL_STRICT", "1")
    index = vector.IndexFlatL2(D, device="simulated")
    _tiny_gpu(index, 1024)
    index.add(make_data(500, D))
    with pytest.raises(vector.FallbackError, match="out of GPU memory"):
        index.search(make_data(1, D), 1)


def test_faiss_gpu_class_names(monkeypatch):
    res = vector.StandardGpuResources()
    res.noTempMemory()
    monkeypatch.setenv("ACCEL_DEVICE", "simulated")
    flat = vector.GpuIndexFlatL2(res, D)
    assert isinstance(flat, vector.IndexFlatL2)
    assert flat.device == "simulated"
    cagra = vector.GpuIndexCagra(res, D, vector.METRIC_L2, vector.GpuIndexCagraConfig())
    assert isinstance(cagra, vector.IndexHNSWFlat)
    ivf = vector.GpuIndexIVFFlat(res, D, 8, vector.METRIC_INNER_PRODUCT)
    assert ivf.metric_type == vector.METRIC_INNER_PRODUCT
    monkeypatch.setenv("ACCEL_DEVICE", "auto")
    if not _device.probe_gpu().available:
        ip = vector.GpuIndexFlatIP(res, D)
        assert ip.device == "cpu"
        assert ip.fallback_reason is not None


class _FakeCuvsError(Exception):
    pass


@pytest.mark.parametrize(("message", "falls_back"), [("std::bad_alloc", True), ("bad k", False)])
def test_gpu_library_errors_fall_back_only_when_they_mean_oom(monkeypatch, message, falls_back):
    import dataclasses

    index = vector.IndexFlatL2(D, device="simulated")
    state = index._engine
    state.b = dataclasses.replace(
        state.b, library_errors=(_FakeCuvsError,), is_oom=lambda exc: "bad_alloc" in str(exc)
    )

    def failing_build() -> None:
        raise _FakeCuvsError(message)

    monkeypatch.setattr(state.strategy, "_build_brute_force", failing_build)
    index.add(make_data(20, D))
    if falls_back:
        assert index.search(make_data(1, D), 1)[1][0, 0] >= 0
        assert "bad_alloc" in index.fallback_reason
    else:
        with pytest.raises(_FakeCuvsError, match="bad k"):
            index.search(make_data(1, D), 1)
