"""``python -m spark_plugin install-hook``: let ``spark.accel.enabled=true`` work with no code change."""

from __future__ import annotations

import argparse
import shutil
import sysconfig
from pathlib import Path

PTH_NAME = "accel_spark_plugin.pth"


def install_hook(site_packages: str | None = None) -> Path:
    """Copy the one-line ``.pth`` file into ``site_packages`` (default: this environment's)."""
    target_dir = Path(site_packages or sysconfig.get_paths()["purelib"])
    target = target_dir / PTH_NAME
    shutil.copyfile(Path(__file__).with_name(PTH_NAME), target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spark_plugin")
    sub = parser.add_subparsers(dest="command", required=True)
    hook = sub.add_parser("install-hook", help="install the conf-activation import hook")
    hook.add_argument("--site-packages", default=None)
    sub.add_parser("uninstall-hook", help="remove it")
    args = parser.parse_args(argv)
    if args.command == "install-hook":
        print(f"installed {install_hook(args.site_packages)}")
    else:
        target = Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
        target.unlink(missing_ok=True)
        print(f"removed {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
