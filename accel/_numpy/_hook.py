"""Who gets which NumPy: ``import numpy`` in user code gives the accelerated namespace,
in libraries (site-packages, the standard library, accel itself) the real one.

NumPy is nearly always in ``sys.modules`` before accel starts (pandas imports it), so a
meta-path finder never sees the import. Like cudf.pandas' ModuleAccelerator we decide by the
importing module's file path, but at import time rather than on every attribute access: we wrap
``builtins.__import__``, which every ``import`` statement calls with the importer's globals.
Only names starting with ``numpy`` take the slow branch; everything else is one comparison.
``sys.modules["numpy"]`` stays the real module, so libraries, C extensions and
``importlib.import_module("numpy")`` always get real NumPy.
"""

from __future__ import annotations

import builtins
import functools
import os
import site
import sys
import sysconfig
from typing import Any

from accel._numpy import _namespace

# Our own packages are libraries too: they hand arrays to FAISS, Spark, cuDF.
_LIBRARY_PACKAGES = frozenset({"accel", "vector", "spark_plugin", "numpy"})

_state: dict[str, Any] = {"original": None}
_user_paths: list[str] = []


def _library_roots() -> tuple[str, ...]:
    roots = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            roots.add(paths[key])
    try:
        roots.update(site.getsitepackages())
        roots.add(site.getusersitepackages())
    except AttributeError:  # a virtualenv's stripped-down site module
        pass
    return tuple(sorted({os.path.realpath(r) + os.sep for r in roots if r}))


def treat_as_user_code(path: str) -> None:
    """Give modules under ``path`` the accelerated NumPy even if it lies in site-packages
    (used to run NumPy's own test suite, which ships inside the wheel, under accel)."""
    _user_paths.append(os.path.realpath(path) + os.sep)
    _is_user_file.cache_clear()
    _in_user_paths.cache_clear()


@functools.lru_cache(maxsize=4096)
def _is_user_file(filename: str) -> bool:
    real = os.path.realpath(filename)
    if _in_user_paths(real):
        return True
    return not any(real.startswith(root) for root in _library_roots_cached())


@functools.lru_cache(maxsize=4096)
def _in_user_paths(filename: str) -> bool:
    real = os.path.realpath(filename)
    return any(real.startswith(p) for p in _user_paths)


@functools.cache
def _library_roots_cached() -> tuple[str, ...]:
    return _library_roots()


def is_user_module(module_globals: dict[str, Any] | None) -> bool:
    """Whether the module owning ``module_globals`` is user code (script, notebook, tests)."""
    if module_globals is None:
        return False
    filename = module_globals.get("__file__")
    if filename and _user_paths and _in_user_paths(filename):
        return True  # asked for explicitly (treat_as_user_code), even inside a package
    name = module_globals.get("__name__") or ""
    if name.partition(".")[0] in _LIBRARY_PACKAGES:
        return False
    if not filename:
        return True  # a REPL, a notebook cell, ``python -c``
    return _is_user_file(filename)


def _accelerated_import(
    name: str,
    globals: dict[str, Any] | None = None,
    locals: Any = None,
    fromlist: Any = (),
    level: int = 0,
) -> Any:
    original = _state["original"]
    module = original(name, globals, locals, fromlist, level)
    if level or not name.startswith("numpy") or not is_user_module(globals):
        return module
    if name == "numpy" or not fromlist:
        if name != "numpy" and not name.startswith("numpy."):
            return module  # numpy_financial and friends
        return _namespace.NUMPY  # `import numpy.linalg` binds the top-level package
    sub = _namespace.submodule(name.removeprefix("numpy."))
    return module if sub is None else sub


def install() -> None:
    """Wrap ``builtins.__import__`` (idempotent)."""
    if _state["original"] is None:
        _state["original"] = builtins.__import__
        builtins.__import__ = _accelerated_import  # type: ignore[assignment]


def uninstall() -> None:
    """Put the previous ``__import__`` back (modules already holding the namespace keep it)."""
    original = _state["original"]
    if original is not None and builtins.__import__ is _accelerated_import:
        builtins.__import__ = original
        _state["original"] = None


def is_installed() -> bool:
    return _state["original"] is not None and "numpy" in sys.modules
