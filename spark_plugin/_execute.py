"""Driver side: turn a stage plan into a Spark DataFrame whose work runs in the Python workers."""

from __future__ import annotations

import math
from typing import Any

import pyarrow.parquet as pq

from spark_plugin import _compile, _ir, _stages, _worker


def _register(spark: Any) -> None:
    # Per session and cheap; registering every time avoids tracking sessions by identity.
    spark.dataSource.register(_worker.StageSource)


def compute_splits(
    scan: _ir.Scan, max_partition_bytes: int, open_cost: int, parallelism: int
) -> tuple[tuple[tuple[str, int, int], ...], ...]:
    """Spark's split sizing (``maxSplitBytes``) over whole Parquet row groups instead of byte
    ranges. Each split is a list of (file, first row, row count) pieces."""
    per_core = scan.total_bytes // max(1, parallelism)
    split_bytes = min(max_partition_bytes, max(open_cost, per_core))
    pieces: list[tuple[str, int, int, int]] = []  # (file, first row, rows, compressed bytes)
    for path in scan.files:
        meta = pq.ParquetFile(path).metadata
        first = 0
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            size = sum(group.column(c).total_compressed_size for c in range(group.num_columns))
            pieces.append((path, first, group.num_rows, size))
            first += group.num_rows
    if not pieces:
        return ()
    total = sum(piece[3] for piece in pieces)
    count = max(1, min(len(pieces), math.ceil(total / max(1, split_bytes))))
    target = total / count
    splits: list[list[tuple[str, int, int]]] = [[]]
    filled = 0.0
    for path, first, rows, size in pieces:
        if filled >= target * len(splits) and len(splits) < count:
            splits.append([])
        current = splits[-1]
        if current and current[-1][0] == path and current[-1][1] + current[-1][2] == first:
            current[-1] = (path, current[-1][1], current[-1][2] + rows)  # contiguous: merge
        else:
            current.append((path, first, rows))
        filled += size
    return tuple(tuple(split) for split in splits)


def _transport(output: tuple[tuple[str, str], ...]) -> tuple[_worker.Field, ...]:
    return tuple((n, _compile.transport_type(t)) for n, t in output)


def _partial_fields(agg: _ir.Aggregate) -> tuple[_worker.Field, ...]:
    keys = tuple((n, _compile.transport_type(e.dtype)) for n, e in agg.keys)
    states = tuple((n, tuple(_compile.partial_state_fields(call))) for n, call in agg.aggs)
    return keys + states


def build(
    df: Any, root: _ir.Plan, stages: _stages.StagePlan, settings: _ir.Settings, device: str
) -> Any:
    """The offloaded DataFrame: same columns (names, types, order) as ``df``."""
    spark = df.sparkSession
    _register(spark)
    # Positional names inside the stages: Spark allows duplicate column names, Arrow batches
    # handed to Spark do not; the user's names come back with toDF at the end.
    user_names = [f.name for f in df.schema.fields]
    user_fields: tuple[_worker.Field, ...] = tuple(
        (f"_c{i}", _spark_type_name(f.dataType)) for i, f in enumerate(df.schema.fields)
    )
    user_nullable = tuple(bool(f.nullable) for f in df.schema.fields)
    root_columns = tuple(n for n, _ in root.output)
    if len(root_columns) != len(user_fields):
        raise NotImplementedError("plan output does not match the DataFrame's columns")

    conf = spark.conf
    splits: tuple[Any, ...] = ()
    if stages.split is not None:
        splits = compute_splits(
            stages.split,
            _bytes(conf.get("spark.sql.files.maxPartitionBytes", "128m")),
            _bytes(conf.get("spark.sql.files.openCostInBytes", "4m")),
            spark.sparkContext.defaultParallelism,
        )
    agg = stages.aggregate
    last_is_lower = agg is None and stages.upper is None

    # Stage 1: next to the data.
    if agg is not None and not stages.raw_aggregate:
        lower_fields = _partial_fields(agg)
        lower_columns = tuple(n for n, _ in lower_fields)
        lower = _worker.Stage(
            settings,
            device,
            plan=stages.lower,
            split=stages.split,
            splits=splits,
            aggregate=agg,
            aggregate_mode="partial",
            output_fields=lower_fields,
            output_columns=lower_columns,
        )
    else:
        out = stages.lower.output
        lower_fields = user_fields if last_is_lower else _transport(out)
        lower_columns = root_columns if last_is_lower else tuple(n for n, _ in out)
        lower = _worker.Stage(
            settings,
            device,
            plan=stages.lower,
            split=stages.split,
            splits=splits,
            output_fields=lower_fields,
            user_output=last_is_lower,
            output_columns=lower_columns,
            output_nullable=user_nullable if last_is_lower else (),
        )
    result = spark.read.format("accel_stage").option("stage", _worker.encode(lower)).load()
    if last_is_lower:
        return result.toDF(*user_names)

    # Stage 2: Spark shuffles on the group keys; the final aggregate merges the states.
    input_fields = lower_fields
    if agg is not None:
        last = stages.upper is None
        after = stages.after_aggregate
        output = after.output if after is not None else agg.output
        fields = user_fields if last else _transport(output)
        columns = root_columns if last else tuple(n for n, _ in output)
        final = _worker.Stage(
            settings,
            device,
            input_fields=input_fields,
            plan=after,
            aggregate=agg,
            aggregate_mode="complete" if stages.raw_aggregate else "final",
            output_fields=fields,
            user_output=last,
            output_columns=columns,
            output_nullable=user_nullable if last else (),
        )
        keys = stages.shuffle_keys
        # No partition count: spark.sql.shuffle.partitions, which AQE may coalesce when the
        # partial states are small (most TPC-H queries: one final task instead of four).
        shuffled = result.repartition(*keys) if keys else result.repartition(1)
        result = shuffled.mapInArrow(
            _worker.map_stage(final), _worker.spark_schema(fields, final.output_nullable)
        )
        if last:
            return result.toDF(*user_names)
        input_fields = fields

    # Stage 3: what is left (joins with the small result, sort, limit) in one task.
    assert stages.upper is not None
    upper = _worker.Stage(
        settings,
        device,
        input_fields=input_fields,
        plan=stages.upper,
        output_fields=user_fields,
        user_output=True,
        output_columns=root_columns,
        output_nullable=user_nullable,
    )
    result = result.repartition(1).mapInArrow(
        _worker.map_stage(upper), _worker.spark_schema(user_fields, user_nullable)
    )
    return result.toDF(*user_names)


def _spark_type_name(data_type: Any) -> str:
    name = data_type.typeName()
    if name == "decimal":
        return f"decimal({data_type.precision},{data_type.scale})"
    return str(name)


def _bytes(text: str) -> int:
    text = str(text).strip().lower()
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    for suffix in ("b", ""):
        if suffix and text.endswith(suffix):
            text = text[: -len(suffix)]
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)
