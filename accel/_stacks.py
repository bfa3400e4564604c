"""What each GPU path needs, in one table read by the resolver, install and ``accel doctor``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["DISTRIBUTIONS", "STACKS", "Stack", "stack"]


@dataclass(frozen=True, slots=True)
class Stack:
    """One GPU path: the modules it imports, and the engines it runs on either side."""

    name: str
    #: The name it has in ``accel.report()``.
    library: str
    #: Modules the GPU path imports; all must be installed for it to run.
    needs: tuple[str, ...]
    gpu_engine: str
    cpu_engine: str
    #: What runs on the simulated device (the GPU code path on a host stand-in, where there is one).
    simulated_engine: str


STACKS: Final[dict[str, Stack]] = {
    s.name: s
    for s in (
        Stack("pandas", "pandas", ("cudf",), "cudf.pandas", "pandas", "cudf.pandas"),
        Stack(
            "numpy",
            "numpy",
            ("cupy",),
            "accel.numpy on CuPy",
            "numpy",
            "accel.numpy on a host stand-in for CuPy",
        ),
        Stack("sklearn", "scikit-learn", ("cuml",), "cuml.accel", "scikit-learn", "scikit-learn"),
        Stack("vector", "vector", ("cuvs", "cupy"), "cuVS", "faiss-cpu", "simulated cuVS"),
        # Spark's simulated device runs Polars' CPU engine: cudf-polars has no host stand-in.
        Stack(
            "spark",
            "spark",
            ("cudf_polars",),
            "polars-gpu (cudf-polars)",
            "polars-cpu",
            "polars-cpu",
        ),
    )
}

#: module -> distributions that may provide it (first installed one wins), for ``accel doctor``.
DISTRIBUTIONS: Final[dict[str, tuple[str, ...]]] = {
    "cudf": ("cudf-cu12", "cudf-cu13", "cudf"),
    "cudf_polars": ("cudf-polars-cu12", "cudf-polars-cu13", "cudf-polars"),
    "cupy": ("cupy-cuda12x", "cupy-cuda13x", "cupy"),
    "cuml": ("cuml-cu12", "cuml-cu13", "cuml"),
    "cuvs": ("cuvs-cu12", "cuvs-cu13", "cuvs"),
    "rmm": ("rmm-cu12", "rmm-cu13", "rmm"),
    "pandas": ("pandas",),
    "numpy": ("numpy",),
    "sklearn": ("scikit-learn",),
    "polars": ("polars",),
    "pyarrow": ("pyarrow",),
    "pyspark": ("pyspark",),
    "faiss": ("faiss-cpu", "faiss-gpu-cu12", "faiss-gpu-cuvs", "faiss"),
}


def stack(name: str) -> Stack:
    """The stack called ``name``; a ``ValueError`` names the known ones."""
    try:
        return STACKS[name]
    except KeyError:
        raise ValueError(f"stack={name!r} is not one of {', '.join(STACKS)}") from None
