"""pandas' own test suite (shipped in the pandas wheel), plain and under ``pytest -p accel``.

    python benchmarks/pandas_suite.py [--dirs frame groupby] [--out benchmarks/results/...json]

Runs each directory twice in fresh processes from an empty folder (so this project's pytest
settings don't apply) and records passed/failed/skipped/errors for both, side by side. On a GPU
machine this is issue 2's compatibility check for cudf.pandas through accel; on a CPU it shows
that ``-p accel`` leaves pandas' suite exactly as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|warnings?|deselected)")


def run(directory: str, accelerated: bool, marker: str) -> dict[str, object]:
    args = [sys.executable, "-m", "pytest", "--pyargs", f"pandas.tests.{directory}", "-q"]
    args += ["-p", "no:cacheprovider", "-m", marker, "--no-header", "-rN"]
    if accelerated:
        args[3:3] = ["-p", "accel"]
    env = dict(os.environ, ACCEL_QUIET="1")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as empty:
        proc = subprocess.run(args, cwd=empty, env=env, capture_output=True, text=True, check=False)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-500:]
    counts = {
        kind.rstrip("s") if kind.startswith("error") else kind: int(n)
        for n, kind in COUNT.findall(tail)
    }
    return {
        "accelerated": accelerated,
        "seconds": round(time.perf_counter() - start, 1),
        "exit_code": proc.returncode,
        "summary": tail,
        **counts,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dirs", nargs="+", default=["frame", "groupby"])
    parser.add_argument("--marker", default="not slow and not single_cpu and not db")
    parser.add_argument("--out")
    args = parser.parse_args()
    import pandas

    from accel import _device

    probe = _device.probe_gpu()
    result: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "machine": f"{platform.node()} {os.cpu_count()} CPUs",
        "device": ", ".join(probe.names) if probe.available else f"no GPU ({probe.reason})",
        "pandas": pandas.__version__,
        "marker": args.marker,
        "runs": {},
    }
    for directory in args.dirs:
        plain = run(directory, False, args.marker)
        accelerated = run(directory, True, args.marker)
        result["runs"][directory] = {"plain": plain, "accel": accelerated}  # type: ignore[index]
        print(
            f"{directory}: plain  {plain['summary']}\n{directory}: accel  {accelerated['summary']}",
            flush=True,
        )
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
