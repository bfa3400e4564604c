"""The layout issue 12 asks for: imports point down (accel's core <- the three packages), no
import circle anywhere (imports inside functions included: that is where circles hide), and no
source file past ~500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("accel", "spark_plugin", "vector")
MAX_LINES = 520  # "~500": a file past this is asking to be split by job


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imported(name: str, path: Path, top_level_only: bool = False) -> set[str]:
    """Our modules that ``name`` imports (anywhere in its file unless ``top_level_only``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in found:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        # a module importing its own package's __init__ (or itself) is not an edge
        if target and target != name and not name.startswith(target + "."):
            resolved.add(target)
    return resolved


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_in_any_package() -> None:
    assert _circles() == []


def test_no_circle_at_module_level() -> None:
    top = {
        name: {
            target
            for target in GRAPH[name]
            if target in _imported(name, MODULES[name], top_level_only=True)
        }
        for name in GRAPH
    }
    seen: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " -> ".join((*trail, node))
        if node in seen:
            return
        for target in top[node]:
            visit(target, (*trail, node))
        seen.add(node)

    for node in sorted(top):
        visit(node, ())


def test_accel_imports_none_of_its_siblings() -> None:
    up = {(a, b) for a in GRAPH if a.startswith("accel") for b in GRAPH[a]}
    assert {(a, b) for a, b in up if not b.startswith("accel")} == set()


def test_siblings_import_each_other_not_at_all() -> None:
    across = {
        (a, b)
        for a in GRAPH
        for b in GRAPH[a]
        if {a.split(".")[0], b.split(".")[0]} == {"vector", "spark_plugin"}
    }
    assert across == set()


def test_no_source_file_past_about_500_lines() -> None:
    files = [
        *MODULES.values(),
        *(ROOT / "benchmarks").rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
    ]
    long = {
        str(path.relative_to(ROOT)): n
        for path in files
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_siblings_use_only_accels_public_modules() -> None:
    private = {
        (a, b)
        for a in GRAPH
        if not a.startswith("accel")
        for b in GRAPH[a]
        if b.startswith("accel") and any(part.startswith("_") for part in b.split("."))
    }
    assert private == set()
