"""Top-level name clashes: another project's ``vector``/``spark_plugin`` found before ours."""

from __future__ import annotations

import importlib.util
import os
from importlib import metadata

DISTRIBUTION = "accel-ds"
# Our packages, each with a file the unrelated projects of the same name do not have (scikit-hep's
# `vector` on PyPI is the clash users actually meet).
MARKERS = {"vector": "_demo.py", "spark_plugin": "_demo.py"}


def _owners(name: str) -> list[str]:
    """Distributions that install the top-level name ``name`` (read from their metadata)."""
    try:
        return sorted(set(metadata.packages_distributions().get(name, [])))
    except (OSError, ValueError):
        return []


def shadowed(names: tuple[str, ...] = tuple(MARKERS)) -> list[str]:
    """One line per top-level name that does not import as ours, saying what it finds instead
    and the way out. Nothing is imported: only the import system's search is asked."""
    ours_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue  # not installed (the extra is missing): no clash, just absent
        folder = next(iter(spec.submodule_search_locations))
        if os.path.isfile(os.path.join(folder, MARKERS[name])):
            continue
        others = [d for d in _owners(name) if d.lower() != DISTRIBUTION]
        whose = f"the distribution {others[0]!r}" if others else "not accel-ds"
        fix = f"pip uninstall {others[0]}" if others else "take that folder off sys.path"
        problems.append(
            f"`import {name}` finds {folder} ({whose}), not accel-ds' {name} (next to accel in "
            f"{ours_root}); way out: {fix}, or give accel-ds its own virtual environment "
            "(README: Name clashes)"
        )
    return problems
