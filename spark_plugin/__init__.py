"""spark_plugin: PySpark SQL stages on the GPU (cudf-polars) or Polars on the CPU, no JVM jar.

Turn it on with ``spark_plugin.enable(spark)``, or with the conf ``spark.accel.enabled=true`` when
the import hook is installed (``python -m spark_plugin install-hook``). ``explain(df)`` says what
would run offloaded and why not. Importing this package imports neither PySpark nor Polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spark_plugin._hook import CONF_DEVICE, CONF_ENABLED, CONF_STRICT, OffloadError, Stats
from spark_plugin._observe import CONF_EXPLAIN

if TYPE_CHECKING:
    from spark_plugin._plan import ExplainReport

__all__ = [
    "CONF_DEVICE",
    "CONF_ENABLED",
    "CONF_EXPLAIN",
    "CONF_STRICT",
    "ExplainReport",
    "OffloadError",
    "Stats",
    "disable",
    "enable",
    "explain",
    "is_enabled",
    "stats",
]


def enable(spark: Any, *, device: str | None = None, strict: bool | None = None) -> None:
    """Offload the DataFrame actions of ``spark`` from now on.

    Parameters
    ----------
    spark
        A classic (non-Connect) ``SparkSession``.
    device
        ``"auto"`` (default), ``"cpu"`` or ``"gpu"``; stored as ``spark.accel.device``. An explicit
        ``"gpu"`` with no usable GPU raises ``accel.core.GPUUnavailableError`` here.
    strict
        When true, a query that would fall back to plain Spark raises :class:`OffloadError`.
    """
    from spark_plugin import _hook

    if device is not None:
        _set_for_enable(spark, CONF_DEVICE, device)
    if strict is not None:
        _set_for_enable(spark, CONF_STRICT, "true" if strict else "false")
    _hook.resolve_device(spark)
    _hook.install()
    spark.conf.set(CONF_ENABLED, "true")


def disable(spark: Any) -> None:
    """Back to plain Spark: PySpark's own action methods are restored, ``spark.accel.enabled``
    is false, and the confs that :func:`enable` set (``strict``, ``device``) are as before it."""
    from spark_plugin import _hook

    spark.conf.set(CONF_ENABLED, "false")
    # The confs enable() set go back to what they were, so a later enable(spark) starts afresh.
    for key, value in _before_enable.pop(_session_key(spark), {}).items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)
    _hook.uninstall()


#: Per session: the value each conf had before enable() first set it (None: unset).
_before_enable: dict[int, dict[str, str | None]] = {}


def _session_key(spark: Any) -> int:
    return id(getattr(spark, "_jsparkSession", spark))


def _set_for_enable(spark: Any, key: str, value: str) -> None:
    saved = _before_enable.setdefault(_session_key(spark), {})
    if key not in saved:
        saved[key] = spark.conf.get(key, None)
    spark.conf.set(key, value)


def is_enabled(spark: Any) -> bool:
    """Whether actions on ``spark`` are intercepted now."""
    from spark_plugin import _hook

    return _hook.is_enabled(spark)


def explain(df: Any) -> ExplainReport:
    """What the plugin would do with ``df``; ``str(report)`` is the annotated plan.

    Works whether or not the plugin is enabled, and runs no Spark job. Where cudf-polars is
    installed, every stage query is also offered to its translator (nothing is executed), and
    the report says per stage whether the GPU engine takes it, with cudf-polars' reasons.
    """
    from spark_plugin import _hook, _plan

    report = _plan.decide(df, _hook.engine_name(_hook.resolve_device(df.sparkSession)))
    return _plan.with_gpu_check(df, report)


def stats() -> Stats:
    """Counts of offloaded and fallen-back actions in this process, with the reasons."""
    from spark_plugin import _hook

    return _hook.STATS


def __getattr__(name: str) -> Any:
    if name == "ExplainReport":
        from spark_plugin._plan import ExplainReport

        return ExplainReport
    raise AttributeError(f"module 'spark_plugin' has no attribute {name!r}")
