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
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from accel import _device, _stacks, _workload
from accel._demo_api import DemoStep

# Packages that add steps: each has a ``_demo`` module with ``demo_steps(scale) -> list[DemoStep]``;
# the value is the short label their rows get.
_STEP_PROVIDERS = {"vector": "vector", "spark_plugin": "spark"}
WIDTH = 100
# Third-party warnings the demo's own run does not show (they say nothing about these steps).
_KNOWN_NOISE = (
    # PySpark 4 on pandas 3 (the RAPIDS pin), once per pandas-using Spark call
    (r"PySpark does not yet fully support pandas", FutureWarning),
)


@dataclass(frozen=True, slots=True)
class Row:
    step: str
    device: str
    plain_seconds: float | None
    accel_seconds: float | None
    agree: bool | None
    note: str = ""
    #: the accelerated side runs another engine even on a CPU (spark: Polars, not the JVM)
    real_on_cpu: bool = False

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


def _run_workload(rows: int, accelerated: bool, workdir: str, tag: str) -> dict[str, Any]:
    out = os.path.join(workdir, f"{'accel' if accelerated else 'plain'}-{tag}.pkl")
    cmd = [sys.executable, "-m", "accel._workload", "--rows", str(rows), "--out", out]
    cmd += ["--warmup", "1", "--repeat", "1"]
    if accelerated:
        cmd.append("--accelerated")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"the {'accelerated' if accelerated else 'plain'} workload failed:\n{proc.stderr[-2000:]}"
        )
    with open(out, "rb") as fh:
        return dict(pickle.load(fh))


def pandas_rows(rows: int, rounds: int = 3) -> list[Row]:
    """The pandas/scikit-learn steps, in fresh processes: ``rounds`` alternating pairs (plain
    first, then accelerated first, ...), each step warmed up in its process; best time kept."""
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="accel-demo-") as workdir:
        for r in range(max(rounds, 1)):
            for accelerated in (False, True) if r % 2 == 0 else (True, False):
                runs[accelerated].append(_run_workload(rows, accelerated, workdir, str(r)))
    devices = runs[True][0]["devices"]
    out = []
    for step in _workload.STEPS:
        if step not in runs[False][0]["results"]:
            why = "skipped: scikit-learn is not installed (pip install scikit-learn)"
            out.append(Row(step, "-", None, None, None, why))
            continue
        plain_cols = runs[False][0]["results"][step][1]
        accel_cols = runs[True][0]["results"][step][1]
        agree, why = _same_columns(plain_cols, accel_cols)
        library = "scikit-learn" if step.startswith("sklearn") else "pandas"
        out.append(
            Row(
                f"pandas: {step}" if library == "pandas" else step,
                devices.get(library, "?"),
                min(run["results"][step][0] for run in runs[False]),
                min(run["results"][step][0] for run in runs[True]),
                agree,
                why,
            )
        )
    return out


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _step_row(label: str, step: DemoStep, rounds: int) -> Row:
    # warm-up (JIT, Python workers, caches): its results are the ones compared
    plain_result = step.plain()
    accel_result = step.accelerated()
    device = step.device()  # asked right after the accelerated side ran
    best = {False: float("inf"), True: float("inf")}
    for r in range(max(rounds, 1)):
        for accelerated in (False, True) if r % 2 == 0 else (True, False):
            seconds, _ = _timed(step.accelerated if accelerated else step.plain)
            best[accelerated] = min(best[accelerated], seconds)
    agree = bool(step.same(plain_result, accel_result))
    where, _, detail = device.partition(":")
    return Row(
        f"{label}: {step.name}",
        where.strip(),
        best[False],
        best[True],
        agree,
        detail.strip() if where.strip() in ("plain Spark",) else "",
        step.engine_differs_on_cpu,
    )


def provider_rows(scale: float, skip: set[str], rounds: int = 3, say: Any = print) -> list[Row]:
    """Steps added by vector and spark_plugin, run in this process (setup and cleanup untimed)."""
    out: list[Row] = []
    for package, label in _STEP_PROVIDERS.items():
        if package in skip or label in skip or not _device.has_module(f"{package}._demo"):
            continue
        try:
            module = importlib.import_module(f"{package}._demo")
            steps: list[DemoStep] = module.demo_steps(scale)
        except ImportError as exc:  # an optional dependency (faiss, pyspark) is missing
            out.append(Row(label, "-", None, None, None, f"skipped: {exc}"))
            continue
        done: list[Callable[[], None]] = []
        try:
            for step in steps:
                if step.setup is not None and step.setup not in done:
                    say(f"setting up {label} (not timed) ...")
                    done.append(step.setup)
                    try:
                        step.setup()
                    except RuntimeError as exc:  # Spark without Java: the rows say so
                        out.append(Row(label, "-", None, None, None, f"skipped: {exc}"))
                        break
                say(f"{label}: {step.name} ...")
                out.append(_step_row(label, step, rounds))
        finally:
            for cleanup in dict.fromkeys(s.cleanup for s in steps if s.cleanup is not None):
                cleanup()
    return out


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render(rows: list[Row], gpu: bool = True, width: int = WIDTH) -> str:
    """The table, every line at most ``width`` characters (long step names are cut)."""
    header = ("step", "accel ran on", "plain s", "accel s", "ratio", "same")
    body = []
    for r in rows:
        mark = "*" if r.real_on_cpu and not gpu else ""
        body.append(
            [
                r.step,
                _cut(r.device, 18),
                "-" if r.plain_seconds is None else f"{r.plain_seconds:.3f}",
                "-" if r.accel_seconds is None else f"{r.accel_seconds:.3f}",
                "-" if r.ratio is None else f"{r.ratio:.2f}x{mark}",
                {True: "yes", False: "NO", None: "-"}[r.agree],
            ]
        )
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    widths[0] = max(len(header[0]), widths[0] - max(0, sum(widths) + 2 * 5 - width))
    for b in body:
        b[0] = _cut(b[0], widths[0])
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*b) for b in body]
    for r in rows:
        if r.note:
            lines += textwrap.wrap(f"{r.step}: {r.note}", width, subsequent_indent="    ")
    return "\n".join(line.rstrip() for line in lines)


def headline(probe: Any) -> list[str]:
    """What the numbers mean on this machine, said before the table."""
    if probe.available:
        return [
            f"device: GPU {', '.join(probe.names)}",
            "plain = the CPU library you use today, accel = the same call through accel-ds.",
        ]
    return [
        _cut(f"device: CPU only ({probe.reason})", WIDTH),
        "no GPU here: both columns are the same engine, so ratios show only noise,",
        "except the spark rows (*): a real CPU speed-up, SQL stages on Polars instead of the JVM.",
    ]


def ran_on_gpu(row: Row) -> bool:
    """Whether ``row``'s accelerated side ran on a real GPU: its "accel ran on" names the GPU
    device ("gpu (cuVS)") or a GPU engine ("polars-gpu (cudf-polars) stages"); the simulated
    device and the CPU do not count."""
    words = row.device.replace("(", " ").split()
    first = words[0] if words else ""
    if first in {d.value for d in _device.Device}:
        return _device.Device(first).is_gpu()
    return any(row.device.startswith(stack.gpu_engine) for stack in _stacks.STACKS.values())


def save_chart(rows: list[Row], path: str, title: str) -> str | None:
    """A bar chart of the speed-ups as PNG at ``path`` (needs matplotlib); None without it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    shown = [(r.step, r.ratio) for r in rows if r.ratio is not None]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(shown) + 1.5))
    ax.barh([step for step, _ in shown][::-1], [ratio for _, ratio in shown][::-1])
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xlabel("speed-up (plain s / accel s)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


@contextmanager
def _quiet_third_parties() -> Iterator[None]:
    with warnings.catch_warnings():
        for message, category in _KNOWN_NOISE:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accel demo")
    parser.add_argument(
        "--rows",
        type=int,
        help="rows of generated orders (default 2,000,000 on a GPU; 500,000 on a CPU, where the "
        "ratios are noise anyway)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        help="size factor for the vector and Spark steps (default 1 on a GPU, 0.5 on a CPU)",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated parts to skip: pandas, vector, spark"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (best kept)")
    parser.add_argument("--json", help="also write the table as JSON here")
    parser.add_argument(
        "--chart", default="accel-demo.png", help="PNG chart of the table (only where a GPU ran)"
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    from accel._names import shadowed

    wanted = tuple(p for p, label in _STEP_PROVIDERS.items() if not skip & {p, label})
    clashes = shadowed(wanted)
    for clash in clashes:
        print(f"accel demo: name clash: {clash}", file=sys.stderr)
    if clashes:
        return 2

    probe = _device.probe_gpu()
    n_rows = args.rows or (2_000_000 if probe.available else 500_000)
    scale = args.scale or (1.0 if probe.available else 0.5)
    print("\n".join(headline(probe)))
    print(f"timing: best of {args.rounds} alternating rounds after a warm-up; setup not timed\n")
    rows: list[Row] = []
    with _quiet_third_parties():
        if "pandas" not in skip:
            print(f"pandas + scikit-learn on {n_rows:,} generated orders ...", flush=True)
            rows.extend(pandas_rows(n_rows, args.rounds))
        rows.extend(provider_rows(scale, skip, args.rounds, lambda s: print(s, flush=True)))
    print()
    print(render(rows, gpu=probe.available))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([asdict(r) | {"ratio": r.ratio} for r in rows], fh, indent=2)
    if args.chart and any(ran_on_gpu(r) for r in rows):  # on a CPU a chart would show noise
        saved = save_chart(rows, args.chart, headline(probe)[0])
        hint = _device.install_hint("report")
        print(f"\nchart: {saved}" if saved else f"\nchart: needs matplotlib: {hint}")
    bad = [r.step for r in rows if r.agree is False]
    if bad:
        print(f"\nresults differ in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0
