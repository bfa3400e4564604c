"""``local-cluster[2,1,1024]``: two executor JVMs with their own Python workers and a real
network shuffle. TPC-H SF 0.01 (all 22 queries), a sample of the semantics suite and writes,
plain Spark vs the plugin, in a subprocess (``_local_cluster.py``: one SparkContext per process,
and this session's is ``local[2]``). ~2 minutes here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO_ROOT, tpch_module
from .test_semantics import AGGREGATES, JOINS, PROJECTIONS, SORTS
from .test_tpch import _TOTALLY_ORDERED

pytest.importorskip("duckdb")

MASTER = "local-cluster[2,1,1024]"
#: From the semantics suite: one or two of each kind (all of it would take ~10 minutes here).
_SAMPLE = {
    "decimal_arithmetic": (PROJECTIONS["decimal_arithmetic"], False),
    "like": (PROJECTIONS["like"], False),
    "dates": (PROJECTIONS["dates"], False),
    "group_with_null_key": (AGGREGATES["group_with_null_key"], False),
    "float_aggregates_nan": (AGGREGATES["float_aggregates_nan"], False),
    "count_distinct": (AGGREGATES["count_distinct"], False),
    "having": (AGGREGATES["having"], False),
    "full_outer": (JOINS["full_outer"], False),
    "not_in_with_null": (JOINS["not_in_with_null"], False),
    "scalar_subquery": (JOINS["scalar_subquery"], False),
    "exists_under_inner_join": (JOINS["exists_under_inner_join"], False),
    "top_n": (SORTS["top_n"][0], True),
    "double_nan_greatest": (SORTS["double_nan_greatest"][0], True),
}


@pytest.fixture(scope="module")
def cluster_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tpch = tpch_module()
    root = tmp_path_factory.mktemp("local_cluster")
    tpch_dir = Path(tpch.generate(0.01, root / "tpch"))
    tables = {name: str(tpch_dir / f"{name}.parquet") for name in tpch.TABLES}
    tables |= {"t": str(data_dir / "t"), "u": str(data_dir / "u.parquet")}
    queries = [
        {"id": f"q{n}", "sql": tpch.query(n), "ordered": n in _TOTALLY_ORDERED}
        for n in range(1, 23)
    ]
    queries += [{"id": name, "sql": sql, "ordered": o} for name, (sql, o) in _SAMPLE.items()]
    writes = [
        {
            "id": "write_partitioned_aggregate",
            "sql": "SELECT l_returnflag, l_linestatus, count(*) AS n, sum(l_quantity) AS q "
            "FROM lineitem GROUP BY l_returnflag, l_linestatus",
            "partition_by": ["l_returnflag"],
            "path": str(root / "write_aggregate"),
        },
        {
            "id": "write_join",
            "sql": "SELECT o_orderkey, o_orderstatus, c_name FROM orders "
            "JOIN customer ON o_custkey = c_custkey WHERE o_totalprice > 100000",
            "partition_by": ["o_orderstatus"],
            "path": str(root / "write_join"),
        },
    ]
    spec = root / "spec.json"
    spec.write_text(
        json.dumps({"master": MASTER, "tables": tables, "queries": queries, "writes": writes})
    )
    result = root / "result.json"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    run = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("_local_cluster.py")),
            str(spec),
            str(result),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=root,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    out = dict(json.loads(result.read_text()))
    offloaded = sum(r["offloaded"] for r in out["results"])
    slowest = sorted(out["results"], key=lambda r: -r["seconds"])[:5]
    print(
        f"{MASTER}: {offloaded}/{len(out['results'])} offloaded in {out['seconds']:.0f} s;",
        "slowest:",
        ", ".join(f"{r['id']} {r['seconds']:.1f} s" for r in slowest),
    )
    return out


def test_runs_on_two_executors(cluster_run: dict[str, Any]) -> None:
    assert cluster_run["executors"] == 2


def test_tpch_queries_equal_spark_on_local_cluster(cluster_run: dict[str, Any]) -> None:
    results = {r["id"]: r for r in cluster_run["results"] if r["id"].startswith("q")}
    assert len(results) == 22
    wrong = {q: r["problem"] for q, r in results.items() if r["problem"]}
    assert not wrong, wrong
    not_offloaded = {q: r["fallback"] for q, r in results.items() if not r["offloaded"]}
    # As on local[2] (test_tpch: at least 18 of 22 offloaded).
    assert len(not_offloaded) <= 4, not_offloaded


def test_semantics_sample_equals_spark_on_local_cluster(cluster_run: dict[str, Any]) -> None:
    results = {r["id"]: r for r in cluster_run["results"] if r["id"] in _SAMPLE}
    assert set(results) == set(_SAMPLE)
    assert not {n: r["problem"] for n, r in results.items() if r["problem"]}
    # Each of these is offloaded on local[2] (test_semantics runs them strict).
    assert not {n: r["fallback"] for n, r in results.items() if not r["offloaded"]}


def test_writes_equal_spark_on_local_cluster(cluster_run: dict[str, Any]) -> None:
    results = [r for r in cluster_run["results"] if r["id"].startswith("write")]
    assert len(results) == 2
    for result in results:
        assert result["offloaded"], result
        assert not result["problem"], result
