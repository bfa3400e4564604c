"""NumPy under accel: elementwise, reduction, matmul, FFT and sort from 1e3 to 1e7 elements.

    .venv/bin/python benchmarks/bench_numpy.py [--sizes 1e3 1e4 ...] [--rounds 3] [--out-dir DIR]

Every mode runs in its own fresh interpreter, measured in the same invocation so ratios are
like for like:

- ``numpy``: plain NumPy, the baseline;
- ``accel-cpu``: ``import accel.auto`` on this machine. Without a GPU this is the pass-through
  (the NumPy layer is not even imported); the target is at most 2% over NumPy;
- ``accel-simulated``: proxy-check mode (``ACCEL_DEVICE=simulated``): the stand-in computes
  with NumPy, so the ratio is the cost of accel's proxy, dispatch and bookkeeping alone;
- ``accel-gpu`` and ``cupy`` (bare CuPy): only where a GPU and CuPy are present. GPU timings
  synchronize the device inside the timed region.

Writes ``numpy-bench-<device>-<date>.json`` and the crossover plot ``numpy-crossover-<device>.png``
(time vs size per operation; the bare-CuPy line appears only when a GPU was present, and the
plot says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OPS = ["elementwise", "reduction", "matmul", "fft", "sort"]

WORKER = r"""
import json, math, statistics, sys, time
mode, sizes = sys.argv[1], [int(float(s)) for s in sys.argv[2].split(",")]
sync = lambda: None
if mode.startswith("accel"):
    import accel
    accel.install(quiet=True)
import numpy as np
if mode == "cupy":
    import cupy as np  # bare CuPy, the ceiling accel is measured against
    sync = np.cuda.Device().synchronize
elif mode == "accel-gpu":
    import cupy
    sync = cupy.cuda.Device().synchronize

def data(op, n):
    if op == "matmul":
        side = max(1, int(math.isqrt(n)))
        return (np.random.rand(side, side),)
    return (np.random.rand(n),)

OPS = {
    "elementwise": lambda a: np.sin(a) * 2.0 + a,
    "reduction": lambda a: a.sum(),
    "matmul": lambda a: a @ a,
    "fft": lambda a: np.fft.fft(a),
    "sort": lambda a: np.sort(a),
}
results = {}
for op, func in OPS.items():
    for n in sizes:
        if op == "matmul" and n > 4_000_000 and mode in ("numpy", "accel-cpu", "accel-simulated"):
            continue  # a 3162^2 matmul takes seconds on 2 shared cores; enough points below
        args = data(op, n)
        func(*args); sync()  # warm-up (and device placement)
        times, budget = [], time.perf_counter() + 0.3
        while len(times) < 3 or (time.perf_counter() < budget and len(times) < 50):
            start = time.perf_counter()
            func(*args); sync()
            times.append(time.perf_counter() - start)
        results[f"{op}:{n}"] = statistics.median(times)
print(json.dumps(results))
"""


def _run_mode(mode: str, sizes: list[str]) -> dict[str, float] | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env.update({"ACCEL_QUIET": "1", "PYTHONPATH": str(REPO)})
    if mode == "accel-simulated":
        env["ACCEL_DEVICE"] = "simulated"
    if mode == "accel-gpu":
        env["ACCEL_DEVICE"] = "gpu"
    proc = subprocess.run(
        [sys.executable, "-c", WORKER, mode, ",".join(sizes)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(f"{mode}: failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _plot(result: dict[str, object], path: Path, gpu: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timings: dict[str, dict[str, float]] = result["timings"]  # type: ignore[assignment]
    fig, axes = plt.subplots(1, len(OPS), figsize=(4 * len(OPS), 4), sharey=False)
    styles = {
        "numpy": ("NumPy", "-", "o"),
        "accel-cpu": ("accel (CPU pass-through)", "-", "s"),
        "accel-simulated": ("accel, proxy-check stand-in", ":", "x"),
        "accel-gpu": ("accel (GPU)", "-", "^"),
        "cupy": ("bare CuPy", "--", "v"),
    }
    for ax, op in zip(axes, OPS, strict=True):
        for mode, (label, line, marker) in styles.items():
            points = sorted(
                (int(k.split(":")[1]), v)
                for k, v in timings.get(mode, {}).items()
                if k.startswith(f"{op}:")
            )
            if points:
                xs, ys = zip(*points, strict=True)
                ax.loglog(xs, ys, line, marker=marker, label=label)
        ax.set_title(op)
        ax.set_xlabel("elements")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds per call (median)")
    axes[0].legend(fontsize=8)
    note = (
        f"{result['device']}"
        if gpu
        else "No GPU on this machine: no bare-CuPy or accel-GPU line (not yet run on a GPU)"
    )
    fig.suptitle(f"accel NumPy crossover — {note} — {result['date']} @ {result['commit']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def measure(sizes: list[str], rounds: int, modes: list[str] | None = None) -> dict[str, object]:
    """Time every mode this machine can run over ``sizes``, best of ``rounds`` alternating rounds."""
    sys.path.insert(0, str(REPO))
    from accel import _device

    probe = _device.probe_gpu()
    gpu = probe.available and _device.has_module("cupy")
    runnable = ["numpy", "accel-cpu", "accel-simulated"] + (["accel-gpu", "cupy"] if gpu else [])
    if modes:
        runnable = [m for m in runnable if m in modes]
    # the lent GPU machine may have no git: provenance falls back to GPU_CHECK_COMMIT
    from benchmarks.provenance import commit as provenance_commit

    result: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": provenance_commit(),
        "machine": f"{platform.node()} {os.cpu_count()} CPUs",
        "device": ", ".join(probe.names) if probe.available else f"no GPU ({probe.reason})",
        "gpu": gpu,
        "modes": runnable,
        "rounds": rounds,
        "sizes": sizes,
        "timings": {},
        "ratios_vs_numpy": {},
    }
    # Modes alternate round by round and each point keeps its best round, so load from other
    # work on a shared machine hits every mode alike instead of whichever ran at that moment.
    timings: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for mode in runnable:
            measured = _run_mode(mode, sizes)
            for key, seconds in (measured or {}).items():
                best = timings.setdefault(mode, {}).get(key)
                timings[mode][key] = seconds if best is None else min(best, seconds)
    result["timings"] = timings
    base = timings.get("numpy", {})
    result["ratios_vs_numpy"] = {
        mode: {key: round(value / base[key], 3) for key, value in values.items() if key in base}
        for mode, values in timings.items()
        if mode != "numpy"
    }
    if "accel-gpu" in timings and "cupy" in timings:
        result["accel_gpu_vs_cupy"] = {
            k: round(v / timings["cupy"][k], 3)
            for k, v in timings["accel-gpu"].items()
            if k in timings["cupy"]
        }
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["1e3", "1e4", "1e5", "1e6", "1e7"])
    parser.add_argument("--out-dir", default=str(REPO / "benchmarks/results"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--modes", nargs="+", help="only these modes (default: every mode this machine can run)"
    )
    args = parser.parse_args()
    result = measure(args.sizes, args.rounds, args.modes)
    ratios: dict[str, dict[str, float]] = result["ratios_vs_numpy"]  # type: ignore[assignment]
    timings: dict[str, dict[str, float]] = result["timings"]  # type: ignore[assignment]
    for mode, values in ratios.items():
        print(f"{mode}: median ratio to NumPy {statistics.median(values.values()):.3f}")
        for key, ratio in values.items():
            print(f"  {key:>22}  {ratio:7.3f}x  ({timings[mode][key] * 1e3:.3f} ms)")
    out = Path(args.out_dir)
    gpu = bool(result["gpu"])
    tag = "gpu" if gpu else "cpu"
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    (out / f"numpy-bench-{tag}-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    _plot(result, out / f"numpy-crossover-{tag}.png", gpu)
    return 0


@pytest.mark.benchmark(group="numpy-crossover")
def test_numpy_crossover(benchmark) -> None:  # type: ignore[no-untyped-def]
    """``make bench``: the same alternating rounds, sizes from ``BENCH_NUMPY_SIZES``."""
    sizes = os.environ.get("BENCH_NUMPY_SIZES", "1e3,1e4,1e5,1e6").split(",")
    rounds = int(os.environ.get("BENCH_NUMPY_ROUNDS", "3"))
    result = benchmark.pedantic(measure, args=(sizes, rounds), rounds=1, iterations=1)
    timings: dict[str, dict[str, float]] = result["timings"]
    ratios: dict[str, dict[str, float]] = result["ratios_vs_numpy"]
    benchmark.extra_info.update(
        {"device": result["device"], "commit": result["commit"], "ratios_vs_numpy": ratios}
    )
    # every mode this machine can run measured every (operation, size) point the baseline did
    assert timings.get("numpy"), "plain NumPy did not run"
    for mode in result["modes"]:
        assert set(timings.get(mode, {})) >= set(timings["numpy"]), f"{mode} missed points"
    # the CPU pass-through's target is NumPy's own speed (2%); 10% here leaves room for noise
    assert statistics.median(ratios["accel-cpu"].values()) < 1.10, ratios["accel-cpu"]


if __name__ == "__main__":
    sys.exit(main())
