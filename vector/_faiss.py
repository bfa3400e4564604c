"""The one module that imports faiss-cpu; it finds the real wheel even when ``faiss`` is aliased to us."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from types import ModuleType

__all__ = ["faiss"]


def _is_real_faiss(module: ModuleType | None) -> bool:
    return (
        module is not None
        and getattr(module, "__name__", "") == "faiss"
        and not getattr(module, "_ACCEL_VECTOR_SHIM", False)
    )


def _load_real_faiss() -> ModuleType:
    current = sys.modules.get("faiss")
    if _is_real_faiss(current):
        assert current is not None
        return current
    # sys.modules["faiss"] is an alias of vector (accel.auto, or a test): load the wheel from
    # sys.path directly, bypassing import hooks, then put the alias back.
    spec = importlib.machinery.PathFinder.find_spec("faiss")
    if spec is None or spec.loader is None:
        raise ImportError(
            "vector needs faiss-cpu for its CPU path: pip install -e '.[vector]' in a checkout "
            "of accel-ds (or 'path/to/accel_ds-*.whl[vector]'), or pip install faiss-cpu"
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules["faiss"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop("faiss", None)
        raise
    finally:
        if current is not None:
            sys.modules["faiss"] = current
    return module


faiss = _load_real_faiss()
