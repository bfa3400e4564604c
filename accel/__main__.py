"""``python -m accel``: run a script, module or code accelerated, check the machine, or run the demo."""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import time
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from accel import _config

DESCRIPTION = """\
Runs the script, module or code with pandas on cuDF and scikit-learn on cuML where a GPU is
usable, unchanged on the CPU otherwise (the options of `python -m cudf.pandas`, plus accel's).

other commands:
  python -m accel doctor    what was found on this machine, and what it means for you
  python -m accel demo      the built-in workload, plain and accelerated (demo --help)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m accel",
        usage="python -m accel [options] (-c CODE | -m MODULE | script.py) [args ...]",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # REMAINDER: everything after the target is the target's own argv, options included.
    target = parser.add_mutually_exclusive_group()
    target.add_argument("-c", dest="code", nargs=argparse.REMAINDER, help="run this code")
    target.add_argument("-m", dest="module", nargs=argparse.REMAINDER, help="run this module")
    parser.add_argument("script", nargs=argparse.REMAINDER, help="script.py [args ...]")
    parser.add_argument(
        "--device",
        choices=_config.DEVICE_CHOICES,
        help="where to run (the same values as ACCEL_DEVICE; default: ACCEL_DEVICE, else auto)",
    )
    parser.add_argument("--strict", action="store_true", help="any CPU fallback is an error")
    parser.add_argument("--quiet", action="store_true", help="no notice when running on the CPU")
    parser.add_argument("--report", action="store_true", help="print what ran where at the end")
    parser.add_argument(
        "--profile", action="store_true", help="the per-call table at the end (as --report)"
    )
    parser.add_argument(
        "--line-profile",
        action="store_true",
        help="per line of your file: time, and the GPU/CPU calls accel counted on it",
    )
    parser.add_argument("--report-json", metavar="PATH", help="write the report as JSON")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def _fail(message: str) -> int:
    print(f"accel: {message}", file=sys.stderr)
    return 2


def _show_report(args: argparse.Namespace) -> None:
    import accel

    status = accel.report()
    if args.report or args.profile:
        try:
            from rich.console import Console

            Console(stderr=True).print(status)
        except ImportError:
            print(status, file=sys.stderr)
    if args.report_json:
        with open(args.report_json, "w", encoding="utf-8") as fh:
            fh.write(status.to_json(indent=2))


def _user_traceback(exc: BaseException) -> None:
    """Print the traceback from the user's first frame on: accel's and runpy's are noise."""
    tb: TracebackType | None = exc.__traceback__
    ours = (__file__, runpy.__file__, "<frozen runpy>")
    while tb is not None and tb.tb_frame.f_code.co_filename in ours:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)


def _module_file(name: str) -> str | None:
    """The file ``-m name`` would run, or None when there is no such module."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{name}.__main__")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return spec.origin or "<module>"


def _run(kind: str, target: str, target_args: list[str], filename: str) -> None:
    if kind == "script":
        sys.argv = [target, *target_args]
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")
    elif kind == "module":
        sys.argv = [filename, *target_args]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *target_args]
        sys.path.insert(0, "")
        import linecache

        # tracebacks and the line profile can then show -c's source lines
        linecache.cache[filename] = (len(target), None, target.splitlines(True), filename)
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(target, filename, "exec"), namespace)


def _target_file(kind: str, target: str) -> str:
    """The file the target's code lives in; a user mistake raises ``_TargetError`` (one line)."""
    if kind == "script":
        if not os.path.isfile(target):
            raise _TargetError(f"no such script: {target}")
        return os.path.abspath(target)
    if kind == "module":
        sys.path.insert(0, os.getcwd())
        found = _module_file(target)
        sys.path.pop(0)
        if found is None:
            raise _TargetError(
                f"no module named {target!r} (looked in sys.path and the current folder)"
            )
        return found
    return "<accel -c>"


class _TargetError(Exception):
    pass


def _run_target(
    kind: str, target: str, target_args: list[str], filename: str, args: argparse.Namespace
) -> int:
    profiler = None
    if args.line_profile:
        from accel._lineprof import LineProfiler

        profiler = LineProfiler(filename)
    code = 0
    start = time.perf_counter()
    try:
        if profiler is not None:
            profiler.start()
        try:
            _run(kind, target, target_args, filename)
        finally:
            if profiler is not None:
                profiler.stop()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - the user's own error: shown, then exit 1
        _user_traceback(exc)
        code = 130 if isinstance(exc, KeyboardInterrupt) else 1
    finally:
        if profiler is not None:
            print(profiler.table(), file=sys.stderr)
            print(f"wall time {time.perf_counter() - start:.3f} s", file=sys.stderr)
        _show_report(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("doctor", "demo") and not os.path.exists(argv[0]):
        return _subcommand(argv[0], argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)  # a usage mistake: argparse's one line + usage, exit 2
    if args.version:
        from accel import __version__

        print(f"accel {__version__}")
        return 0
    if args.code is not None:
        if not args.code:
            parser.error("argument -c: expected the code to run")
        kind, target, rest = "code", args.code[0], args.code[1:]
    elif args.module is not None:
        if not args.module:
            parser.error("argument -m: expected a module name")
        kind, target, rest = "module", args.module[0], args.module[1:]
    elif args.script:
        if args.script[0].startswith("-"):
            parser.error(f"unrecognized arguments: {args.script[0]}")
        kind, target, rest = "script", args.script[0], args.script[1:]
    else:
        parser.error("nothing to run: give a script, -m module, -c code, doctor or demo")
    try:
        filename = _target_file(kind, target)
    except _TargetError as exc:
        return _fail(str(exc))
    # Child processes (Spark's Python workers, subprocesses) make the same device choice.
    if args.device:
        os.environ["ACCEL_DEVICE"] = args.device
    import accel

    try:
        accel.install(device=args.device, strict=args.strict or None, quiet=args.quiet or None)
    except (accel.GPUUnavailableError, accel.AccelInstallError) as exc:
        return _fail(str(exc))
    return _run_target(kind, target, rest, filename, args)


def _subcommand(name: str, rest: list[str]) -> int:
    if name == "doctor":
        from accel._doctor import doctor
        from accel._names import shadowed

        print(doctor(), end="")
        problems = shadowed()
        for problem in problems:
            print(f"\nname clash: {problem}")
        return 1 if problems else 0
    from accel._demo import main as demo_main

    return demo_main(rest)


if __name__ == "__main__":
    sys.exit(main())
