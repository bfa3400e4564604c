"""TPC-H on Spark, plain vs spark_plugin, in the same Spark session: per-query and total times.

Usage: ``python benchmarks/bench_spark_tpch.py [--sf 1] [--queries 1,3,6]``. Data is generated
once into ``benchmarks/.data/tpch_sf<SF>`` (DuckDB 1.2.2 dbgen). Writes a Markdown table, a JSON
file and a PNG chart to ``benchmarks/results/`` stamped with date, machine and commit. After a
warm-up of both paths (Python workers), each query runs ``--rounds`` times (default 2) plain and
offloaded, alternating, and the best time of each path counts (the first plain run of a query
also pays JVM code generation); results are compared row by row. CPU only: the stage engine is Polars' CPU engine unless a GPU is found.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def _tpch() -> Any:
    spec = importlib.util.spec_from_file_location(
        "tpch_generate", ROOT / "benchmarks/tpch/generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.node()} ({os.cpu_count()} CPUs{mem}, {platform.machine()}, no GPU used)"


def _commit() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _equal(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    key = lambda r: tuple(str(v) for v in r)  # noqa: E731
    return sorted(a, key=key) == sorted(b, key=key)


def _numbers(queries: str) -> list[int]:
    if "-" in queries:
        lo, hi = queries.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(q) for q in queries.split(",")]


def measure(
    sf: float, numbers: list[int], rounds: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Plain Spark vs the plugin per query in one session, best of ``rounds`` alternating."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    tpch = _tpch()
    started = time.perf_counter()
    data = tpch.generate(sf, ROOT / "benchmarks" / ".data" / f"tpch_sf{sf:g}")
    print(f"data ready in {time.perf_counter() - started:.1f}s at {data}", flush=True)

    from pyspark.sql import SparkSession

    sys.path.insert(0, str(ROOT))  # this checkout's spark_plugin, not another install
    import spark_plugin

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in tpch.TABLES:
        spark.read.parquet(str(data / f"{table}.parquet")).createOrReplaceTempView(table)

    # Warm-up: JVM code paths and the Python workers (imports of Polars/pyarrow).
    warm = spark.sql("SELECT count(*) FROM region")
    warm.collect()
    spark_plugin.enable(spark)
    warm.collect()
    spark_plugin.disable(spark)

    rows = []
    for n in numbers:
        # Alternating rounds, a new DataFrame each time: collecting the same DataFrame again
        # would reuse its finished shuffle stages (AQE) and time almost nothing.
        plain_s = plugin_s = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            plain = spark.sql(tpch.query(n)).collect()
            plain_s = min(plain_s, time.perf_counter() - t0)
            spark_plugin.enable(spark)
            t0 = time.perf_counter()
            offloaded = spark.sql(tpch.query(n)).collect()
            plugin_s = min(plugin_s, time.perf_counter() - t0)
            spark_plugin.disable(spark)
        stats = spark_plugin.stats()
        row = {
            "query": n,
            "plain_s": round(plain_s, 3),
            "plugin_s": round(plugin_s, 3),
            "speedup": round(plain_s / plugin_s, 2) if plugin_s else None,
            "equal": _equal(plain, offloaded),
            "offloaded": bool(stats.last_offloaded),
            "fallback_reason": "" if stats.last_offloaded else stats.fallback_reasons[-1][1][:200],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    spark.stop()

    total_plain = sum(r["plain_s"] for r in rows)
    total_plugin = sum(r["plugin_s"] for r in rows)
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "commit": _commit(),
        "scale_factor": sf,
        "engine": "polars-cpu (Polars CPU engine in Spark's Python workers)",
        "spark": "pyspark 4.3.0, local[2], shuffle partitions 4, AQE on, driver memory 6g",
        "method": f"best of {rounds} alternating rounds per query and path, new DataFrame each",
        "total_plain_s": round(total_plain, 2),
        "total_plugin_s": round(total_plugin, 2),
        "total_speedup": round(total_plain / total_plugin, 2) if total_plugin else None,
        "equal": sum(r["equal"] for r in rows),
        "offloaded": sum(r["offloaded"] for r in rows),
        "queries": len(rows),
    }
    return meta, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--queries", default="1-22")
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs per query and path; the best one counts"
    )
    args = parser.parse_args(argv)
    meta, rows = measure(args.sf, _numbers(args.queries), args.rounds)
    total_plain, total_plugin = meta["total_plain_s"], meta["total_plugin_s"]
    stem = f"spark_tpch_sf{args.sf:g}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"# TPC-H SF{args.sf:g}: plain Spark vs spark_plugin",
        "",
        *(f"- {k}: {v}" for k, v in meta.items()),
        "",
        "| query | plain Spark (s) | plugin (s) | speedup | equal | offloaded |",
        "|---:|---:|---:|---:|:---:|:---:|",
        *(
            f"| q{r['query']} | {r['plain_s']:.2f} | {r['plugin_s']:.2f} | {r['speedup']} | "
            f"{'yes' if r['equal'] else 'NO'} | {'yes' if r['offloaded'] else 'no'} |"
            for r in rows
        ),
        f"| total | {total_plain:.2f} | {total_plugin:.2f} | {meta['total_speedup']} | "
        f"{meta['equal']}/{len(rows)} | {meta['offloaded']}/{len(rows)} |",
        "",
    ]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines))
    _chart(rows, meta, RESULTS / f"{stem}.png")
    print("\n".join(lines))
    return 0


@pytest.mark.benchmark(group="spark-tpch")
def test_tpch_plain_vs_plugin(benchmark) -> None:  # type: ignore[no-untyped-def]
    """``make bench``: TPC-H at ``BENCH_TPCH_SF`` (default 1), every query, plain vs plugin.

    The committed result files are written only by the script (``main``), not by this test.
    """
    sf = float(os.environ.get("BENCH_TPCH_SF", "1"))
    numbers = _numbers(os.environ.get("BENCH_TPCH_QUERIES", "1-22"))
    meta, rows = benchmark.pedantic(measure, args=(sf, numbers, 2), rounds=1, iterations=1)
    benchmark.extra_info.update(meta)
    benchmark.extra_info["speedups"] = {f"q{r['query']}": r["speedup"] for r in rows}
    wrong = [r["query"] for r in rows if not r["equal"]]
    assert not wrong, f"queries whose plugin answer differs from plain Spark: {wrong}"
    kept = [r["query"] for r in rows if not r["offloaded"]]
    assert not kept, f"queries not offloaded: {kept}"


def _chart(rows: list[dict[str, Any]], meta: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"q{r['query']}" for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.bar([i - 0.2 for i in x], [r["plain_s"] for r in rows], width=0.4, label="plain Spark")
    ax.bar(
        [i + 0.2 for i in x],
        [r["plugin_s"] for r in rows],
        width=0.4,
        label="spark_plugin (Polars CPU)",
    )
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("seconds")
    ax.set_title(
        f"TPC-H SF{meta['scale_factor']:g}: total {meta['total_plain_s']}s plain vs "
        f"{meta['total_plugin_s']}s plugin ({meta['total_speedup']}x); {meta['equal']}/{meta['queries']} equal"
    )
    ax.legend()
    fig.text(
        0.01, 0.01, f"{meta['date']} | {meta['machine']} | commit {meta['commit']}", fontsize=7
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
