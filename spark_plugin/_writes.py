"""Writes: ``df.write...`` runs the query offloaded and Spark's own writer writes the result.

The JVM ``DataFrameWriter`` keeps its settings private, so the builder calls (``mode``,
``format``, ``option(s)``, ``partitionBy``, ``bucketBy``, ``sortBy``, ``clusterBy``) are recorded
on the Python writer as they are made. At the write itself (``save``, ``parquet``,
``saveAsTable``, ``insertInto``, ...) the query goes through the same path as an action
(``_hook``'s run: plan, strict, fallback, counted in ``stats()`` and accel's ledger); when it is
offloaded the recorded calls are replayed on the offloaded DataFrame's ``.write`` and the same
write runs there. Spark's writer therefore keeps its commit protocol (task and job commit,
``_SUCCESS``, no visible output from a failed job), ``partitionBy``, save modes and the catalog.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

#: Calls that configure a write; recorded in this order and replayed on the offloaded writer.
BUILDERS = ("mode", "format", "option", "options", "partitionBy", "bucketBy", "sortBy", "clusterBy")
#: Calls that run one.
WRITES = ("save", "insertInto", "saveAsTable", "parquet", "orc", "json", "csv", "text", "xml")

_CALLS = "_accel_calls"
_originals: dict[str, Any] = {}
#: ``_hook``'s (active, run), set by ``install``
_offload: list[Any] = []


def _writer_class() -> Any:
    from pyspark.sql.readwriter import DataFrameWriter

    return DataFrameWriter


def install(active: Callable[[Any], bool], run: Callable[..., Any]) -> None:
    """Wrap ``DataFrameWriter`` (classic); called by ``_hook.install`` under its lock.

    ``active(spark)`` says whether to offload a write, ``run(name, fn, df, args, kwargs)`` runs it
    as an action (plan, strict, fallback, counted): ``_hook`` hands them in, so this module never
    imports it back.
    """
    if _originals:
        return
    _offload[:] = [active, run]
    cls = _writer_class()
    for name in BUILDERS + WRITES:
        original = cls.__dict__.get(name)
        if original is None:  # an older PySpark without e.g. clusterBy or xml
            continue
        _originals[name] = original
        wrap = _recording if name in BUILDERS else _writing
        setattr(cls, name, wrap(name, original))


def uninstall() -> None:
    if not _originals:
        return
    cls = _writer_class()
    for name, original in _originals.items():
        setattr(cls, name, original)
    _originals.clear()
    _offload.clear()


def _recording(name: str, original: Any) -> Any:
    @functools.wraps(original)
    def builder(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__.setdefault(_CALLS, []).append((name, args, kwargs))
        return original(self, *args, **kwargs)

    return builder


def _writing(name: str, original: Any) -> Any:
    @functools.wraps(original)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        df = self._df
        if not _offload or not _offload[0](df.sparkSession):
            return original(self, *args, **kwargs)
        try:
            given = inspect.signature(original).bind(self, *args, **kwargs).arguments
        except TypeError:  # PySpark's own call says what is wrong with the arguments
            return original(self, *args, **kwargs)
        calls = list(self.__dict__.get(_CALLS, ()))
        spark = df.sparkSession
        target = _output_path(name, given, calls)
        fresh = target is not None and not _exists(spark, target)
        if _mode(calls, given) in ("errorifexists", "ignore") and (
            (target is not None and not fresh)
            or (name == "saveAsTable" and spark.catalog.tableExists(given["name"]))
        ):
            # Spark refuses (or ignores) an existing target and writes nothing: nothing to run.
            return original(self, *args, **kwargs)

        def run(frame: Any, *call_args: Any, **call_kwargs: Any) -> Any:
            if frame is df:  # plain Spark: this writer, as the user configured it
                return original(self, *call_args, **call_kwargs)
            try:
                return original(replay(frame, calls), *call_args, **call_kwargs)
            except BaseException:
                if fresh:
                    assert target is not None
                    _remove_if_empty(spark, target)
                raise

        return _offload[1](f"write.{name}", run, df, args, kwargs)

    write.__accel_original__ = original  # type: ignore[attr-defined]
    return write


def replay(frame: Any, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> Any:
    """``frame.write`` configured by the recorded builder calls, in their order."""
    writer = frame.write
    for name, args, kwargs in calls:
        writer = getattr(writer, name)(*args, **kwargs)
    return writer


def _output_path(name: str, given: dict[str, Any], calls: list[Any]) -> str | None:
    """The directory a path write goes to (None: a table, or no path given as a string)."""
    if name in ("saveAsTable", "insertInto"):
        return None
    path = given.get("path")
    if path is None:  # .option("path", ...) then .save()
        for builder, b_args, b_kwargs in calls:
            if builder == "option" and len(b_args) == 2 and b_args[0] == "path":
                path = b_args[1]
            elif builder == "options" and "path" in b_kwargs:
                path = b_kwargs["path"]
    return path if isinstance(path, str) else None


def _mode(calls: list[Any], given: dict[str, Any]) -> str:
    """The save mode the write will use: its ``mode`` argument, else the last ``mode(...)``."""
    mode = given.get("mode")
    for builder, b_args, b_kwargs in calls if mode is None else ():
        if builder == "mode":
            value = b_args[0] if b_args else b_kwargs.get("saveMode")
            mode = value if value is not None else mode
    text = str(mode or "errorifexists").lower()
    return "errorifexists" if text in ("error", "default") else text


def _hadoop_path(spark: Any, path: str) -> tuple[Any, Any]:
    jvm = spark._jvm
    hadoop = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop.getFileSystem(spark._jsc.hadoopConfiguration()), hadoop


def _exists(spark: Any, path: str) -> bool:
    fs, hadoop = _hadoop_path(spark, path)
    return bool(fs.exists(hadoop))


def _remove_if_empty(spark: Any, path: str) -> None:
    """A failed job leaves the output directory it created, empty (the commit protocol removed
    the attempts' files): remove it, so that the rerun on plain Spark finds what the user had
    (``errorifexists`` would refuse an existing directory). Anything else in it stays."""
    fs, hadoop = _hadoop_path(spark, path)
    if not fs.exists(hadoop) or not fs.getFileStatus(hadoop).isDirectory():
        return
    names = {str(status.getPath().getName()) for status in fs.listStatus(hadoop)}
    if names <= {"_temporary"}:
        fs.delete(hadoop, True)
