"""What an action did, where Spark users look: the driver log, the Spark UI's job names and
descriptions, and the explain tree per action (``spark.accel.explain``)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

CONF_EXPLAIN = "spark.accel.explain"
#: spark-rapids' ``spark.rapids.sql.explain`` values: none, the queries not offloaded, all.
EXPLAIN_MODES = ("NONE", "NOT_ON_GPU", "ALL")

logger = logging.getLogger("spark_plugin")

_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


def call_site() -> tuple[str, int]:
    """(file, line) of the user's code that called the action: the first frame outside this
    package and PySpark (PySpark's own call site would name our hook)."""
    import pyspark

    skip = (_OWN_DIR + os.sep, os.path.dirname(os.path.abspath(pyspark.__file__)) + os.sep)
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(skip):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>", 0


def site_text(action: str, site: tuple[str, int]) -> str:
    """As PySpark writes a call site: ``collect at script.py:12``."""
    return f"{action} at {site[0]}:{site[1]}"


@contextlib.contextmanager
def spark_job(sc: Any, call: str, description: str | None = None) -> Iterator[None]:
    """Jobs started inside carry ``call`` as their call site (the Spark UI's job and stage
    names) and ``description`` after the user's own job description; both restored after."""
    from pyspark.traceback_utils import SCCallSiteSync

    sync = SCCallSiteSync(sc)
    # PySpark's own guard (nested syncs leave the outermost call site), with the user's line
    # instead of the frame that called PySpark (ours).
    sync._call_site = call
    key = "spark.job.description"
    previous = sc.getLocalProperty(key)
    with sync:
        if description is not None:
            sc.setLocalProperty(key, f"{previous}: {description}" if previous else description)
        try:
            yield
        finally:
            if description is not None:
                sc.setLocalProperty(key, previous)  # None removes it


def log(spark: Any, level: int, message: str) -> None:
    """To the ``spark_plugin`` logger, and to the driver's log4j log under the same name (the
    driver log that ``sc.setLogLevel`` governs)."""
    logger.log(level, message)
    from py4j.protocol import Py4JError

    try:
        jvm_logger = spark._jvm.org.apache.logging.log4j.LogManager.getLogger("spark_plugin")
        if level >= logging.WARNING:
            jvm_logger.warn(message)
        elif level >= logging.INFO:
            jvm_logger.info(message)
        else:
            jvm_logger.debug(message)
    except (Py4JError, AttributeError):  # another JVM logging layout: the Python line stays
        pass


def explain_mode(spark: Any) -> str:
    value = str(spark.conf.get(CONF_EXPLAIN, "NONE")).strip().upper()
    if value not in EXPLAIN_MODES:
        raise ValueError(
            f"{CONF_EXPLAIN} must be one of {', '.join(EXPLAIN_MODES)}, not {value!r}; "
            f"set it with spark.conf.set({CONF_EXPLAIN!r}, 'ALL')"
        )
    return value


def log_explain(spark: Any, call: str, report: Any) -> None:
    """``spark.accel.explain``: the annotated plan of the action, as spark-rapids logs its
    NOT_ON_GPU explain (a warning, so that it shows at Spark's default log level)."""
    mode = explain_mode(spark)
    if mode == "ALL" or (mode == "NOT_ON_GPU" and not report.offloaded):
        log(spark, logging.WARNING, f"explain of {call}:\n{report}")
