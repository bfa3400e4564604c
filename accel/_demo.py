"""``python -m accel demo``: the built-in workload run plain and accelerated, compared, tabulated."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

from accel import _device
from accel._demo_api import DemoStep

# Packages that add steps: each has a ``_demo`` module with ``demo_steps(scale) -> list[DemoStep]``.
_STEP_PROVIDERS = ("vector", "spark_plugin")


@dataclass(frozen=True, slots=True)
class Row:
    step: str
    device: str
    plain_seconds: float | None
    accel_seconds: float | None
    agree: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.plain_seconds or not self.accel_seconds:
            return None
        return self.plain_seconds / self.accel_seconds


def _same_columns(a: dict[str, Any], b: dict[str, Any]) -> tuple[bool, str]:
    import numpy as np

    if a.keys() != b.keys():
        return False, f"columns differ: {sorted(a)} vs {sorted(b)}"
    for name in a:
        left, right = np.asarray(a[name]), np.asarray(b[name])
        if left.shape != right.shape:
            return False, f"{name}: shapes {left.shape} vs {right.shape}"
        if left.dtype.kind == "f" or right.dtype.kind == "f":
            # GPU reductions add in another order: agree to 1e-9 relative.
            if not np.allclose(left, right, rtol=1e-9, atol=1e-9, equal_nan=True):
                return False, f"{name}: values differ beyond 1e-9"
        elif not np.array_equal(left.astype(object), right.astype(object)):
            return False, f"{name}: values differ"
    return True, ""


def _run_workload(rows: int, accelerated: bool, workdir: str) -> dict[str, Any]:
    out = os.path.join(workdir, f"{'accel' if accelerated else 'plain'}.pkl")
    cmd = [sys.executable, "-m", "accel._workload", "--rows", str(rows), "--out", out]
    env = dict(os.environ)
    if accelerated:
        cmd.append("--accelerated")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"the {'accelerated' if accelerated else 'plain'} workload failed:\n{proc.stderr[-2000:]}"
        )
    with open(out, "rb") as fh:
        return dict(pickle.load(fh))


def pandas_rows(rows: int) -> list[Row]:
    """The pandas/scikit-learn steps: each run once plain and once accelerated, in fresh processes."""
    with tempfile.TemporaryDirectory(prefix="accel-demo-") as workdir:
        plain = _run_workload(rows, False, workdir)
        fast = _run_workload(rows, True, workdir)
    devices = fast["devices"]
    out = []
    for step, (plain_s, plain_cols) in plain["results"].items():
        accel_s, accel_cols = fast["results"][step]
        agree, why = _same_columns(plain_cols, accel_cols)
        library = "scikit-learn" if step.startswith("sklearn") else "pandas"
        out.append(Row(step, devices.get(library, "?"), plain_s, accel_s, agree, why))
    return out


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def provider_rows(scale: float, skip: set[str]) -> list[Row]:
    """Steps added by vector and spark_plugin, run in this process."""
    out: list[Row] = []
    for package in _STEP_PROVIDERS:
        if package in skip or not _device.has_module(f"{package}._demo"):
            continue
        try:
            module = importlib.import_module(f"{package}._demo")
            steps: list[DemoStep] = module.demo_steps(scale)
        except ImportError as exc:  # an optional dependency (faiss, pyspark) is missing
            out.append(Row(package, "-", None, None, None, f"skipped: {exc}"))
            continue
        for step in steps:
            plain_s, plain_result = _timed(step.plain)
            accel_s, accel_result = _timed(step.accelerated)
            agree = bool(step.same(plain_result, accel_result))
            out.append(Row(f"{package}: {step.name}", step.device(), plain_s, accel_s, agree))
    return out


def render(rows: list[Row]) -> str:
    header = ("step", "device", "plain (s)", "accel (s)", "speed-up", "same result")
    body = []
    for r in rows:
        body.append(
            (
                r.step,
                r.device,
                "-" if r.plain_seconds is None else f"{r.plain_seconds:.3f}",
                "-" if r.accel_seconds is None else f"{r.accel_seconds:.3f}",
                "-" if r.ratio is None else f"{r.ratio:.2f}x",
                {True: "yes", False: f"NO {r.note}", None: r.note or "-"}[r.agree],
            )
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [
            fmt.format(*header),
            fmt.format(*("-" * w for w in widths)),
            *(fmt.format(*b) for b in body),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accel demo")
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of generated orders")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size factor for the vector and Spark steps"
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to skip: pandas, vector, spark_plugin"
    )
    parser.add_argument("--json", help="also write the table as JSON here")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    probe = _device.probe_gpu()
    if probe.available:
        print(f"GPU: {', '.join(probe.names)}\n")
    else:
        print(
            f"No GPU here ({probe.reason}). Both runs use the CPU, so the table shows what "
            "accel costs when there is nothing to accelerate: ratios near 1.0x.\n"
        )
    rows: list[Row] = []
    if "pandas" not in skip:
        print(f"pandas + scikit-learn on {args.rows:,} generated orders ...", flush=True)
        rows.extend(pandas_rows(args.rows))
    rows.extend(provider_rows(args.scale, skip))
    print(render(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([asdict(r) | {"ratio": r.ratio} for r in rows], fh, indent=2)
    bad = [r.step for r in rows if r.agree is False]
    if bad:
        print(f"\nresults differ in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0
