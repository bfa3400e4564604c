"""What explain() says: each reason where it belongs, once; unused columns of any type never block."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import spark_plugin

from .conftest import pa, pq, run_both

pytestmark = pytest.mark.usefixtures("tables")


def test_several_distinct_aggregates_name_their_own_reason_not_filter(spark: Any) -> None:
    sql = "SELECT count(DISTINCT bit_count(m)), count(DISTINCT s) FROM t"
    report = spark_plugin.explain(spark.sql(sql))
    assert not report.offloaded
    assert not any("FILTER" in r for r in report.reasons), report.reasons
    assert any("BitwiseCount" in r for r in report.reasons), report.reasons
    assert len(report.reasons) == len(set(report.reasons))


def test_an_unsupported_operator_above_a_failing_one_is_marked_cannot_run(spark: Any) -> None:
    sql = (
        "SELECT k, ntile(2) OVER (ORDER BY k) AS n FROM (SELECT k, m FROM t WHERE bit_count(m) > 1)"
    )
    text = str(spark_plugin.explain(spark.sql(sql)))
    assert "! Window" in text, text
    assert "@ Window" not in text


@pytest.fixture(scope="module")
def wide(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``wide``: an int column next to timestamp, binary, array, map and struct columns."""
    root = tmp_path_factory.mktemp("wide")
    moment = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC)
    table = pa.table(
        {
            "id": pa.array([1, 2, None, 4], pa.int32()),
            "ts": pa.array([moment, None, moment, moment], pa.timestamp("us", tz="UTC")),
            "raw": pa.array([b"a", None, b"", b"zz"], pa.binary()),
            "xs": pa.array([[1], [], None, [2, 3]], pa.list_(pa.int64())),
            "kv": pa.array([[("a", 1)], None, [], [("b", 2)]], pa.map_(pa.string(), pa.int64())),
            "st": pa.array([{"f": 1}, None, {"f": 2}, {"f": 3}], pa.struct([("f", pa.int64())])),
        }
    )
    pq.write_table(table, root / "wide.parquet")
    only_raw = pa.table({"raw": pa.array([b"a", None], pa.binary())})
    pq.write_table(only_raw, root / "only_raw.parquet")
    spark.read.parquet(str(root / "wide.parquet")).createOrReplaceTempView("wide")
    spark.read.parquet(str(root / "only_raw.parquet")).createOrReplaceTempView("only_raw")
    return root


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM wide",
        "SELECT id, count(*) FROM wide GROUP BY id",
        "SELECT count(*) FROM wide WHERE id > 1",
        "SELECT w.id FROM wide w JOIN t ON w.id = t.k",
    ],
)
def test_unread_columns_of_any_type_do_not_block(spark: Any, wide: Path, sql: str) -> None:
    run_both(spark, sql)


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM wide", "SELECT id, raw FROM wide", "SELECT id FROM wide WHERE raw IS NULL"],
)
def test_columns_of_other_types_that_are_read_keep_the_query_on_spark(
    spark: Any, wide: Path, sql: str
) -> None:
    report = spark_plugin.explain(spark.sql(sql))
    assert not report.offloaded
    assert report.reasons


def test_count_of_a_table_with_no_readable_column_stays_on_spark(spark: Any, wide: Path) -> None:
    df = spark.sql("SELECT count(*) FROM only_raw")
    assert not spark_plugin.explain(df).offloaded
    spark_plugin.enable(spark)
    assert df.collect()[0][0] == 2


def test_explain_report_shows_as_a_table_in_jupyter(spark: Any) -> None:
    pretty = pytest.importorskip("IPython.lib.pretty")
    report = spark_plugin.explain(spark.sql("SELECT k, bit_count(m) FROM t WHERE m > 0"))
    assert pretty.pretty(report) == str(report)
    page = report._repr_html_()
    nodes, stack = 0, [report.tree]
    while stack:
        node = stack.pop()
        assert node is not None
        nodes += 1
        stack.extend(node.children)
    assert page.count("<tr>") == 1 + nodes  # a header, then one row per operator
    assert "bitwisecount" in page.lower()
    assert "<table>" in page
