"""Long builds show a bar on terminals and in notebooks (a percentage where the total is
known), and nothing elsewhere."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import vector
from vector import _progress
from vector._gpu import batching

from .conftest import make_data


def test_no_bar_when_not_a_terminal(capsys):
    index = vector.IndexHNSWFlat(8, 4, device="cpu")
    with _progress.building("x", 100.0):
        index.add(make_data(50, 8))
    assert capsys.readouterr().err == ""


def test_bar_on_a_terminal_for_slow_builds(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_visible", lambda: True)
    monkeypatch.setattr(_progress, "SHOW_AFTER_SECONDS", 0.0)
    index = vector.IndexHNSWFlat(8, 4, device="cpu")
    index.add(make_data(500, 8))
    assert "IndexHNSWFlat.add" in capsys.readouterr().err
    assert index.ntotal == 500


def test_estimates_grow_with_work():
    assert _progress.estimate_seconds("hnsw", 100_000, 384) > 1.0
    assert _progress.estimate_seconds("hnsw", 1_000, 384) < 1.0
    assert _progress.estimate_seconds("flat", 10**9, 384) == 0.0


class _Kernel:
    def __init__(self) -> None:
        self.config = {"IPKernelApp": {}}  # what a Jupyter kernel's shell carries


def test_bar_in_a_notebook_too(capsys, monkeypatch):
    pytest.importorskip("tqdm.auto")  # picked before the fake kernel below exists
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: _Kernel()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.setattr(_progress, "SHOW_AFTER_SECONDS", 0.0)
    assert not sys.stderr.isatty()
    index = vector.IndexHNSWFlat(8, 4, device="cpu")
    index.add(make_data(500, 8))
    assert "IndexHNSWFlat.add" in capsys.readouterr().err


def test_batched_gpu_search_shows_a_percentage(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_visible", lambda: True)
    monkeypatch.setattr(batching, "SEARCH_BATCH_BYTES", 4096)
    xb = make_data(300, 16, 1)
    index = vector.IndexFlatL2(16, device="simulated")
    index.add(xb)
    _, ids = index.search(xb, 3)
    err = capsys.readouterr().err
    assert "IndexFlatL2.search" in err
    assert "100%" in err
    assert "queries" in err
    np.testing.assert_array_equal(ids[:, 0], np.arange(300))


def test_ivf_add_in_slices_shows_a_percentage_and_builds_faiss_own_index(
    capsys, monkeypatch, oracle
):
    monkeypatch.setattr(_progress, "_visible", lambda: True)
    monkeypatch.setattr(_progress, "SHOW_AFTER_SECONDS", 0.0)
    xb = make_data(2000, 16, 2, clusters=8)
    ours = vector.IndexIVFFlat(vector.IndexFlatL2(16), 16, 8, device="cpu")
    theirs = oracle.IndexIVFFlat(oracle.IndexFlatL2(16), 16, 8)
    for index in (ours, theirs):
        index.train(xb)
        index.add(xb)
    err = capsys.readouterr().err
    assert "IndexIVFFlat.add" in err
    assert "100%" in err
    # sliced adds give the very same index: byte-identical serialisations
    np.testing.assert_array_equal(vector.serialize_index(ours), oracle.serialize_index(theirs))
