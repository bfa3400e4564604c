"""The stage engine: Polars' GPU engine (cudf-polars) where the resolver said GPU, else its CPU engine."""

from __future__ import annotations

import polars as pl

#: Errors that mean "the GPU engine could not run this stage" (not "Spark would raise here").
_GPU_FAILURES: tuple[type[BaseException], ...] = (
    NotImplementedError,
    MemoryError,
    pl.exceptions.ComputeError,
)


def _gpu_failures() -> tuple[type[BaseException], ...]:
    failures = list(_GPU_FAILURES)
    try:  # rmm's out-of-memory error, when the RAPIDS stack is installed
        from rmm import RMMError

        failures.append(RMMError)
    except ImportError:
        pass
    return tuple(failures)


#: How many stages in this process fell back from the GPU engine to the CPU engine.
gpu_fallbacks = 0


def collect(frame: pl.LazyFrame, device: str, *, cpu_fallback: bool = True) -> pl.DataFrame:
    """Run a stage. On the GPU a failure (out of memory, an unsupported construct, a cuDF error)
    reruns the same query on the CPU engine; what the CPU engine raises goes back to Spark.
    ``cpu_fallback=False`` (tests on a GPU machine) lets the GPU failure through."""
    global gpu_fallbacks
    if device == "gpu":
        try:
            return frame.collect(engine=pl.GPUEngine(raise_on_fail=True))
        except _gpu_failures():
            if not cpu_fallback:
                raise
            gpu_fallbacks += 1
    return frame.collect()
