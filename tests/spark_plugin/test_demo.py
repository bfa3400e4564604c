"""The demo steps wired into ``python -m accel demo``: generated TPC-H data, plain vs plugin."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from spark_plugin import _demo


def test_generated_tpch_follows_the_spec_rules(tmp_path: Path) -> None:
    _demo.generate_tpch(tmp_path, 0.001)
    customer = pq.read_table(tmp_path / "customer.parquet").to_pydict()
    orders = pq.read_table(tmp_path / "orders.parquet").to_pydict()
    lineitem = pq.read_table(tmp_path / "lineitem.parquet")
    assert len(customer["c_custkey"]) == 150
    assert len(orders["o_orderkey"]) == 1_500
    assert 1_500 <= lineitem.num_rows <= 7 * 1_500
    assert str(lineitem.schema.field("l_extendedprice").type) == "decimal128(15, 2)"
    rows = lineitem.to_pylist()
    current = dt.date(1995, 6, 17)
    for row in rows:
        assert row["l_linestatus"] == ("O" if row["l_shipdate"] > current else "F")
        assert row["l_returnflag"] in "RAN"
        assert 0 <= row["l_discount"] <= 0.10


def test_demo_steps_agree_and_clean_up(spark: Any) -> None:
    steps = _demo.demo_steps(scale=0.2)
    assert len(steps) == 2
    assert steps[0].setup is steps[1].setup
    steps[0].setup()
    data = _demo._state["data"]
    try:
        for step in steps:
            plain = step.plain()
            accelerated = step.accelerated()
            assert plain, step.name
            assert step.same(plain, accelerated), step.name
            assert "polars" in step.device(), step.device()
            assert step.engine_differs_on_cpu
    finally:
        steps[0].cleanup()
    assert not data.exists(), "the demo's TPC-H data must be removed"
    assert spark.range(3).count() == 3, "the caller's session must keep running"
