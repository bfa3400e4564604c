"""Conf activation with no code change: installed by a ``.pth`` line, it waits for PySpark.

When ``pyspark.sql.classic.dataframe`` is imported, the action hooks are installed; each hook
reads ``spark.accel.enabled`` at action time, so a session built without that conf is untouched.
Costs one tiny meta-path finder per interpreter, and imports nothing else.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

# The finder and loader follow importlib's protocols without subclassing importlib.abc, whose
# import (importlib.resources) would cost every interpreter ~9 ms at start-up.

TARGET = "pyspark.sql.classic.dataframe"


class _InstallAfter:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        from spark_plugin import _hook

        _hook.install()


class _Finder:
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _InstallAfter(spec.loader)  # type: ignore[assignment]
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
