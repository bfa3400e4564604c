"""The GPU path against cuVS 26.10's API: CAGRA's 4-argument extend, IVF-PQ's code widths, free
memory with pools, and the stand-in bound to cuVS's own signatures and parameter classes
(``rapids`` tests: the real cuVS imports without a GPU, so a drift fails there)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import vector
from vector import _cuvs_sim
from vector._cuvs_sim_memory import SimMemory
from vector._gpu import cagra

from .conftest import make_data

D = 16


@pytest.fixture(params=["simulated", pytest.param("gpu", marks=pytest.mark.gpu)])
def gpu_path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cuvs():
    return pytest.importorskip("cuvs.neighbors")


# --- CAGRA: a second add extends the graph over old || new rows --------------------------------
def test_second_add_to_a_cagra_index_extends_it(gpu_path):
    xb = make_data(cagra.CAGRA_MIN_ROWS + 500, D, 11, clusters=20)
    more = make_data(300, D, 12, clusters=20)
    index = vector.IndexHNSWFlat(D, 16, device=gpu_path)
    index.add(xb)
    assert "CAGRA" in index.device_reason
    extends = _cuvs_sim.STATS["extends"]
    index.add(more)  # cuVS 26.10 took this as a TypeError with the 3-argument call
    _, ids = index.search(more, 1)
    assert index.ntotal == xb.shape[0] + more.shape[0]
    assert (ids[:, 0] == np.arange(xb.shape[0], xb.shape[0] + more.shape[0])).mean() > 0.95
    state = index._engine.strategy
    assert state.engine_kind == "cagra"
    assert len(state.engine) == index._engine.rows.n_rows
    if gpu_path == "simulated":
        assert _cuvs_sim.STATS["extends"] == extends + 1  # extended, not rebuilt
        # the index reads the concatenated device array, which the state keeps alive
        assert state.engine.dataset is state.dev_data is state._engine_data


def test_stand_in_refuses_an_extend_that_does_not_start_at_the_index_size():
    b = _cuvs_sim.BINDING
    data = b.to_device(make_data(100, D))
    engine = b.cagra.build(b.cagra.IndexParams(graph_degree=16, intermediate_graph_degree=32), data)
    with pytest.raises(b.library_errors, match="new_start_row"):
        b.cagra.extend(b.cagra.ExtendParams(), engine, data, 50)


# --- IVF-PQ: code widths cuVS cannot build fall back per index ---------------------------------
def test_stand_in_build_refuses_pq_bits_cuvs_refuses():
    b = _cuvs_sim.BINDING
    params = b.ivf_pq.IndexParams(n_lists=4, pq_dim=4, pq_bits=10, add_data_on_build=False)
    with pytest.raises(b.library_errors, match="pq_bits"):
        b.ivf_pq.build(params, b.to_device(make_data(200, D)))


@pytest.mark.parametrize(
    ("d", "m", "nbits", "why"), [(D, 4, 9, "pq_bits"), (12, 3, 4, "M * nbits")]
)
def test_ivfpq_codes_cuvs_cannot_build_run_on_the_cpu_with_a_reason(oracle, d, m, nbits, why):
    vector.clear_fallback_report()
    xb = make_data(1500, d, 13, clusters=8)
    ours = vector.IndexIVFPQ(vector.IndexFlatL2(d), d, 8, m, nbits, device="simulated")
    theirs = oracle.IndexIVFPQ(oracle.IndexFlatL2(d), d, 8, m, nbits)
    assert ours.device == "cpu"
    assert why in ours.fallback_reason
    assert vector.fallback_report()[-1][0] == "IndexIVFPQ"
    for index in (ours, theirs):
        index.train(xb)
        index.add(xb)
        index.nprobe = 4
    mine, faiss_answer = ours.search(xb[:20], 5), theirs.search(xb[:20], 5)
    np.testing.assert_array_equal(mine[1], faiss_answer[1])
    np.testing.assert_allclose(mine[0], faiss_answer[0], rtol=1e-5)


def test_ivfpq_code_width_fallback_is_an_error_under_strict_mode(monkeypatch):
    monkeypatch.setenv("ACCEL_STRICT", "1")
    with pytest.raises(vector.FallbackError, match="pq_bits"):
        vector.IndexIVFPQ(vector.IndexFlatL2(D), D, 8, 4, 12, device="simulated")


# --- free memory: what CuPy's and RMM's pools hold unused is ours ------------------------------
CARD = 4 << 20  # a 4 MiB "card": an index of 30% of it is ~19,700 x 16 floats


def _index_of(fraction: float) -> tuple[vector.Index, np.ndarray]:
    # the first flush of a Flat index needs one device copy: 4 x D bytes a row
    rows = int(fraction * CARD) // (4 * D)
    xb = make_data(rows, D, 14)
    index = vector.IndexFlatL2(D, device="simulated")
    index.add(xb)
    return index, xb


@pytest.fixture
def card(monkeypatch) -> SimMemory:
    memory = SimMemory(CARD)
    monkeypatch.setattr(_cuvs_sim, "MEMORY", memory)
    return memory


def test_an_idle_rmm_pool_counts_as_free(card):
    card.install_rmm_pool(0.8)  # what cudf.pandas (accel.auto) does at install
    assert card.driver_free() < 0.3 * CARD
    index, xb = _index_of(0.3)
    np.testing.assert_array_equal(index.search(xb[:5], 1)[1][:, 0], np.arange(5))
    assert index.device == "simulated", index.fallback_reason


def test_the_used_part_of_an_rmm_pool_does_not(card):
    card.install_rmm_pool(0.8, in_use=int(0.75 * CARD))  # a statistics adaptor says so
    vector.clear_fallback_report()
    index, xb = _index_of(0.3)
    np.testing.assert_array_equal(index.search(xb[:5], 1)[1][:, 0], np.arange(5))
    assert index.device == "cpu"
    assert "out of GPU memory" in index.fallback_reason


def test_an_idle_cupy_pool_counts_as_free(card):
    card.cupy_pool.held, card.cupy_pool.used = int(0.9 * CARD), int(0.1 * CARD)
    index, xb = _index_of(0.5)
    np.testing.assert_array_equal(index.search(xb[:5], 1)[1][:, 0], np.arange(5))
    assert index.device == "simulated", index.fallback_reason


def test_a_managed_rmm_pool_is_not_counted_twice(card):
    card.cupy_pool.held = card.cupy_pool.used = CARD // 2  # half the card in CuPy arrays
    card.install_rmm_pool(0.8, managed=True)  # cudf.pandas' default where managed memory works
    assert card.driver_free() == CARD // 2  # managed pages are not resident until touched
    assert _cuvs_sim.BINDING.free_bytes() == CARD // 2


@pytest.mark.gpu
def test_free_bytes_on_a_gpu_count_an_rmm_pool():
    import cupy as cp
    import rmm

    from vector import _cuvs

    before = rmm.mr.get_current_device_resource()
    driver_free, _total = cp.cuda.runtime.memGetInfo()
    pool = rmm.mr.PoolMemoryResource(before, initial_pool_size=int(driver_free * 0.8) // 256 * 256)
    rmm.mr.set_current_device_resource(pool)
    try:
        assert cp.cuda.runtime.memGetInfo()[0] < 0.3 * driver_free
        assert _cuvs._free_bytes() >= 0.95 * driver_free
    finally:
        rmm.mr.set_current_device_resource(before)


# --- the stand-in is bound to the installed cuVS --------------------------------------------------
def _shape(func) -> list[tuple[str, object, object]]:
    """Parameter names, kinds and defaults (cuVS's Cython functions carry no annotations)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


@pytest.mark.rapids
def test_stand_in_functions_have_cuvs_signatures(cuvs):
    for module, names in _cuvs_sim.FUNCTIONS.items():
        for name in names:
            real = getattr(getattr(cuvs, module), name)
            ours = getattr(getattr(_cuvs_sim.BINDING, module), name)
            own, theirs = _shape(inspect.unwrap(ours)), _shape(real)
            assert own == theirs, f"{module}.{name}: {own} vs cuVS {theirs}"


@pytest.mark.rapids
def test_stand_in_uses_cuvs_parameter_classes(cuvs):
    b = _cuvs_sim.BINDING
    assert b.library_errors == (pytest.importorskip("cuvs.common.exceptions").CuvsException,)
    for module in ("ivf_flat", "ivf_pq", "cagra"):
        assert getattr(b, module).IndexParams is getattr(cuvs, module).IndexParams
        assert getattr(b, module).SearchParams is getattr(cuvs, module).SearchParams
    assert b.cagra.ExtendParams is cuvs.cagra.ExtendParams
    with pytest.raises(TypeError):
        b.cagra.IndexParams(64)  # cuVS's params are keyword-only


@pytest.mark.rapids
def test_stand_in_refuses_calls_cuvs_refuses(cuvs):
    b = _cuvs_sim.BINDING
    data = b.to_device(make_data(100, D))
    engine = b.cagra.build(b.cagra.IndexParams(graph_degree=16, intermediate_graph_degree=32), data)
    with pytest.raises(TypeError):
        b.cagra.extend(b.cagra.ExtendParams(), engine, data)  # the pre-26.10 call
    with pytest.raises(TypeError):
        b.ivf_pq.search(b.ivf_pq.SearchParams(), engine, data, 1, filter=None)  # no filter here
    with pytest.raises(TypeError):
        b.cagra.build(b.cagra.SearchParams(), data)  # typed params argument


def test_stand_in_refuses_host_arrays_where_cuvs_reads_device_memory():
    b = _cuvs_sim.BINDING
    host = make_data(50, D)
    with pytest.raises(TypeError, match="device array"):
        b.brute_force.build(host)
    engine = b.brute_force.build(b.to_device(host))
    with pytest.raises(TypeError, match="device array"):
        b.brute_force.search(engine, host[:2], 1)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(b.to_device(host))  # the stand-in's xp is CuPy-like, not NumPy
