"""Here: wheels for the lent machine, packed as checksummed parts small enough for one call each.

Each wheel set (``plan.WHEEL_SETS``) becomes ``<dest>/<set>/part-NN`` plus a ``MANIFEST`` of
sha256 sums and the list of wheels it holds. A set leaves out distributions an earlier set
already holds, so that installing the sets in order installs each distribution once.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks.gpu_check.plan import PART_MIB, WHEEL_SETS, WheelSet

#: The lent machine's interpreter (CPython 3.12, x86-64, manylinux).
DEVICE_PYTHON = ("--python-version", "3.12", "--implementation", "cp")
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)


def download(specs: Sequence[str], cache: Path) -> None:
    """Fetch the device's builds of ``specs`` (no dependencies: every one is named)."""
    cache.mkdir(parents=True, exist_ok=True)
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            *DEVICE_PYTHON,
            *platforms,
            "-d",
            str(cache),
            *specs,
        ],
        check=True,
    )


def select(specs: Sequence[str], cache: Path) -> list[Path]:
    """The newest wheel in ``cache`` matching each spec; a spec with none is an error."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name, parse_wheel_filename

    chosen: dict[str, Path] = {}
    for requirement in map(Requirement, specs):
        best = None
        for wheel in cache.glob("*.whl"):
            name, version, _, _ = parse_wheel_filename(wheel.name)
            if canonicalize_name(name) != canonicalize_name(requirement.name):
                continue
            if version in requirement.specifier and (best is None or version > best[0]):
                best = (version, wheel)
        if best is None:
            raise SystemExit(f"no wheel in {cache} for {requirement}: download it first")
        chosen[canonicalize_name(requirement.name)] = best[1]
    return sorted(set(chosen.values()))


def split_parts(files: Iterable[Path], out: Path, part_bytes: int) -> list[Path]:
    """One tar stream of ``files`` (flat names), cut into ``part-NN`` of ``part_bytes`` each."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*"):
        old.unlink()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            tar.add(path, arcname=path.name)
    data = buffer.getbuffer()
    parts = []
    for number, start in enumerate(range(0, len(data), part_bytes)):
        part = out / f"part-{number:02d}"
        part.write_bytes(data[start : start + part_bytes])
        parts.append(part)
    return parts


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out: Path, parts: Sequence[Path], wheels: Sequence[Path]) -> Path:
    manifest = out / "MANIFEST.json"
    manifest.write_text(
        json.dumps(
            {
                "parts": [
                    {"name": p.name, "sha256": sha256(p), "bytes": p.stat().st_size} for p in parts
                ],
                "wheels": [w.name for w in wheels],
            },
            indent=1,
        )
    )
    return manifest


def pack(
    sets: Sequence[WheelSet],
    cache: Path,
    dest: Path,
    *,
    part_bytes: int = PART_MIB << 20,
    fetch: bool = True,
) -> dict[str, list[Path]]:
    """Pack each set into ``dest/<set>/``; returns the parts of each set."""
    packed: dict[str, list[Path]] = {}
    held: set[str] = set()
    for wheel_set in sets:
        if fetch:
            download(wheel_set.specs, cache)
        wheels = [w for w in select(wheel_set.specs, cache) if w.name not in held]
        held.update(w.name for w in wheels)
        out = dest / wheel_set.name
        parts = split_parts(wheels, out, part_bytes)
        write_manifest(out, parts, wheels)
        packed[wheel_set.name] = parts
    return packed


def main(argv: Sequence[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="gpu_check pack", description=__doc__)
    parser.add_argument("sets", nargs="*", help="wheel sets (default: all, in plan order)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gpu-wheels")
    parser.add_argument("--dest", type=Path, default=Path(".gpu"))
    parser.add_argument("--no-download", action="store_true", help="use only the cache")
    args = parser.parse_args(argv)
    names = args.sets or [s.name for s in WHEEL_SETS]
    unknown = set(names) - {s.name for s in WHEEL_SETS}
    if unknown:
        parser.error(f"unknown set(s) {sorted(unknown)}; known: {[s.name for s in WHEEL_SETS]}")
    # Sets keep the plan's order whatever order they were named in (later sets dedupe).
    sets = [s for s in WHEEL_SETS if s.name in names]
    packed = pack(sets, args.cache, args.dest, fetch=not args.no_download)
    for name, parts in packed.items():
        size = sum(p.stat().st_size for p in parts) / 2**20
        print(f"{name}: {len(parts)} parts, {size:.0f} MiB in {args.dest / name}")
    return 0
