"""The stage engine: Polars' GPU engine (cudf-polars) where the resolver said GPU, else its CPU engine."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from accel.core import Device, FallbackError
from spark_plugin._compile import AnsiError

#: Errors that mean "the GPU engine could not run this stage" (not "Spark would raise here").
#: RuntimeError: cuDF's execution errors (CUDA errors, rmm's out-of-memory) are RuntimeErrors.
_GPU_FAILURES: tuple[type[BaseException], ...] = (
    NotImplementedError,
    MemoryError,
    RuntimeError,
    pl.exceptions.ComputeError,
)


class GPUFallbackError(FallbackError):
    """Strict mode: the GPU engine failed on a stage that would have rerun on the CPU engine."""


#: How many stages in this process fell back from the GPU engine to the CPU engine (workers
#: report theirs to the driver through the stage's ``on_gpu_fallback``; this is the local tally).
gpu_fallbacks = 0


def collect(
    frame: pl.LazyFrame,
    device: Device | str,
    *,
    cpu_fallback: bool = True,
    on_gpu_fallback: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """Run a stage. On the GPU a failure (out of memory, an unsupported construct, a cuDF or
    CUDA error) reruns the same query on the CPU engine, after ``on_gpu_fallback(reason)``;
    what the CPU engine raises goes back to Spark. ``cpu_fallback=False`` (strict mode, tests on
    a GPU machine) raises :class:`GPUFallbackError` instead of rerunning."""
    global gpu_fallbacks
    if Device(device).is_gpu():
        try:
            return frame.collect(engine=pl.GPUEngine(raise_on_fail=True))
        except _gpu_failures() as exc:
            if isinstance(exc, AnsiError | GPUFallbackError):
                raise
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            if not cpu_fallback:
                raise GPUFallbackError(
                    f"GPU engine failed, CPU rerun not allowed: {reason}",
                    library="spark",
                    call="stage",
                    reason=reason,
                    kind="out_of_memory" if isinstance(exc, MemoryError) else "unsupported",
                ) from exc
            gpu_fallbacks += 1
            if on_gpu_fallback is not None:
                on_gpu_fallback(reason)
    return frame.collect()


def _gpu_failures() -> tuple[type[BaseException], ...]:
    failures = list(_GPU_FAILURES)
    try:  # rmm's out-of-memory error, when the RAPIDS stack is installed
        from rmm import RMMError

        failures.append(RMMError)
    except ImportError:
        pass
    return tuple(failures)
