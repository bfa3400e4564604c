"""Conf activation with no code change: installed by a ``.pth`` line, it waits for PySpark.

When ``pyspark.sql.classic.dataframe`` is imported, the action hooks are installed; each hook
reads ``spark.accel.enabled`` at action time, so a session built without that conf is untouched.
Costs one tiny meta-path finder per interpreter, and imports nothing else.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

TARGET = "pyspark.sql.classic.dataframe"


class _InstallAfter(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        from spark_plugin import _hook

        _hook.install()


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _InstallAfter(spec.loader)
                return spec
        return None


def activate() -> None:
    if TARGET in sys.modules:
        from spark_plugin import _hook

        _hook.install()
        return
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


activate()
