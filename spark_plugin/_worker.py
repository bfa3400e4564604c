"""What runs inside Spark's Python workers: the stage data source and the mapInArrow stages."""

from __future__ import annotations

import base64
import pickle
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from accel.core import Device
from spark_plugin import _compile, _engine, _ir, _numeric, _shuffle, _types

#: A field type: a Spark type name, or a tuple of (name, type) pairs for a struct.
FieldType = str | tuple[tuple[str, str], ...]
Field = tuple[str, FieldType]


@dataclass(frozen=True, slots=True)
class StageSpec:
    """The contract of one offloaded stage between driver and workers: what it reads, what it
    runs, where its output goes. Frozen, pickled once per stage (into the data source options or
    the mapInArrow closure); the tasks of the stage are pure functions of it and their input."""

    settings: _ir.Settings
    device: Device
    #: Rows come from Spark (mapInArrow) with these fields; empty for the data-source stage.
    input_fields: tuple[Field, ...] = ()
    #: The plan run over the scans (data-source stage) or over ``Input`` (later stages).
    plan: _ir.Plan | None = None
    split: _ir.Scan | None = None
    #: Per task: the (file, first row, row count) pieces of ``split`` it reads.
    splits: tuple[tuple[tuple[str, int, int], ...], ...] = ()
    aggregate: _ir.Aggregate | None = None
    #: partial | local | final | complete: partial and local (complete, in the split tasks) run
    #: after ``plan``, the others before it.
    aggregate_mode: str = ""
    #: local mode: the plan over ``Input`` of the aggregate's output (HAVING, projections).
    after: _ir.Plan | None = None
    output_fields: tuple[Field, ...] = ()
    #: True: ``output_fields`` are the user's columns (names and Spark types); False: transport.
    user_output: bool = False
    #: Internal column for each output field (user output renames them).
    output_columns: tuple[str, ...] = ()
    #: Spark's nullability of each user output column (Spark's schema says e.g. count is NOT NULL).
    output_nullable: tuple[bool, ...] = ()
    #: Strict mode: a GPU engine failure fails the task instead of rerunning on the CPU engine.
    strict: bool = False
    #: A Spark accumulator (:class:`ReasonList`) the GPU->CPU reruns of the tasks are added to,
    #: so that the driver sees them; None outside a Spark job.
    gpu_reruns: Any = None
    #: Set: the output goes to another stage of ours as ``(tag, IPC payload)`` rows, hash-
    #: partitioned by ``route`` (``_shuffle``); None: Arrow batches of ``output_fields``.
    route: _shuffle.Route | None = None
    #: The input rows arrive as ``(tag, IPC payload)`` rows of ``input_fields`` (not as rows).
    input_payloads: bool = False


#: The name the stage contract had before it carried its routing.
Stage = StageSpec


def encode(stage: Stage) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(stage))).decode("ascii")


def decode(text: str) -> Stage:
    stage = pickle.loads(zlib.decompress(base64.b64decode(text)))
    assert isinstance(stage, Stage)
    return stage


# -- Arrow <-> internal -----------------------------------------------------------------------


def arrow_type(dtype: FieldType) -> pa.DataType:
    if isinstance(dtype, tuple):
        return pa.struct([pa.field(n, arrow_type(t)) for n, t in dtype])
    if _types.is_decimal(dtype):
        return pa.decimal128(*_types.decimal_ps(dtype))
    return {
        "byte": pa.int8(),
        "short": pa.int16(),
        "integer": pa.int32(),
        "long": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "null": pa.null(),
    }[dtype]


def _internal(column: pl.Expr, source: pl.DataType, dtype: FieldType) -> pl.Expr:
    if isinstance(dtype, tuple):
        return pl.struct(
            [
                _internal(column.struct.field(n), _field_dtype(source, n), t).alias(n)
                for n, t in dtype
            ]
        )
    if _types.is_decimal(dtype):
        return _numeric.unscaled(column, source)
    return column.cast(_numeric.polars_dtype(dtype))


def _field_dtype(struct: pl.DataType, name: str) -> pl.DataType:
    assert isinstance(struct, pl.Struct)
    for f in struct.fields:
        if f.name == name:
            return f.dtype if isinstance(f.dtype, pl.DataType) else f.dtype()
    raise KeyError(name)


def to_internal(frame: pl.LazyFrame, fields: tuple[Field, ...] | list[Field]) -> pl.LazyFrame:
    schema = frame.collect_schema()
    return frame.select([_internal(pl.col(n), schema[n], t).alias(n) for n, t in fields])


def _to_arrow_array(series: pl.Series, dtype: FieldType) -> pa.Array:
    if isinstance(dtype, tuple):
        frame = series.struct.unnest()
        children = [_to_arrow_array(frame[n], t) for n, t in dtype]
        validity = series.is_null().to_arrow()
        return pa.StructArray.from_arrays(
            children, fields=[pa.field(n, arrow_type(t)) for n, t in dtype], mask=validity
        )
    if _types.is_decimal(dtype):
        precision, scale = _types.decimal_ps(dtype)
        unscaled = series.cast(pl.Decimal(38, 0)).to_arrow()
        if isinstance(unscaled, pa.ChunkedArray):
            unscaled = unscaled.combine_chunks()
        # Same 128-bit layout: reinterpret the unscaled integers at the real scale.
        scaled = pa.Array.from_buffers(
            pa.decimal128(38, scale), len(unscaled), unscaled.buffers(), unscaled.null_count
        )
        return scaled.cast(pa.decimal128(precision, scale))
    array = series.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(arrow_type(dtype))


def to_arrow(frame: pl.DataFrame, stage: Stage) -> pa.RecordBatch:
    arrays = [
        _to_arrow_array(frame.get_column(column), dtype)
        for column, (_, dtype) in zip(stage.output_columns, stage.output_fields, strict=True)
    ]
    flags = stage.output_nullable or (True,) * len(arrays)
    schema = pa.schema(
        [
            pa.field(n, arrow_type(t), nullable=flag)
            for (n, t), flag in zip(stage.output_fields, flags, strict=True)
        ]
    )
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- running a stage ----------------------------------------------------------------------------


def _read_scan(scan: _ir.Scan, pieces: tuple[tuple[str, int, int], ...] | None) -> pl.LazyFrame:
    file_columns = [c for c, _, _ in scan.columns]
    frame: pl.LazyFrame | None
    if pieces is None:
        frame = pl.scan_parquet(list(scan.files)).select(file_columns) if scan.files else None
    else:
        # Polars skips the row groups outside each slice (measured ~3x faster than pyarrow's
        # read_row_groups here), and cudf-polars can run the same scan.
        parts = [
            pl.scan_parquet(path).select(file_columns).slice(first, rows)
            for path, first, rows in pieces
        ]
        frame = pl.concat(parts) if parts else None
    if frame is None:
        empty = {n: _numeric.polars_dtype(t) for _, n, t in scan.columns}
        return pl.LazyFrame(schema=empty)
    frame = frame.select([pl.col(c).alias(n) for c, n, _ in scan.columns])
    return to_internal(frame, [(n, t) for _, n, t in scan.columns])


Collect = Callable[[pl.LazyFrame], pl.DataFrame]


def engine_collect(stage: Stage) -> Collect:
    """How ``stage`` runs a frame: its engine, reporting GPU->CPU reruns to the driver."""

    def record(reason: str) -> None:
        if stage.gpu_reruns is not None:
            stage.gpu_reruns.add([(*_task_identity(stage), reason)])

    def run(frame: pl.LazyFrame) -> pl.DataFrame:
        return _engine.collect(
            frame, stage.device, cpu_fallback=not stage.strict, on_gpu_fallback=record
        )

    return run


def _compiler(
    stage: Stage, input_frame: pl.LazyFrame | None, pieces: Any, collect: Collect
) -> _compile.Compiler:
    def sources(node: _ir.Scan | _ir.Input) -> pl.LazyFrame:
        if isinstance(node, _ir.Input):
            assert input_frame is not None
            return input_frame
        return _read_scan(node, pieces if node is stage.split else None)

    return _compile.Compiler(stage.settings, sources, collect)


def compile_stage(
    stage: Stage, input_frame: pl.LazyFrame | None, pieces: Any, collect: Collect
) -> pl.LazyFrame:
    """The stage's query, ready to collect; ``collect`` runs what must run while compiling
    (scalar subqueries)."""
    compiler = _compiler(stage, input_frame, pieces, collect)
    if stage.aggregate_mode in ("partial", "local"):
        assert stage.plan is not None
        assert stage.aggregate is not None
        mode = "partial" if stage.aggregate_mode == "partial" else "complete"
        frame = compiler.aggregate(stage.aggregate, compiler.plan(stage.plan), mode)
        if stage.after is not None:
            frame = _compiler(stage, frame, pieces, collect).plan(stage.after)
    else:
        frame = input_frame if input_frame is not None else pl.LazyFrame()
        if stage.aggregate is not None:
            frame = compiler.aggregate(stage.aggregate, frame, stage.aggregate_mode)
            compiler = _compiler(stage, frame, pieces, collect)
        if stage.plan is not None:
            frame = compiler.plan(stage.plan)
    return frame.select([pl.col(c) for c in dict.fromkeys(stage.output_columns)])


def run_stage(stage: Stage, input_frame: pl.LazyFrame | None, pieces: Any) -> pl.DataFrame:
    collect = engine_collect(stage)
    return collect(compile_stage(stage, input_frame, pieces, collect))


def input_schema(stage: Stage) -> pa.Schema:
    """The Arrow schema of the rows Spark hands a mapInArrow stage."""
    return pa.schema([pa.field(n, arrow_type(t)) for n, t in stage.input_fields])


def _emit(stage: Stage, result: pl.DataFrame) -> Iterator[pa.RecordBatch]:
    batch = to_arrow(result, stage)
    table = pa.Table.from_batches([batch])
    if stage.route is not None:
        yield from _shuffle.to_payloads(table, stage.route)
        return
    yield from table.to_batches(max_chunksize=1 << 16) or [batch]


def output_schema(stage: Stage) -> Any:
    """The Spark schema of what the stage hands Spark: its rows, or routed payloads."""
    if stage.route is not None:
        return spark_schema(
            ((_shuffle.TAG, "integer"), (_shuffle.PAYLOAD, "binary")), (False, True)
        )
    return spark_schema(stage.output_fields, stage.output_nullable)


def read_split(stage: Stage, index: int) -> Iterator[pa.RecordBatch]:
    """The data-source stage: one task's share of the split table, next to the data."""
    pieces = None
    if stage.split is not None:
        pieces = stage.splits[index] if stage.splits else ()  # () : a table with no row groups
    yield from _emit(stage, run_stage(stage, None, pieces))


def map_stage(stage: Stage) -> Any:
    """A mapInArrow function running ``stage`` over all the batches of its partition."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if stage.input_payloads:
            table = _shuffle.from_payloads(batches, input_schema(stage))
        else:
            table = pa.Table.from_batches(list(batches), schema=input_schema(stage))
        if table.num_rows == 0 and stage.aggregate is not None and stage.aggregate.keys:
            return  # no groups here: nothing to emit
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        internal = to_internal(frame.lazy(), stage.input_fields)
        yield from _emit(stage, run_stage(stage, internal, None))

    return run


def _task_identity(stage: Stage) -> tuple[str, int, int, int]:
    """(which stage of ours, partition, Spark stage id, attempt) of the running task."""
    from pyspark import TaskContext

    which = "map" if stage.input_fields else "source"
    context = TaskContext.get()
    if context is None:
        return which, -1, -1, -1
    return which, context.partitionId(), context.stageId(), context.attemptNumber()


def distinct_reruns(entries: list[Any]) -> list[str]:
    """The reasons of each task of ours once: a task Spark retried (or computed again in another
    job, as a sort's sampling job does) reports from each attempt; only its last one counts."""
    last: dict[tuple[str, int], tuple[int, int]] = {}
    for which, partition, stage_id, attempt, _ in entries:
        key = (which, partition)
        last[key] = max(last.get(key, (stage_id, attempt)), (stage_id, attempt))
    return [
        reason
        for which, partition, stage_id, attempt, reason in entries
        if last[(which, partition)] == (stage_id, attempt)
    ]


class ReasonList:
    """A Spark ``AccumulatorParam``: lists of (task identity..., reason), one per GPU->CPU rerun,
    concatenated."""

    def zero(self, value: list[str]) -> list[str]:
        return []

    def addInPlace(self, value1: list[str], value2: list[str]) -> list[str]:
        value1.extend(value2)
        return value1


# -- the Python data source -------------------------------------------------------------------

try:
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
except ImportError:  # pragma: no cover - workers always have pyspark
    DataSource = object  # type: ignore[assignment,misc]
    DataSourceReader = object  # type: ignore[assignment,misc]
    InputPartition = object  # type: ignore[assignment,misc]


def spark_schema(fields: tuple[Field, ...], nullable: tuple[bool, ...] = ()) -> Any:
    from pyspark.sql import types as T

    def convert(dtype: FieldType) -> Any:
        if isinstance(dtype, tuple):
            return T.StructType([T.StructField(n, convert(t), True) for n, t in dtype])
        if _types.is_decimal(dtype):
            return T.DecimalType(*_types.decimal_ps(dtype))
        return {
            "byte": T.ByteType(),
            "short": T.ShortType(),
            "integer": T.IntegerType(),
            "long": T.LongType(),
            "float": T.FloatType(),
            "double": T.DoubleType(),
            "string": T.StringType(),
            "boolean": T.BooleanType(),
            "date": T.DateType(),
            "timestamp": T.TimestampType(),
            "null": T.NullType(),
            "binary": T.BinaryType(),
        }[dtype]

    flags = nullable or (True,) * len(fields)
    return T.StructType(
        [T.StructField(n, convert(t), flag) for (n, t), flag in zip(fields, flags, strict=True)]
    )


class StageSource(DataSource):
    """``spark.read.format("accel_stage")``: partitions are file splits of the stage's table."""

    @classmethod
    def name(cls) -> str:
        return "accel_stage"

    def schema(self) -> Any:
        return output_schema(decode(self.options["stage"]))

    def reader(self, schema: Any) -> StageReader:
        return StageReader(decode(self.options["stage"]))


class StageReader(DataSourceReader):
    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def partitions(self) -> list[Any]:
        count = max(1, len(self.stage.splits)) if self.stage.split is not None else 1
        return [InputPartition(i) for i in range(count)]

    def read(self, partition: Any) -> Iterator[pa.RecordBatch]:
        yield from read_split(self.stage, int(partition.value))
