"""Which commit a benchmark or check measured: from git where the tree has it, else
``GPU_CHECK_COMMIT`` (the lent machine gets a copy of the tree, perhaps without ``.git`` or git)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, check=False)
    except OSError:
        return ""
    return proc.stdout.strip()


def commit() -> str:
    """Short hash, ``+dirty`` when tracked files differ from it."""
    sha = _git("rev-parse", "--short", "HEAD")
    if not sha:
        return os.environ.get("GPU_CHECK_COMMIT", "unknown")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{sha}{'+dirty' if dirty else ''}"
