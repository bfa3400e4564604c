"""Rapids tier: every stage query the plugin builds, offered to cudf-polars' own translator.

Translation needs no GPU (only executing the IR does): ``_gpu_check`` stops right after it. The
tallies are printed (``-s``) and written as JSON next to the test's temporary files.
"""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path
from typing import Any

import pytest

import spark_plugin

from .conftest import tpch_module

pytestmark = pytest.mark.rapids

#: TPC-H stage queries cudf-polars 26.10 still refuses.
_TPCH_REFUSED_AT_MOST = 0

#: Semantics-suite queries with a stage query cudf-polars 26.10 refuses, and why (recorded in
#: docs/spark_plugin.md); a fix or a regression changes this set and fails the test.
_SEMANTICS_REFUSED = {
    # Negative positions: the slice bounds depend on each string's length; cudf-polars takes
    # only literal str.slice bounds.
    "projections:substring": "Slice only supports literal start and stop values",
    # drop_nulls().unique() inside group_by().agg().
    "aggregates:sum_distinct": "UnaryFunction'> in groupby/rolling",
}


def _reason_group(reason: str) -> str:
    # "dtype=Int128 conversion not supported" and its like, without the per-query details.
    return re.sub(r"\d+", "N", reason)[:160]


def _tally(checks: dict[str, tuple[Any, ...]], out: Path, title: str) -> tuple[int, int]:
    total = sum(len(c) for c in checks.values())
    accepted = sum(1 for cs in checks.values() for c in cs if c.accepted)
    groups = collections.Counter(
        _reason_group(r) for cs in checks.values() for c in cs for r in c.refusals
    )
    lines = [f"{title}: cudf-polars accepts {accepted}/{total} stage queries"]
    lines += [f"  {n:4d} x {reason}" for reason, n in groups.most_common()]
    print("\n".join(lines))
    out.write_text(
        json.dumps(
            {
                "accepted": accepted,
                "total": total,
                "refusals": dict(groups),
                "per_query": {q: [str(c) for c in cs] for q, cs in checks.items()},
            },
            indent=1,
        )
    )
    return accepted, total


def test_tpch_stages_are_taken_by_cudf_polars(
    spark: Any, tpch_tables: Path, tmp_path: Path
) -> None:
    pytest.importorskip("cudf_polars")
    tpch = tpch_module()
    checks = {}
    for number in range(1, 23):
        report = spark_plugin.explain(spark.sql(tpch.query(number)))
        assert report.offloaded, report.reasons
        assert report.gpu_check == "", report.gpu_check
        assert report.gpu_stages, f"q{number}: no stage was offered to the translator"
        checks[f"q{number}"] = report.gpu_stages
    accepted, total = _tally(checks, tmp_path / "tpch_gpu_translate.json", "TPC-H SF0.01")
    refused = [str(c) for cs in checks.values() for c in cs if not c.accepted]
    assert total - accepted <= _TPCH_REFUSED_AT_MOST, "\n".join(refused)


def test_explain_names_cudf_polars_reason_per_stage(spark: Any, tables: Path) -> None:
    """A refused stage query is shown with cudf-polars' own words; a taken one is marked."""
    pytest.importorskip("cudf_polars")
    report = spark_plugin.explain(spark.sql("SELECT k, count(*) AS n FROM t GROUP BY k"))
    assert report.gpu_stages
    text = str(report)
    assert "GPU engine (cudf-polars' translator, per stage query):" in text
    for check in report.gpu_stages:
        assert str(check) in text


def _semantics_queries() -> dict[str, str]:
    from . import test_semantics as semantics

    queries: dict[str, str] = {}
    for family in ("PROJECTIONS", "FILTERS", "AGGREGATES", "JOINS", "SORTS"):
        for name, sql in getattr(semantics, family).items():
            queries[f"{family.lower()}:{name}"] = sql[0] if isinstance(sql, tuple) else sql
    return queries


def test_semantics_stages_are_taken_by_cudf_polars(
    spark: Any, tables: Path, tmp_path: Path
) -> None:
    """Every semantics-suite query the plugin offloads: its stage queries, translated."""
    pytest.importorskip("cudf_polars")
    checks = {}
    for name, sql in _semantics_queries().items():
        report = spark_plugin.explain(spark.sql(sql))
        if report.offloaded:
            checks[name] = report.gpu_stages
    _, total = _tally(checks, tmp_path / "semantics_gpu_translate.json", "semantics")
    assert total > 0
    refused = {q: "; ".join(c.refusals) for q, cs in checks.items() for c in cs if not c.accepted}
    assert set(refused) == set(_SEMANTICS_REFUSED), refused
    for query, reason in _SEMANTICS_REFUSED.items():
        assert reason in refused[query]
