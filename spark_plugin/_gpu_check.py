"""Would the GPU engine take each stage? cudf-polars' own translator asked, nothing executed.

cudf-polars translates a Polars plan to its IR in a post-optimization callback and collects a
reason for every construct it cannot run (``Translator.errors``); only executing the IR needs a
GPU. The callback here translates and then stops the query, so this runs on any machine with
the RAPIDS wheels installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from spark_plugin import _execute, _worker

#: ``executor_options``: the streaming executor's default ``min_device_size`` asks NVML for the
#: device's memory, which fails without a GPU; translation does not depend on it.
_TRANSLATE_ONLY = {"min_device_size": 1 << 30}


class _Translated(Exception):
    """Raised by the callback once the plan is translated, so that nothing executes."""


def refusals(frame: pl.LazyFrame) -> list[str]:
    """cudf-polars' reasons for not running ``frame`` on the GPU; empty when it takes it.

    Raises ImportError when cudf-polars is not installed.
    """
    from cudf_polars.dsl.translate import Translator

    engine = pl.GPUEngine(raise_on_fail=True, executor_options=_TRANSLATE_ONLY)
    found: list[list[str]] = []

    def translate(node_traverser: Any, _duration: int | None) -> None:
        translator = Translator(node_traverser, engine)
        translator.translate_ir()
        found.append(sorted({str(e) for e in translator.errors}))
        raise _Translated

    try:
        engine.collect(frame, optimizations=pl.QueryOptFlags(), post_opt_callback=translate)
    except pl.exceptions.ComputeError:
        # Polars wraps what the callback raises; anything but our signal is a real error.
        if not found:
            raise
    return found[0]


@dataclass(frozen=True, slots=True)
class StageCheck:
    """One Polars query a worker stage runs (the stage itself, or a scalar subquery in it)."""

    stage: int
    what: str
    refusals: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals

    def __str__(self) -> str:
        head = f"stage {self.stage} ({self.what})"
        if self.accepted:
            return f"{head}: the GPU engine takes it"
        return f"{head}: cudf-polars refuses it: " + "; ".join(self.refusals)


def stage_frames(stage: _worker.Stage) -> list[tuple[str, pl.LazyFrame]]:
    """Every frame ``stage`` would collect, built over stand-ins: the stage's first split (or
    its whole files) and empty batches of the rows Spark would hand it."""
    frames: list[tuple[str, pl.LazyFrame]] = []

    def stand_in(frame: pl.LazyFrame) -> pl.DataFrame:
        frames.append(("scalar subquery", frame))
        return pl.DataFrame(schema=frame.collect_schema())

    input_frame = None
    if stage.input_fields:
        empty = pl.from_arrow(_worker.input_schema(stage).empty_table())
        assert isinstance(empty, pl.DataFrame)
        input_frame = _worker.to_internal(empty.lazy(), stage.input_fields)
    pieces = stage.splits[0] if stage.split is not None and stage.splits else None
    what = stage.aggregate_mode + " aggregate" if stage.aggregate_mode else "plan"
    frames.append((what, _worker.compile_stage(stage, input_frame, pieces, stand_in)))
    return frames


def check_report(df: Any, report: Any) -> tuple[StageCheck, ...]:
    """Offer every stage the plugin would run for ``df`` (``report``: its ``ExplainReport``)
    to cudf-polars' translator. Empty when the query is not offloaded."""
    if not report.offloaded or report.plan is None or report.stage_plan is None:
        return ()
    user_fields, user_nullable = _execute.user_columns(df)
    plan = _execute.workers(
        report.plan, report.stage_plan, report.settings, "gpu", user_fields, user_nullable
    )
    checks = []
    for number, stage in enumerate(plan.stages, start=1):
        for what, frame in stage_frames(stage):
            checks.append(StageCheck(number, what, tuple(refusals(frame))))
    return tuple(checks)
