"""The demo steps wired into ``python -m accel demo``."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("duckdb")


def test_demo_steps_agree(spark: Any) -> None:
    from spark_plugin import _demo

    steps = _demo.demo_steps(scale=0.2)
    assert len(steps) == 2
    for step in steps:
        plain = step.plain()
        accelerated = step.accelerated()
        assert plain, step.name
        assert step.same(plain, accelerated), step.name
        assert "polars" in step.device(), step.device()
