"""Long builds show a running clock on terminals, and nothing elsewhere."""

from __future__ import annotations

import vector
from vector import _progress

from .conftest import make_data


def test_no_bar_when_not_a_terminal(capsys):
    index = vector.IndexHNSWFlat(8, 4, device="cpu")
    with _progress.building("x", 100.0):
        index.add(make_data(50, 8))
    assert capsys.readouterr().err == ""


def test_bar_on_a_terminal_for_slow_builds(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_is_terminal", lambda: True)
    monkeypatch.setattr(_progress, "SHOW_AFTER_SECONDS", 0.0)
    index = vector.IndexHNSWFlat(8, 4, device="cpu")
    index.add(make_data(500, 8))
    assert "IndexHNSWFlat.add" in capsys.readouterr().err
    assert index.ntotal == 500


def test_estimates_grow_with_work():
    assert _progress.estimate_seconds("hnsw", 100_000, 384) > 1.0
    assert _progress.estimate_seconds("hnsw", 1_000, 384) < 1.0
    assert _progress.estimate_seconds("flat", 10**9, 384) == 0.0
