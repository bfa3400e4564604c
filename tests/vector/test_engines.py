"""The facade over two engines: accel's one ledger and error family, fixes found on the way,
the fallback report's notebook views, and the faiss alias accel names by string."""

from __future__ import annotations

import numpy as np
import pytest

import vector
from accel import core
from vector._gpu import engine as gpu_engine

from .conftest import make_data

D = 16


def _tiny_gpu(index, free_bytes: int) -> None:
    import dataclasses

    index._engine.b = dataclasses.replace(index._engine.b, free_bytes=lambda: free_bytes)


def _vector_calls() -> dict[str, core.CallStats]:
    return {call: s for (lib, call), s in core.ledger.snapshot().calls.items() if lib == "vector"}


def test_fallback_error_is_accels_with_its_attributes(monkeypatch):
    monkeypatch.setenv("ACCEL_STRICT", "1")
    assert issubclass(vector.FallbackError, core.FallbackError)
    with pytest.raises(core.FallbackError) as caught:
        vector.index_factory(D, "SQ8", device="simulated")
    error = caught.value
    assert type(error) is vector.FallbackError
    assert isinstance(error, RuntimeError)
    assert (error.library, error.kind) == ("vector", "unsupported")
    assert error.call == "index_factory('SQ8')"
    assert "no cuVS equivalent" in error.reason


def test_fallbacks_and_device_calls_reach_accels_ledger():
    core.ledger.reset()
    vector.clear_fallback_report()
    index = vector.IndexFlatL2(D, device="simulated")
    xb = make_data(200, D)
    index.add(xb)
    index.search(xb[:3], 2)
    calls = _vector_calls()
    assert calls["IndexFlatL2.add"].gpu_calls == 1
    assert calls["IndexFlatL2.search"].gpu_calls == 1
    assert calls["IndexFlatL2.search"].engine == "simulated cuVS"
    _tiny_gpu(index, 1024)
    index.add(xb)
    index.search(xb[:3], 2)  # the flush cannot fit: the index moves to faiss-cpu
    stats = _vector_calls()["IndexFlatL2"]
    assert stats.fallbacks == 1
    assert stats.kinds["out_of_memory"] == 1
    assert "out of GPU memory" in next(iter(stats.reasons))
    assert stats.engine == "simulated cuVS"  # the engine it left, as Spark's fallbacks say
    assert vector.fallback_report()[-1][0] == "IndexFlatL2"  # vector's own list as before


def test_a_fallback_from_the_cpu_names_the_gpu_engine_it_was_meant_for(monkeypatch):
    monkeypatch.setenv("ACCEL_DEVICE", "cpu")  # faiss-gpu code asking for a GPU on a CPU
    core.ledger.reset()
    cpu_index = vector.IndexFlatL2(D)
    cpu_index.add(make_data(20, D))
    moved = vector.index_cpu_to_gpu(None, 0, cpu_index)
    assert moved.device == "cpu"
    stats = _vector_calls()["index_cpu_to_gpu"]
    assert (stats.fallbacks, stats.engine) == (1, "cuVS")
    row = next(r for r in core.ledger.snapshot().rows() if r[:2] == ("vector", "index_cpu_to_gpu"))
    assert row[6] == "cuVS"  # the report's engine column


def test_out_of_memory_during_a_large_add_does_not_add_twice(monkeypatch):
    # Fix: an add that fills the buffer flushes inside add; when that flush runs out of
    # memory the rows were already buffered, so the CPU copy has them: adding them again
    # on the CPU doubled the index.
    monkeypatch.setattr(gpu_engine, "FLUSH_ROWS", 100)
    xb = make_data(500, D, 3)
    index = vector.IndexFlatL2(D, device="simulated")
    _tiny_gpu(index, 1024)
    index.add(xb)
    assert index.device == "cpu"
    assert index.ntotal == 500
    np.testing.assert_array_equal(index.search(xb[:5], 1)[1][:, 0], np.arange(5))


def test_loading_an_index_cuvs_cannot_take_keeps_its_vectors(oracle):
    # Fix: reading an L1 flat index onto the GPU path used to return the empty index the
    # fallback had built, not the one read.
    plain = oracle.IndexFlat(D, oracle.METRIC_L1)
    xb = make_data(50, D, 4)
    plain.add(xb)
    data = oracle.serialize_index(plain)
    loaded = vector.deserialize_index(data, device="simulated")
    assert loaded.device == "cpu"
    assert "metric" in loaded.fallback_reason
    assert loaded.ntotal == 50
    np.testing.assert_array_equal(loaded.search(xb[:5], 1)[1], plain.search(xb[:5], 1)[1])


def test_fallback_report_shows_as_a_table_in_notebooks():
    vector.clear_fallback_report()
    assert "no GPU-&gt;CPU fallbacks" in vector.fallback_report()._repr_html_()
    vector.IndexFlat(D, vector.METRIC_L1, device="simulated")
    report = vector.fallback_report()
    assert report == [("IndexFlat", report[0][1])]  # still the list of (what, reason) pairs
    html = report._repr_html_()
    assert "<table>" in html
    assert "<td>IndexFlat</td>" in html
    pretty = pytest.importorskip("IPython.lib.pretty")
    text = pretty.pretty(report)
    assert text.startswith("vector: 1 GPU->CPU fallback(s)")
    assert "IndexFlat: metric" in text


def test_faiss_alias_installs_and_uninstalls_by_name(run_python):
    code = (
        "import importlib, sys\n"
        "from types import SimpleNamespace\n"
        "statuses = []\n"
        "ctx = SimpleNamespace(requested='simulated', check_cuda=lambda: None,\n"
        "                      set_status=lambda *a: statuses.append(a))\n"
        "module, name = 'vector._alias:install'.split(':')\n"
        "alias = importlib.import_module(module)\n"
        "getattr(alias, name)(ctx)\n"
        "import faiss\n"
        "print(faiss.__name__, alias.is_installed(), statuses[-1][0], statuses[-1][2])\n"
        "alias.uninstall()\n"
        "print('faiss' in sys.modules, alias.is_installed())\n"
        "getattr(alias, name)(SimpleNamespace(requested='cpu', set_status=None))\n"
        "print('faiss' in sys.modules)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "vector True faiss vector (simulated cuVS)",
        "False False",
        "False",
    ]
