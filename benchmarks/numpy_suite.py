"""NumPy's own test suite (shipped in the numpy wheel), plain and under ``pytest -p accel``.

    python benchmarks/numpy_suite.py [--files test_umath lib.tests.test_io ...] [--all]
                                     [--modes all-device default]

``--all`` runs every test module of ``numpy/_core/tests`` and ``numpy/lib/tests``; a file name
without a package is one of ``numpy._core.tests``. Results are written after every module,
so a run cut short still leaves what it measured.

Each file runs in fresh processes from an empty folder (this project's pytest settings don't
apply): once with plain NumPy, then under accel in proxy-check mode (``ACCEL_DEVICE=simulated``)
with ``-p accel -p accel._numpy._pytest`` so the suite's own ``import numpy`` gets the
accelerated namespace. Modes: ``all-device`` (``ACCEL_MIN_GPU_ELEMENTS=0``: every array the
tests make lives on the stand-in device, the real exercise of the proxy layer) and
``default`` (the default threshold: the suite's small arrays stay on NumPy). Per-test outcomes
come from JUnit XML; every test that passes plain but not under accel is listed with its
reason in ``benchmarks/results/numpy_suite_failures.md``.

Every pytest process (plain and accel alike) runs under an address-space limit
(``--memory-limit-gb``, ``RLIMIT_AS``: a test that balloons gets MemoryError and fails alone)
and a per-test time limit (``--test-timeout``, SIGALRM via ``numpy_suite_guard``). A process
still killed (a signal, or the module's ``--timeout``) has the test it was running deselected
and the module is run again; that test is reported as ``crashed``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FILES = ["test_umath", "test_multiarray", "test_numeric", "test_indexing"]
MODES = {
    "all-device": {"ACCEL_DEVICE": "simulated", "ACCEL_MIN_GPU_ELEMENTS": "0"},
    "default": {"ACCEL_DEVICE": "simulated"},
    # on a GPU machine with CuPy (not part of the default run; not yet run on a GPU)
    "gpu-all-device": {"ACCEL_DEVICE": "gpu", "ACCEL_MIN_GPU_ELEMENTS": "0"},
    "gpu-default": {"ACCEL_DEVICE": "gpu"},
}
DEFAULT_MODES = ["all-device", "default"]


CRASH_SITE = re.compile(r'File ".*?/tests/test_\w+\.py", line \d+ in (test_\w+)')


def run(module: str, mode: str | None, timeout: int) -> dict[str, object]:
    """Run one test module; return counts and per-test outcome/reason.

    A test that kills the interpreter (NumPy's C test helpers segfault when handed anything
    but a real ndarray) is found from faulthandler's traceback, deselected by name, and the
    module is run again; such tests are reported as ``crashed``.
    """
    crashed: list[str] = []
    start = time.perf_counter()
    outcomes: dict[str, tuple[str, str]] = {}
    for _ in range(12):
        code, tail, found, crash = _run_once(module, mode, timeout, crashed)
        outcomes.update(found)  # a rerun without the crashed test misses what ran before it
        if crash is None or crash in crashed:
            break
        crashed.append(crash)
    counts: dict[str, int] = {}
    for outcome, _ in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return {
        "seconds": round(time.perf_counter() - start, 1),
        "exit_code": code,
        "summary": tail,
        "crashed_and_deselected": crashed,
        "counts": counts,
        "outcomes": outcomes,
    }


def _dotted(module: str) -> str:
    return f"numpy._core.tests.{module}" if "." not in module else f"numpy.{module}"


def all_modules() -> list[str]:
    """Every test module of NumPy's ``_core`` and ``lib`` suites, as ``--files`` names them."""
    import numpy

    root = Path(numpy.__file__).parent
    found = [p.stem for p in sorted((root / "_core" / "tests").glob("test_*.py"))]
    found += [f"lib.tests.{p.stem}" for p in sorted((root / "lib" / "tests").glob("test_*.py"))]
    return found


LIMITS = {"memory_gb": 8.0, "test_timeout": 120}


def _limit_memory() -> None:
    limit = int(LIMITS["memory_gb"] * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _test_name(nodeid: str) -> str | None:
    """The test function of a node id, as ``-k`` can deselect it (all its parameters)."""
    name = nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
    return name if re.fullmatch(r"test\w*", name) else None


def _run_once(
    module: str, mode: str | None, timeout: int, deselect: list[str]
) -> tuple[int, str, dict[str, tuple[str, str]], str | None]:
    with tempfile.TemporaryDirectory() as empty:
        xml = Path(empty) / "junit.xml"
        current = Path(empty) / "current-test"
        args = [sys.executable, "-m", "pytest", "--pyargs", _dotted(module)]
        args += ["-p", "numpy_suite_guard"]
        args += ["-q", "-p", "no:cacheprovider", "--no-header", "-rN", f"--junitxml={xml}"]
        args += ["-o", "junit_family=xunit1", "-W", "ignore::DeprecationWarning"]
        if deselect:
            args += ["-k", " and ".join(f"not {name}" for name in deselect)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
        env["ACCEL_QUIET"] = "1"
        env["NUMPY_SUITE_TEST_TIMEOUT"] = str(LIMITS["test_timeout"])
        env["NUMPY_SUITE_CURRENT_TEST"] = str(current)
        path = [str(REPO / "benchmarks"), env.get("PYTHONPATH")]
        if mode is not None:
            args[3:3] = ["-p", "accel", "-p", "accel._numpy._pytest"]
            env.update(MODES[mode])
            path.insert(0, str(REPO))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
        try:
            proc = subprocess.run(
                args,
                cwd=empty,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                preexec_fn=_limit_memory,
            )
        except subprocess.TimeoutExpired:
            running = current.read_text() if current.exists() else ""
            crash = _test_name(running)
            return -1, f"timed out after {timeout} s in {running or '?'}", {}, crash
        tail = (proc.stdout.strip().splitlines() or [""])[-1]
        crash = None
        if proc.returncode < 0 or "Fatal Python error" in proc.stdout + proc.stderr:
            found = CRASH_SITE.findall(proc.stdout + proc.stderr)
            running = current.read_text() if current.exists() else ""
            crash = found[0] if found else _test_name(running)
            tail = f"crashed (signal {-proc.returncode}) in {crash}"
        outcomes = _outcomes(xml, module) if xml.exists() else {}
        return proc.returncode, tail, outcomes, crash


def _outcomes(xml: Path, module: str) -> dict[str, tuple[str, str]]:
    result: dict[str, tuple[str, str]] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        classname = (case.get("classname") or "").strip(".")
        test_id = f"{module}::{classname + '::' if classname else ''}{case.get('name')}"
        outcome, reason = "passed", ""
        for child in case:
            if child.tag in {"failure", "error"}:
                outcome = "failed" if child.tag == "failure" else "error"
                first = (child.get("message") or "").strip().splitlines()[0:1]
                reason = first[0][:200] if first else child.tag
                break
            if child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                break
        result[test_id] = (outcome, reason)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", nargs="+", default=FILES)
    parser.add_argument("--all", action="store_true", help="every _core and lib test module")
    parser.add_argument("--modes", nargs="+", default=DEFAULT_MODES, choices=list(MODES))
    parser.add_argument("--timeout", type=int, default=3600, help="per module run, seconds")
    parser.add_argument("--test-timeout", type=int, default=LIMITS["test_timeout"])
    parser.add_argument("--memory-limit-gb", type=float, default=LIMITS["memory_gb"])
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/numpy_suite.json"))
    parser.add_argument(
        "--failures", default=str(REPO / "benchmarks/results/numpy_suite_failures.md")
    )
    parser.add_argument("--commit", help="when running from an exported snapshot of the tree")
    args = parser.parse_args()
    LIMITS.update(memory_gb=args.memory_limit_gb, test_timeout=args.test_timeout)
    import numpy

    if args.all:
        args.files = all_modules()
    commit = (
        args.commit
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    )
    sys.path.insert(0, str(REPO))
    from accel import _device

    probe = _device.probe_gpu()
    device = ", ".join(probe.names) if probe.available else f"no GPU ({probe.reason})"
    on_gpu = any(mode.startswith("gpu") for mode in args.modes)
    where = (
        f"on {device} with CuPy (modes {', '.join(args.modes)})"
        if on_gpu
        else "in proxy-check mode (`ACCEL_DEVICE=simulated`, host stand-in for CuPy; "
        "not yet run on a GPU)"
    )
    summary: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "machine": f"{platform.node()} {os.cpu_count()} CPUs",
        "device": device,
        "modes": {mode: MODES[mode] for mode in args.modes},
        "numpy": numpy.__version__,
        "limits": dict(LIMITS),
        "files": {},
    }
    lines = [
        "# NumPy's own tests: accel-only failures",
        "",
        f"Generated by `benchmarks/numpy_suite.py` on {summary['date']} at commit {commit}, "
        f"NumPy {numpy.__version__}, {where}. A test is listed when it passes with plain "
        "NumPy and does not pass under `pytest -p accel`; the reason is the first line of its "
        "failure.",
        "",
    ]
    totals = {mode: [0, 0] for mode in args.modes}  # plain passes kept, plain passes
    for module in args.files:
        plain = run(module, None, args.timeout)
        entry: dict[str, object] = {"plain": _public(plain)}
        plain_passed = {t for t, (o, _) in plain["outcomes"].items() if o == "passed"}  # type: ignore[attr-defined]
        for mode in args.modes:
            accel = run(module, mode, args.timeout)
            outcomes: dict[str, tuple[str, str]] = accel["outcomes"]  # type: ignore[assignment]
            both = sorted(
                t for t in plain_passed if outcomes.get(t, ("missing", ""))[0] == "passed"
            )
            lost = sorted(plain_passed - set(both))
            rate = len(both) / len(plain_passed) if plain_passed else 0.0
            totals[mode][0] += len(both)
            totals[mode][1] += len(plain_passed)
            entry[mode] = {
                **_public(accel),
                "plain_passes_kept": len(both),
                "plain_passes": len(plain_passed),
                "ratio": round(rate, 4),
                "accel_only_failures": len(lost),
            }
            print(
                f"{module} [{mode}]: {len(both)}/{len(plain_passed)} of plain's passes "
                f"({rate:.1%}); plain: {plain['summary']}; accel: {accel['summary']}",
                flush=True,
            )
            lines += [
                f"## {module} [{mode}]: {len(both)} of {len(plain_passed)} plain passes kept "
                f"({rate:.1%}), {len(lost)} accel-only failures",
                "",
            ]
            crashed = accel["crashed_and_deselected"]
            for test_id in lost:
                outcome, reason = outcomes.get(test_id, ("missing", "not collected or not run"))
                if outcome == "missing" and any(name in test_id for name in crashed):  # type: ignore[attr-defined]
                    outcome = "crashed"
                    reason = "deselected after crashing or stalling the test process"
                lines.append(f"- `{test_id}` ({outcome}): {reason or '-'}")
            lines.append("")
        summary["files"][module] = entry  # type: ignore[index]
        _write(args, summary, lines, totals)
    _write(args, summary, lines, totals)
    return 0


def _write(
    args: argparse.Namespace,
    summary: dict[str, object],
    lines: list[str],
    totals: dict[str, list[int]],
) -> None:
    """Both result files, with the totals over the modules run so far."""
    summary["total"] = {
        mode: {"plain_passes_kept": kept, "plain_passes": all_, "ratio": round(kept / all_, 4)}
        for mode, (kept, all_) in totals.items()
        if all_
    }
    head = [
        f"- total [{mode}]: {t['plain_passes_kept']} of {t['plain_passes']} plain passes kept "
        f"({t['ratio']:.2%}) over {len(summary['files'])} modules"  # type: ignore[arg-type]
        for mode, t in summary["total"].items()  # type: ignore[attr-defined]
    ]
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    Path(args.failures).write_text("\n".join([*lines[:4], *head, "", *lines[4:]]) + "\n")


def _public(run_result: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in run_result.items() if k != "outcomes"}


if __name__ == "__main__":
    sys.exit(main())
