"""There: keep the parts each call carries, and install a wheel set once all its parts are in.

The parts of one set arrive over several calls (one per call); every call first moves what it
carried into ``parts_root/<set>/`` (the machine keeps that between calls while it stays warm),
then a set whose parts are all present and whose checksums match is joined, unpacked and
installed into ``site/<set>`` with pip, without an index and without dependencies (each set
names every distribution it needs; the machine's image has the rest). One folder per set, all
on ``PYTHONPATH``: pip's ``--target --upgrade`` replaces whole top-level folders, so sets
sharing a folder (``bin/``, ``nvidia/``) must not share a target.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.gpu_check.pack import DEVICE_PYTHON, PLATFORMS, sha256


@dataclass(frozen=True, slots=True)
class SetState:
    name: str
    #: installed | ready | waiting (parts missing) | corrupt | absent (no manifest yet)
    state: str
    detail: str = ""


def stash(carried: Path, parts_root: Path) -> list[str]:
    """Move the parts and manifests carried in ``carried/<set>/`` to ``parts_root/<set>/``."""
    moved: list[str] = []
    if not carried.is_dir():
        return moved
    for set_dir in sorted(p for p in carried.iterdir() if p.is_dir()):
        files = [*set_dir.glob("part-*"), *set_dir.glob("MANIFEST.json")]
        if not files:
            continue
        target = parts_root / set_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copyfile(path, target / path.name)
            moved.append(f"{set_dir.name}/{path.name}")
    return moved


def target(site: Path, name: str) -> Path:
    return site / name


def _marker(site: Path, name: str) -> Path:
    return target(site, name) / ".installed"


def check(parts_root: Path, site: Path, name: str) -> SetState:
    """Where set ``name`` stands: installed, ready to install, or what it still lacks."""
    if _marker(site, name).exists():
        return SetState(name, "installed")
    manifest = parts_root / name / "MANIFEST.json"
    if not manifest.exists():
        return SetState(name, "absent", "no MANIFEST.json carried yet")
    listed = json.loads(manifest.read_text())["parts"]
    missing = [p["name"] for p in listed if not (parts_root / name / p["name"]).exists()]
    if missing:
        return SetState(
            name, "waiting", f"{len(missing)} of {len(listed)} parts missing: {missing}"
        )
    bad = [p["name"] for p in listed if sha256(parts_root / name / p["name"]) != p["sha256"]]
    if bad:
        return SetState(name, "corrupt", f"checksum mismatch, carry again: {bad}")
    return SetState(name, "ready")


def install(parts_root: Path, site: Path, name: str, *, foreign: bool = False) -> SetState:
    """Join, unpack and pip-install set ``name`` into ``site`` if its parts are all in.

    ``foreign``: the wheels are the device's builds (CPython 3.12) installed from another
    interpreter, as the rehearsal here does; pip then checks them against the device's tags.
    """
    state = check(parts_root, site, name)
    if state.state != "ready":
        return state
    manifest = json.loads((parts_root / name / "MANIFEST.json").read_text())
    wheels = parts_root / name / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir()
    joined = parts_root / name / "joined.tar"
    with joined.open("wb") as out:
        for part in manifest["parts"]:
            with (parts_root / name / part["name"]).open("rb") as fh:
                shutil.copyfileobj(fh, out)
    with tarfile.open(joined) as tar:
        tar.extractall(wheels, filter="data")
    joined.unlink()
    found = sorted(p.name for p in wheels.glob("*.whl"))
    if found != sorted(manifest["wheels"]):
        return SetState(
            name, "corrupt", f"the parts hold {found}, the manifest {manifest['wheels']}"
        )
    extra: list[str] = []
    if foreign:
        extra = ["--only-binary=:all:", *DEVICE_PYTHON]
        extra += [arg for p in PLATFORMS for arg in ("--platform", p)]
    target(site, name).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile"]
        + ["--no-cache-dir", "--upgrade", "--target", str(target(site, name)), *extra]
        + [str(wheels / w) for w in found],
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(wheels, ignore_errors=True)
    if proc.returncode != 0:
        return SetState(name, "failed", proc.stderr.strip()[-2000:])
    _marker(site, name).write_text("\n".join(found) + "\n")
    return SetState(name, "installed", f"{len(found)} wheels")
