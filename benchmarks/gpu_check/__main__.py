"""``python -m benchmarks.gpu_check VERB``: plan | pack | run | stages.

- ``plan``: the lease, call by call, with each call's estimated seconds and the total;
- ``pack [SET ...]`` (here): the device's wheels, in parts of at most 56 MiB, into ``.gpu/``;
- ``run`` (there, what ``make gpu-check`` calls): install what has arrived, run what can run;
- ``stages capture|replay``: spark_plugin's TPC-H stages, captured here, replayed there.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    verb, rest = (argv[0], argv[1:]) if argv else ("plan", [])
    if verb == "plan":
        import json
        from pathlib import Path

        from benchmarks.gpu_check import plan

        parts = {}
        for wheel_set in plan.WHEEL_SETS:
            manifest = Path(".gpu") / wheel_set.name / "MANIFEST.json"
            parts[wheel_set.name] = (
                len(json.loads(manifest.read_text())["parts"])
                if manifest.exists()
                else plan.EXPECTED_PARTS[wheel_set.name]
            )
        print(plan.render(plan.lease(parts)))
        return 0
    if verb == "pack":
        from benchmarks.gpu_check import pack

        return pack.main(rest)
    if verb == "run":
        from benchmarks.gpu_check import run

        return run.main(rest)
    if verb == "stages":
        from benchmarks.gpu_check import stages

        return stages.main(rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
