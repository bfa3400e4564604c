"""spark_plugin's TPC-H stages on cudf-polars vs Polars' CPU engine, with no Spark on the device.

The lent machine has neither Java nor pyspark, so the stages are captured here: Spark plans
each query through the plugin, and the first stage of each (the one that reads the tables:
scan -> joins -> partial or local aggregate) is pickled as the worker would receive it. The Parquet files it
reads travel beside it, at the same absolute path on both machines (``DATA``), so the pickled
stage needs no rewriting. There each stage runs on both engines, alternating, best of
``--rounds``; the GPU side may not rerun on the CPU, and both outputs must be equal.

    capture (here):  python -m benchmarks.gpu_check stages capture [--sf 0.02]
    replay (there):  python3 -m benchmarks.gpu_check stages replay --out DIR
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Where the captured tables live, here and there (an absolute path, so stages travel as is).
DATA = Path("/tmp/accel-gpu-stages")
CARRIED = ROOT / ".gpu" / "stages"
QUERIES = (1, 3, 5, 6, 9, 10, 12, 13, 14, 18, 19)


def _first_stage(spark: Any, text: str) -> Any:
    """The worker stage that reads the tables, built as the driver builds it for an action."""
    import spark_plugin
    from spark_plugin import _execute

    df = spark.sql(text)
    report = spark_plugin.explain(df)
    if not report.offloaded or report.plan is None or report.stage_plan is None:
        raise ValueError(f"not offloaded: {report}")
    user_fields, user_nullable = _execute.user_columns(df)
    built = _execute.workers(
        report.plan, report.stage_plan, report.settings, "cpu", user_fields, user_nullable
    )
    return built.lower


def capture(
    scale_factor: float,
    queries: Sequence[int] = QUERIES,
    *,
    data: Path = DATA,
    carried: Path = CARRIED,
) -> Path:
    """Plan ``queries`` at ``scale_factor`` here; writes ``carried/stages.tar``."""
    import importlib.util

    from pyspark.sql import SparkSession

    spec = importlib.util.spec_from_file_location("tpch", ROOT / "benchmarks/tpch/generate.py")
    assert spec is not None
    assert spec.loader is not None
    tpch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tpch)
    shutil.rmtree(data, ignore_errors=True)
    tables = tpch.generate(scale_factor, data / "tables")
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.accel.enabled", "true")
        .getOrCreate()
    )
    for table in tpch.TABLES:
        spark.read.parquet(str(tables / f"{table}.parquet")).createOrReplaceTempView(table)
    captured, skipped = {}, {}
    for number in queries:
        try:
            captured[number] = _first_stage(spark, tpch.query(number))
        except (ValueError, AttributeError, TypeError) as exc:
            skipped[number] = f"{type(exc).__name__}: {exc}"[:300]
    spark.stop()
    (data / "stages.pkl").write_bytes(pickle.dumps(captured))
    (data / "meta.json").write_text(json.dumps({"sf": scale_factor, "skipped": skipped}))
    carried.mkdir(parents=True, exist_ok=True)
    out = carried / "stages.tar"
    with tarfile.open(out, "w") as tar:
        tar.add(data, arcname=data.name)
    print(f"{len(captured)} stages at SF {scale_factor}, {out.stat().st_size / 2**20:.1f} MiB")
    for number, reason in skipped.items():
        print(f"q{number} not captured: {reason}")
    return out


def _unpack(data: Path, carried: Path) -> dict[int, Any]:
    tar_path = carried / "stages.tar"
    if tar_path.exists():
        shutil.rmtree(data, ignore_errors=True)
        data.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar_path) as tar:
            tar.extractall(data.parent, filter="data")
    if not (data / "stages.pkl").exists():
        raise SystemExit(f"no captured stages in {data}: run 'stages capture' here and carry them")
    stages: dict[int, Any] = pickle.loads((data / "stages.pkl").read_bytes())
    return stages


def _run(stage: Any, device: str) -> tuple[float, Any]:
    """One run of ``stage`` on ``device``; strict, so the GPU side may not rerun on the CPU."""
    from spark_plugin import _worker

    start = time.perf_counter()
    frame = _worker.run_stage(dataclasses.replace(stage, device=device, strict=True), None, None)
    return time.perf_counter() - start, frame


def _flat(frame: Any) -> Any:
    """Struct columns (packed aggregate states) as plain columns, rows in one order."""
    import polars as pl

    structs = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Struct)]
    frame = frame.with_columns(
        pl.col(name).struct.rename_fields([f"{name}.{f.name}" for f in frame.schema[name].fields])
        for name in structs
    )
    frame = frame.unnest(structs) if structs else frame
    return frame.sort(frame.columns)


def replay(
    out: Path,
    *,
    device: str = "gpu",
    rounds: int = 3,
    data: Path = DATA,
    carried: Path = CARRIED,
) -> dict[str, Any]:
    """Run every captured stage on the CPU engine and on ``device``; JSON to ``out``."""
    stages = _unpack(data, carried)
    meta = json.loads((data / "meta.json").read_text())
    rows: list[dict[str, Any]] = []
    for number, stage in sorted(stages.items()):
        row: dict[str, Any] = {"query": f"q{number}"}
        try:
            cpu_times, dev_times = [], []
            for _ in range(rounds):
                seconds, cpu = _run(stage, "cpu")
                cpu_times.append(seconds)
                seconds, dev = _run(stage, device)
                dev_times.append(seconds)
            row.update(
                cpu_s=round(min(cpu_times), 4),
                device_s=round(min(dev_times), 4),
                speedup=round(min(cpu_times) / min(dev_times), 2),
                rows=cpu.height,
                equal=_flat(cpu).equals(_flat(dev)),
            )
        except Exception as exc:  # noqa: BLE001 - every stage reports, whatever it raised
            row["error"] = f"{type(exc).__name__}: {exc}"[:400]
        rows.append(row)
        print(json.dumps(row))
    result = {"sf": meta["sf"], "device": device, "rounds": rounds, "stages": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "spark_stages.json").write_text(json.dumps(result, indent=1))
    failed = [r for r in rows if "error" in r or not r.get("equal")]
    if failed:
        raise SystemExit(f"{len(failed)} of {len(rows)} stages failed or differ")
    return result


def main(argv: Sequence[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="gpu_check stages", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("--sf", type=float, default=0.02)
    rep = sub.add_parser("replay")
    rep.add_argument("--out", type=Path, required=True)
    rep.add_argument("--device", default="gpu", choices=["gpu", "cpu"])
    rep.add_argument("--rounds", type=int, default=3)
    for verb in (cap, rep):
        verb.add_argument("--data", type=Path, default=DATA, help=argparse.SUPPRESS)
        verb.add_argument("--carried", type=Path, default=CARRIED, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verb == "capture":
        capture(args.sf, data=args.data, carried=args.carried)
    else:
        replay(
            args.out, device=args.device, rounds=args.rounds, data=args.data, carried=args.carried
        )
    return 0
