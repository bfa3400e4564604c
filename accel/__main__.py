"""``python -m accel``: run a script or module accelerated, check the machine, or run the demo."""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence

USAGE = """\
usage: python -m accel [options] script.py [args ...]
       python -m accel [options] -m module [args ...]
       python -m accel doctor          what was found, and what it means for you
       python -m accel demo [--rows N] [--skip STEP[,STEP]] [--json PATH]

Runs the script or module with pandas on cuDF and scikit-learn on cuML where a GPU is usable,
unchanged on the CPU otherwise.

options:
  --device {auto,cpu,gpu}  where to run (default: ACCEL_DEVICE, else auto)
  --strict                 any fallback to the CPU is an error (ACCEL_STRICT=1)
  --quiet                  no notice when running on the CPU (ACCEL_QUIET=1)
  --report                 print what ran where when the program ends
  --report-json PATH       write the same report as JSON
  --version                print the version and exit
  -h, --help               this message
"""


class UsageError(Exception):
    pass


def _parse(argv: Sequence[str]) -> tuple[dict[str, object], str, str | None, list[str]]:
    """Split argv into accel's options, the kind of target, the target, and the target's args."""
    opts: dict[str, object] = {"device": None, "strict": None, "quiet": None, "report": False}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            return opts, "help", None, []
        if arg == "--version":
            return opts, "version", None, []
        if arg == "--report":
            opts["report"] = True
        elif arg == "--strict":
            opts["strict"] = True
        elif arg == "--quiet":
            opts["quiet"] = True
        elif arg == "--device" or arg.startswith("--device="):
            device = arg.split("=", 1)[1] if "=" in arg else _take(args, "--device")
            if device not in ("auto", "cpu", "gpu"):
                raise UsageError(f"--device {device!r}: choose auto, cpu or gpu")
            opts["device"] = device
        elif arg == "--report-json" or arg.startswith("--report-json="):
            opts["report_json"] = (
                arg.split("=", 1)[1] if "=" in arg else _take(args, "--report-json")
            )
        elif arg == "-m":
            return opts, "module", _take(args, "-m"), args
        elif arg.startswith("-m") and len(arg) > 2:
            return opts, "module", arg[2:], args
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r}")
        elif arg in ("doctor", "demo") and not os.path.exists(arg):
            return opts, arg, None, args
        else:
            return opts, "script", arg, args
    raise UsageError("nothing to run: give a script, -m module, doctor or demo")


def _take(args: list[str], flag: str) -> str:
    if not args:
        raise UsageError(f"{flag} needs a value")
    return args.pop(0)


def _show_report(opts: dict[str, object]) -> None:
    import accel

    status = accel.report()
    if opts.get("report"):
        try:
            from rich.console import Console

            Console(stderr=True).print(status)
        except ImportError:
            print(status, file=sys.stderr)
    path = opts.get("report_json")
    if isinstance(path, str):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(status.to_json(indent=2))


def _run_target(kind: str, target: str, target_args: list[str], opts: dict[str, object]) -> int:
    code = 0
    try:
        if kind == "script":
            if not os.path.isfile(target):
                print(f"accel: no such script: {target}", file=sys.stderr)
                return 2
            sys.argv = [target, *target_args]
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
        else:
            sys.argv = [target, *target_args]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    finally:
        _show_report(opts)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, kind, target, rest = _parse(argv)
    except UsageError as exc:
        print(f"accel: {exc}\n\n{USAGE}", file=sys.stderr)
        return 2
    if kind == "help":
        print(USAGE)
        return 0
    if kind == "version":
        from accel import __version__

        print(f"accel {__version__}")
        return 0
    if kind == "doctor":
        from accel._doctor import doctor

        print(doctor())
        return 0
    if kind == "demo":
        from accel._demo import main as demo_main

        return demo_main(rest)
    assert target is not None
    import accel

    device = opts["device"]
    try:
        accel.install(
            device=device if isinstance(device, str) else None,
            strict=opts["strict"] if isinstance(opts["strict"], bool) else None,
            quiet=opts["quiet"] if isinstance(opts["quiet"], bool) else None,
        )
    except (accel.GPUUnavailableError, accel.AccelInstallError) as exc:
        print(f"accel: {exc}", file=sys.stderr)
        return 2
    return _run_target(kind, target, rest, opts)


if __name__ == "__main__":
    sys.exit(main())
