"""vector: a FAISS-compatible index API on cuVS (GPU) and faiss-cpu (CPU).

``import vector as faiss`` gives the FAISS 1.15 class names (``IndexFlatL2``, ``IndexIVFFlat``,
``IndexHNSWFlat``, ``IndexIDMap2``, ...), ``index_factory``, ``read_index``/``write_index`` and the
rest of the surface LangChain and LlamaIndex use. Each index is placed once, by the project's
device resolver (``device=`` argument > ``ACCEL_DEVICE`` > autodetect): on the CPU it is a real
faiss-cpu index underneath, so results match faiss exactly; on a GPU it runs on cuVS.

Nothing heavy is imported here: NumPy, faiss, cuVS and CuPy load on first use of a name.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Lets a ``faiss`` alias (``accel.auto``) be told apart from the real faiss wheel.
_ACCEL_VECTOR_SHIM = True

# public name -> private module that defines it (loaded on first attribute access)
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "Index",
            "IndexFlat",
            "IndexFlatL2",
            "IndexFlatIP",
            "IndexIVF",
            "IndexIVFFlat",
            "IndexIVFPQ",
            "IndexHNSW",
            "IndexHNSWFlat",
            "IndexIDMap",
            "IndexIDMap2",
            "downcast_index",
            "extract_index_ivf",
        ),
        "vector._index",
    ),
    **dict.fromkeys(
        (
            "METRIC_INNER_PRODUCT",
            "METRIC_L2",
            "METRIC_L1",
            "METRIC_Linf",
            "SearchParameters",
            "SearchParametersIVF",
            "IVFSearchParameters",
            "SearchParametersHNSW",
            "IDSelector",
            "IDSelectorAll",
            "IDSelectorRange",
            "IDSelectorArray",
            "IDSelectorBatch",
            "IDSelectorBitmap",
            "IDSelectorNot",
            "IDSelectorAnd",
            "IDSelectorOr",
            "IDSelectorXOr",
        ),
        "vector._params",
    ),
    **dict.fromkeys(
        (
            "write_index",
            "read_index",
            "serialize_index",
            "deserialize_index",
            "IO_FLAG_MMAP",
            "IO_FLAG_READ_ONLY",
            "IndexReadError",
        ),
        "vector._io",
    ),
    **dict.fromkeys(("index_factory",), "vector._factory"),
    **dict.fromkeys(
        (
            "StandardGpuResources",
            "GpuClonerOptions",
            "index_cpu_to_gpu",
            "index_gpu_to_cpu",
            "index_cpu_to_all_gpus",
            "get_num_gpus",
            "GpuIndexFlatL2",
            "GpuIndexFlatIP",
            "GpuIndexIVFFlat",
            "GpuIndexIVFPQ",
            "GpuIndexCagra",
            "GpuIndexCagraConfig",
        ),
        "vector._gpu_api",
    ),
    **dict.fromkeys(
        (
            "normalize_L2",
            "omp_set_num_threads",
            "omp_get_max_threads",
            "vector_to_array",
            "knn",
        ),
        "vector._utils",
    ),
    **dict.fromkeys(
        ("FallbackError", "InputError", "fallback_report", "clear_fallback_report"),
        "vector._placement",
    ),
}

__all__ = sorted([*_EXPORTS, "swigfaiss"])


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value
        return value
    if name == "swigfaiss":
        # LangChain's FAISS_NO_AVX2 path does ``from faiss import swigfaiss as faiss``.
        return importlib.import_module("vector")
    if name.startswith("_") or name.startswith("Gpu"):
        raise AttributeError(f"module 'vector' has no attribute {name!r}")
    # Anything else faiss has (IndexScalarQuantizer, Kmeans, ...) passes through to faiss-cpu,
    # CPU only; our functions accept those objects too.
    from vector import _cpu

    try:
        return getattr(_cpu.faiss, name)
    except AttributeError:
        raise AttributeError(
            f"module 'vector' has no attribute {name!r} (and faiss-cpu has none either)"
        ) from None


def __dir__() -> list[str]:
    return __all__
