"""``python -m accel demo``: runs, compares, tabulates, and says plainly when there is no GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accel import _demo
from accel._demo_api import DemoStep


def test_demo_pandas_part(run_python, tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    proc = run_python(
        "",
        "-m",
        "accel",
        "demo",
        "--rows",
        "20000",
        "--skip",
        "vector,spark_plugin",
        "--json",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No GPU here" in proc.stdout
    rows = json.loads(out.read_text())
    assert [r["step"] for r in rows] == [
        "generate",
        "join",
        "groupby",
        "strings",
        "datetime",
        "sklearn fit",
    ]
    assert all(r["agree"] is True for r in rows)
    assert all(r["plain_seconds"] > 0 and r["accel_seconds"] > 0 for r in rows)
    assert rows[1]["device"] == "cpu (pandas)"
    for column in ("step", "device", "plain (s)", "accel (s)", "speed-up", "same result"):
        assert column in proc.stdout


def test_disagreement_is_reported_and_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        _demo.Row("ok", "cpu", 1.0, 0.5, True),
        _demo.Row("bad", "cpu", 1.0, 1.0, False, "x: values differ"),
    ]
    text = _demo.render(rows)
    assert "2.00x" in text
    assert "NO x: values differ" in text


def test_provider_steps_are_timed_and_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    fake = types.ModuleType("vector._demo")
    fake.demo_steps = lambda scale: [  # type: ignore[attr-defined]
        DemoStep("same", lambda: [1, 2], lambda: [1, 2], lambda a, b: a == b, lambda: "cpu"),
        DemoStep("differs", lambda: 1, lambda: 2, lambda a, b: a == b, lambda: "cpu"),
    ]
    monkeypatch.setitem(sys.modules, "vector._demo", fake)
    monkeypatch.setattr(_demo._device, "has_module", lambda name: name == "vector._demo")
    rows = _demo.provider_rows(1.0, skip=set())
    assert [(r.step, r.agree) for r in rows] == [
        ("vector: same", True),
        ("vector: differs", False),
    ]


def test_same_columns_tolerates_reduction_order_only() -> None:
    import numpy as np

    a = {"x": np.array([1.0, 2.0]), "k": np.array(["a", "b"], dtype=object)}
    assert _demo._same_columns(a, {"x": np.array([1.0, 2.0 + 1e-13]), "k": a["k"]})[0]
    assert not _demo._same_columns(a, {"x": np.array([1.0, 2.1]), "k": a["k"]})[0]
    assert not _demo._same_columns(a, {"x": a["x"], "k": np.array(["a", "c"], dtype=object)})[0]
    assert not _demo._same_columns(a, {"x": a["x"]})[0]
