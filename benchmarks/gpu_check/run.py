"""There (``make gpu-check``): every step that has become possible, once, within this call's time.

Each call of the lease runs the same command. It keeps the parts the call carried, installs
each wheel set whose parts are all in, then runs, in plan order, every step whose sets are
installed and that has not run yet, while the call's time allows the step's estimate. What a
step showed (device, date, commit, test counts, benchmark files, seconds) accumulates in
``state/summary.json``, which every call writes to ``$OUT`` with the logs of the steps it ran.

``--rehearse`` (here and in CI, no GPU) runs the same code with a scratch state: the tests are
collected, not run, and each benchmark runs its smallest form, so that the selection, the
commands and the JSON are proven before any device time is spent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.gpu_check import install as installer
from benchmarks.gpu_check.plan import STEPS, WHEEL_SETS, Step
from benchmarks.provenance import commit

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = 1


def device() -> dict[str, str]:
    """The GPU as nvidia-smi names it, or why there is none."""
    try:
        proc = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"name": "none", "detail": f"nvidia-smi: {exc}"}
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"name": "none", "detail": (proc.stderr or "no GPU listed").strip()[:200]}
    name, memory, driver = (part.strip() for part in proc.stdout.strip().splitlines()[0].split(","))
    return {"name": name, "memory": memory, "driver": driver}


def imports(modules: Sequence[str], env: dict[str, str]) -> str:
    """'' when every module imports in a fresh interpreter, else the first failure."""
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)"
    proc = subprocess.run(
        [sys.executable, "-c", code, *modules], capture_output=True, text=True, env=env, check=False
    )
    return "" if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1][:300]


def junit_counts(path: Path) -> dict[str, int]:
    if not path.exists():
        return {}
    suites = ET.parse(path).getroot()
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def _command(step: Step, argv: Sequence[str], out: Path, rehearse: bool) -> list[str]:
    args = [a.replace("{out}", str(out)) for a in argv]
    if rehearse:
        pytest = args[:2] == ["-m", "pytest"]
        args = [*args, "--collect-only", "-q"] if pytest else [*args, *step.rehearse_args]
    return [sys.executable, *args]


def run_step(
    step: Step, env: dict[str, str], out: Path, state: Path, rehearse: bool
) -> dict[str, Any]:
    """Run one step's tests and benchmarks; its log goes to ``out/<step>/log.txt``."""
    step_out = out / step.name
    step_out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    record: dict[str, Any] = {"step": step.name, "started": _now(), "rehearsal": rehearse}
    with (step_out / "log.txt").open("w") as log:
        if step.tests:
            junit = state / f"{step.name}-junit.xml"
            argv = [
                sys.executable,
                "-m",
                "pytest",
                "-m",
                "gpu",
                "--require-gpu",
                "-p",
                "no:cacheprovider",
            ]
            argv += ["-rfE", f"--junitxml={junit}", *step.tests]
            if rehearse:
                argv += ["--collect-only", "-q"]
            proc = _run(argv, env, log)
            record["tests"] = {"returncode": proc, **junit_counts(junit)}
            if rehearse:
                record["tests"]["collected"] = _collected(step_out / "log.txt")
        record["benchmarks"] = []
        for bench in step.benchmarks:
            command = _command(step, bench, step_out, rehearse)
            code = _run(command, env, log)
            record["benchmarks"].append({"command": " ".join(command[1:]), "returncode": code})
    record["files"] = sorted(p.name for p in step_out.iterdir())
    record["seconds"] = round(time.monotonic() - started, 1)
    record["ok"] = all(
        part.get("returncode") == 0
        for part in [record.get("tests", {}), *record["benchmarks"]]
        if part
    )
    return record


def _run(argv: list[str], env: dict[str, str], log: Any) -> int:
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    proc = subprocess.run(
        argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=False
    )
    log.write(f"[exit {proc.returncode}]\n")
    log.flush()
    return proc.returncode


def _collected(log: Path) -> int:
    """Tests pytest selected, from its ``--collect-only -q`` summary (``N tests collected`` or
    ``N/M tests collected (K deselected)``)."""
    for line in reversed(log.read_text().splitlines()):
        words = line.split()
        if len(words) >= 2 and words[1].startswith("test"):
            count = words[0].split("/")[0]
            if count.isdigit():
                return int(count)
    return 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check(
    out: Path,
    state: Path,
    parts_root: Path,
    site: Path,
    *,
    budget: float,
    rehearse: bool = False,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """One call's work; returns (and writes to ``out``) the accumulated summary."""
    deadline = time.monotonic() + budget
    out.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True, exist_ok=True)
    summary_path = state / "summary.json"
    summary: dict[str, Any] = (
        json.loads(summary_path.read_text())
        if summary_path.exists()
        else {"schema": SCHEMA, "device": device(), "commit": commit(), "steps": {}, "calls": []}
    )
    call: dict[str, Any] = {"at": _now(), "stashed": installer.stash(ROOT / ".gpu", parts_root)}
    sets = {}
    for wheel_set in WHEEL_SETS:
        result = installer.install(parts_root, site, wheel_set.name, foreign=rehearse)
        sets[wheel_set.name] = result.state
        if result.detail:
            call.setdefault("set_details", {})[wheel_set.name] = result.detail
    call["sets"] = sets
    paths = [str(installer.target(site, s.name)) for s in WHEEL_SETS if sets[s.name] == "installed"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("CUDF_PANDAS_RMM_MODE", "pool")
    ran = []
    for step in STEPS:
        if (only and step.name not in only) or step.name in summary["steps"]:
            continue
        waiting = [n for n in step.needs if sets.get(n) != "installed"]
        if waiting and not rehearse:
            call.setdefault("waiting", {})[step.name] = f"needs {waiting}"
            continue
        cost = step.test_seconds + step.bench_seconds
        if not rehearse and time.monotonic() + cost > deadline:
            call.setdefault("deferred", {})[step.name] = f"~{cost} s left for it: next call"
            continue
        missing = "" if rehearse else imports(step.modules, env)
        if missing:
            summary["steps"][step.name] = {"step": step.name, "ok": False, "import": missing}
            continue
        summary["steps"][step.name] = run_step(step, env, out, state, rehearse)
        ran.append(step.name)
    call["ran"] = ran
    summary["calls"].append(call)
    summary_path.write_text(json.dumps(summary, indent=1))
    shutil.copyfile(summary_path, out / "gpu-check.json")
    return summary


def main(argv: Sequence[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="gpu_check run", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-check-out")))
    parser.add_argument("--state", type=Path, default=Path("/root/gpu-check"))
    parser.add_argument("--parts", type=Path, default=Path("/root/gpu-parts"))
    parser.add_argument("--site", type=Path, default=Path("/root/site"))
    parser.add_argument("--budget", type=float, default=540, help="seconds this call may use")
    parser.add_argument("--rehearse", action="store_true", help="no GPU: collect, smallest sizes")
    parser.add_argument("--only", nargs="*", default=(), help="run only these steps")
    args = parser.parse_args(argv)
    summary = check(
        args.out,
        args.state,
        args.parts,
        args.site,
        budget=args.budget,
        rehearse=args.rehearse,
        only=args.only,
    )
    last = summary["calls"][-1]
    print(f"device: {summary['device']}  commit: {summary['commit']}")
    print(f"sets: {last['sets']}")
    for name, record in summary["steps"].items():
        tests = record.get("tests", {})
        print(
            f"{name:<13} ok={record.get('ok')} {record.get('seconds', '-')} s "
            f"tests={ {k: v for k, v in tests.items() if k != 'returncode'} } "
            f"bench={[b['returncode'] for b in record.get('benchmarks', [])]}"
            + (f" import: {record['import']}" if "import" in record else "")
        )
    for key in ("waiting", "deferred"):
        if last.get(key):
            print(f"{key}: {last[key]}")
    return 0 if all(r.get("ok") for r in summary["steps"].values()) else 1
