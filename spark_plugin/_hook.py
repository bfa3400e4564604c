"""Activation: wrap PySpark's DataFrame actions so each one asks, at action time, whether to offload."""

from __future__ import annotations

import functools
import html
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from accel import core
from spark_plugin import _observe, _writes

CONF_ENABLED = "spark.accel.enabled"
CONF_STRICT = "spark.accel.strict"
CONF_DEVICE = "spark.accel.device"

#: The classic DataFrame methods that run a query. take/head/first go through collect().
ACTIONS = ("collect", "count", "toArrow", "toPandas", "_show_string", "tail", "isEmpty")

_originals: dict[str, Any] = {}
_state = threading.local()
_lock = threading.Lock()


#: The name Spark's actions have in ``accel.report()``.
LIBRARY = "spark"
#: The report's row for stages the GPU engine failed on and that reran on the CPU engine.
STAGE_RERUN = "stage (GPU engine -> CPU engine rerun)"
_GPU_ENGINE = core.STACKS["spark"].gpu_engine


class OffloadError(core.FallbackError):
    """Strict mode: the query (or part of it) would have fallen back to plain Spark."""


@dataclass(slots=True)
class Stats:
    """Per-process counts of what the hooks did (``spark_plugin.stats()``)."""

    offloaded: int = 0
    fallbacks: int = 0
    #: (action, reason) for every fallback, most recent last.
    fallback_reasons: list[tuple[str, str]] = field(default_factory=list)
    last_report: Any = field(default=None, repr=False)
    #: Whether the last intercepted action ran offloaded.
    last_offloaded: bool = False
    #: Stages that the GPU engine failed on and that reran on the CPU engine, counted in the
    #: Spark tasks and carried back to the driver; with the reasons, most recent last.
    gpu_fallbacks: int = 0
    gpu_fallback_reasons: list[str] = field(default_factory=list)
    #: GPU->CPU stage reruns during the last intercepted action.
    last_gpu_fallbacks: int = 0

    def summary(self) -> str:
        """One line of counts, then the recent fallbacks with their reasons (each once)."""
        lines = [
            f"spark_plugin: {self.offloaded} actions offloaded, {self.fallbacks} left to Spark, "
            f"{self.gpu_fallbacks} GPU->CPU stage reruns"
        ]
        reasons = dict.fromkeys(f"{action}: {reason}" for action, reason in self.fallback_reasons)
        lines.extend(f"  left to Spark: {r}" for r in reasons)
        lines.extend(f"  GPU->CPU rerun: {r}" for r in dict.fromkeys(self.gpu_fallback_reasons))
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython shows the summary, not the dataclass fields."""
        printer.text("Stats(...)" if cycle else self.summary())

    def _repr_html_(self) -> str:
        """Jupyter: the counts, then a table of the fallbacks and reruns with their reasons."""
        head, *rest = self.summary().splitlines()
        rows = "".join(
            f"<tr><td>{html.escape(kind)}</td><td style='text-align:left'>"
            f"{html.escape(reason)}</td></tr>"
            for kind, _, reason in (line.strip().partition(": ") for line in rest)
        )
        table = f"<table><tr><th>what</th><th>why</th></tr>{rows}</table>" if rows else ""
        return f"<div class='accel-spark-stats'><p><b>{html.escape(head)}</b></p>{table}</div>"


STATS = Stats()


def _dataframe_class() -> Any:
    from pyspark.sql.classic.dataframe import DataFrame

    return DataFrame


def installed() -> bool:
    return bool(_originals)


def install() -> None:
    """Wrap the action methods (idempotent)."""
    with _lock:
        if _originals:
            return
        cls = _dataframe_class()
        for name in ACTIONS:
            original = cls.__dict__[name]
            _originals[name] = original
            setattr(cls, name, _wrap(name, original))
        _writes.install(_active, _run_once)


def uninstall() -> None:
    """Put PySpark's own methods back: plain Spark, exactly."""
    with _lock:
        if not _originals:
            return
        cls = _dataframe_class()
        for name, original in _originals.items():
            setattr(cls, name, original)
        _originals.clear()
        _writes.uninstall()


def _conf_true(spark: Any, key: str) -> bool:
    return str(spark.conf.get(key, "false")).strip().lower() == "true"


def is_enabled(spark: Any) -> bool:
    return installed() and _conf_true(spark, CONF_ENABLED)


def _strict(spark: Any) -> bool:
    # accel's ledger decides (ACCEL_STRICT and the like); the session's conf is OR-ed in.
    return core.ledger.is_strict(LIBRARY, also=_conf_true(spark, CONF_STRICT))


def resolve_device(spark: Any) -> core.Resolution:
    requested = spark.conf.get(CONF_DEVICE, None)
    return core.resolve_stack("spark", requested or None)


def engine_name(resolution: core.Resolution) -> str:
    return resolution.engine("spark")


def _active(spark: Any) -> bool:
    """Offload this call: the plugin is on and this is not a call made from inside one."""
    return not getattr(_state, "busy", False) and _conf_true(spark, CONF_ENABLED)


def _run_once(name: str, original: Any, df: Any, args: Any, kwargs: Any) -> Any:
    """``_run`` with re-entry off: the Spark calls made inside it are plain Spark's."""
    _state.busy = True
    try:
        return _run(name, original, df, args, kwargs)
    finally:
        _state.busy = False


def _wrap(name: str, original: Any) -> Any:
    @functools.wraps(original)
    def action(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _active(self.sparkSession):
            return original(self, *args, **kwargs)
        return _run_once(name, original, self, args, kwargs)

    action.__accel_original__ = original  # type: ignore[attr-defined]
    return action


_PLANNING_ERRORS: tuple[type[BaseException], ...] = (
    KeyError,
    ValueError,
    TypeError,
    NotImplementedError,
    IndexError,
    AttributeError,
    AssertionError,
    OSError,
)


def _execution_errors() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    return (Py4JJavaError, PySparkException)


def _fallback(
    name: str, reason: str, strict: bool, cause: BaseException | None = None, engine: str = ""
) -> None:
    """Count a query left to plain Spark; ``engine`` is the one it was meant to run on."""
    STATS.fallbacks += 1
    STATS.last_offloaded = False
    STATS.fallback_reasons.append((name, reason))
    del STATS.fallback_reasons[:-100]
    core.ledger.fallback(
        LIBRARY,
        f"DataFrame.{name}",
        reason,
        error=OffloadError,
        strict=strict,
        message=f"{name}() fell back to plain Spark: {reason}",
        cause=cause,
        engine=engine,
    )


_ERROR_LINE = re.compile(r"^\s*(?:Caused by:\s*|:\s*)?([\w.$]+(Error|Exception)):\s*(.*)$")


def summarize(exc: BaseException) -> str:
    """The line that names the error, from a Python traceback wrapped in a JVM error."""
    lines = str(exc).splitlines()
    found = [line.strip() for line in lines if _ERROR_LINE.match(line)]
    python_errors = [
        line for line in found if "Py4JJavaError" not in line and "SparkException" not in line
    ]
    best = python_errors[-1] if python_errors else (lines[0] if lines else type(exc).__name__)
    return best[:500]


def _run(name: str, original: Any, df: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from py4j.protocol import Py4JError

    from spark_plugin import _execute, _plan, _worker

    spark = df.sparkSession
    call = _observe.site_text(name, _observe.call_site())
    strict = _strict(spark)
    resolution = resolve_device(spark)  # an explicit "gpu" with no GPU raises here, by design
    engine = engine_name(resolution)
    spark_run = functools.partial(_on_spark, name, original, df, args, kwargs, call, strict)
    try:
        report = _plan.decide(df, engine)
    except (*_PLANNING_ERRORS, Py4JError) as exc:
        STATS.last_report = None
        return spark_run(f"planning failed: {type(exc).__name__}: {exc}", exc, engine)
    STATS.last_report = report
    STATS.last_gpu_fallbacks = 0
    _observe.log_explain(spark, call, report)
    if not report.offloaded:
        return spark_run("; ".join(report.reasons), None, engine)
    start = time.perf_counter()  # the offloaded action: building the stages and running them
    try:
        assert report.plan is not None
        assert report.stage_plan is not None
        reruns = spark.sparkContext.accumulator([], _worker.ReasonList())
        offloaded = _execute.build(
            df,
            report.plan,
            report.stage_plan,
            report.settings,
            resolution.device,
            strict,
            reruns,
        )
        with _observe.spark_job(spark.sparkContext, call, f"offloaded by accel ({engine})"):
            result = original(offloaded, *args, **kwargs)
        seconds = time.perf_counter() - start
    except (*_PLANNING_ERRORS, *_execution_errors()) as exc:
        # Spark's own answer (or Spark's own error, e.g. an ANSI overflow) comes from a rerun.
        return spark_run(f"offloaded run failed: {summarize(exc)}", exc, engine)
    reasons = _worker.distinct_reruns(reruns.value)
    _count_gpu_fallbacks(reasons)
    STATS.offloaded += 1
    STATS.last_offloaded = True
    core.ledger.record_call(
        LIBRARY, f"DataFrame.{name}", device=resolution.device, seconds=seconds, engine=engine
    )
    _observe.log(
        spark,
        logging.INFO,
        f"offloaded {call}: engine {engine}, {report.stages}; "
        f"{len(reasons)} GPU->CPU stage reruns; {seconds:.3f} s",
    )
    return result


def _on_spark(
    name: str,
    original: Any,
    df: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    call: str,
    strict: bool,
    reason: str,
    cause: BaseException | None,
    engine: str,
) -> Any:
    """Plain Spark runs the action (its answer, or its own error), after saying why."""
    _observe.log(df.sparkSession, logging.INFO, f"{call} left to Spark: {reason}")
    _fallback(name, reason, strict, cause, engine)  # strict: raises here
    with _observe.spark_job(df.sparkSession.sparkContext, call):
        return original(df, *args, **kwargs)


def _count_gpu_fallbacks(reasons: list[str]) -> None:
    """The GPU->CPU stage reruns the tasks reported, each once (see ``_worker.distinct_reruns``)."""
    STATS.gpu_fallbacks += len(reasons)
    STATS.last_gpu_fallbacks = len(reasons)
    STATS.gpu_fallback_reasons.extend(reasons)
    del STATS.gpu_fallback_reasons[:-100]
    for reason in reasons:  # they already happened, in the tasks: counted, never raised
        core.ledger.record_fallback(
            LIBRARY, STAGE_RERUN, reason, kind=fallback_kind(reason), engine=_GPU_ENGINE
        )


def fallback_kind(reason: str) -> str:
    """``"out_of_memory"`` for a rerun the device's memory caused, else ``"unsupported"``."""
    text = reason.lower()
    memory = text.startswith("memoryerror") or "out of memory" in text or "out_of_memory" in text
    return "out_of_memory" if memory else "unsupported"
