"""Driver side: turn a stage plan into a Spark DataFrame whose work runs in the Python workers."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from accel.core import Device
from spark_plugin import _aggstates, _ir, _shuffle, _stages, _worker


def _register(spark: Any) -> None:
    """Once per session: registering again makes Spark log a warning ("replaced a previously
    registered data source") on every action."""
    manager = spark._jsparkSession.sessionState().dataSourceManager()
    if not manager.dataSourceExists(_worker.StageSource.name()):
        spark.dataSource.register(_worker.StageSource)


Splits = tuple[tuple[tuple[str, int, int], ...], ...]


@dataclass(frozen=True, slots=True)
class _RowGroup:
    path: str
    first: int
    rows: int
    size: int
    #: (min, max) of the range column from the Parquet statistics; None when unknown or nulls.
    bounds: tuple[Any, Any] | None = None


def _row_groups(scan: _ir.Scan, column: str | None = None) -> list[_RowGroup]:
    groups = []
    for path in scan.files:
        meta = pq.ParquetFile(path).metadata
        first = 0
        for i in range(meta.num_row_groups):
            group = meta.row_group(i)
            size = sum(group.column(c).total_compressed_size for c in range(group.num_columns))
            bounds = None
            for c in range(group.num_columns if column is not None else 0):
                chunk = group.column(c)
                if chunk.path_in_schema != column:
                    continue
                stats = chunk.statistics
                if stats is not None and stats.has_min_max and stats.null_count == 0:
                    bounds = (stats.min, stats.max)
            groups.append(_RowGroup(path, first, group.num_rows, size, bounds))
            first += group.num_rows
    return groups


def _split_count(
    scan: _ir.Scan, groups: list[_RowGroup], max_bytes: int, open_cost: int, parallelism: int
) -> int:
    per_core = scan.total_bytes // max(1, parallelism)
    split_bytes = min(max_bytes, max(open_cost, per_core))
    total = sum(g.size for g in groups)
    return max(1, min(len(groups), math.ceil(total / max(1, split_bytes))))


def _cut(
    groups: list[_RowGroup], count: int, may_cut: Callable[[int], bool] | None = None
) -> list[list[_RowGroup]]:
    """Consecutive row groups into ``count`` splits of about equal compressed size; a new split
    starts only where ``may_cut(index)`` allows."""
    target = sum(g.size for g in groups) / count
    splits: list[list[_RowGroup]] = [[]]
    filled = 0.0
    for i, group in enumerate(groups):
        if (
            filled >= target * len(splits)
            and len(splits) < count
            and (may_cut is None or may_cut(i))
        ):
            splits.append([])
        splits[-1].append(group)
        filled += group.size
    return splits


def _pieces(splits: list[list[_RowGroup]]) -> Splits:
    out = []
    for split in splits:
        pieces: list[tuple[str, int, int]] = []
        for g in split:
            last = pieces[-1] if pieces else None
            if last is not None and last[0] == g.path and last[1] + last[2] == g.first:
                pieces[-1] = (g.path, last[1], last[2] + g.rows)  # contiguous: merge
            else:
                pieces.append((g.path, g.first, g.rows))
        out.append(tuple(pieces))
    return tuple(out)


def compute_splits(
    scan: _ir.Scan, max_partition_bytes: int, open_cost: int, parallelism: int
) -> Splits:
    """Spark's split sizing (``maxSplitBytes``) over whole Parquet row groups instead of byte
    ranges. Each split is a list of (file, first row, row count) pieces."""
    groups = _row_groups(scan)
    if not groups:
        return ()
    count = _split_count(scan, groups, max_partition_bytes, open_cost, parallelism)
    return _pieces(_cut(groups, count))


def range_splits(
    scan: _ir.Scan, column: str, max_partition_bytes: int, open_cost: int, parallelism: int
) -> Splits | None:
    """Splits as :func:`compute_splits` makes them, but cut only between row groups whose
    ``column`` ranges do not meet, when the Parquet statistics prove that the splits then hold
    disjoint ranges of it (data written sorted or clustered by that column). None otherwise, or
    when that would leave fewer splits than cores or make one more than twice the planned size.
    """
    groups = _row_groups(scan, column)
    live = [g for g in groups if g.rows]
    if not live or any(g.bounds is None for g in live):
        return None
    count = _split_count(scan, groups, max_partition_bytes, open_cost, parallelism)
    before: list[Any] = []  # the largest value in the row groups before each one
    highest = None
    for group in groups:
        before.append(highest)
        if group.rows and group.bounds is not None:
            high = group.bounds[1]
            highest = high if highest is None or highest < high else highest

    def may_cut(i: int) -> bool:
        bounds = groups[i].bounds
        return bounds is not None and (before[i] is None or before[i] < bounds[0])

    splits = _cut(groups, count, may_cut)
    target = sum(g.size for g in groups) / count
    if (
        len(splits) < min(count, parallelism)
        or max(sum(g.size for g in s) for s in splits) > 2 * target
    ):
        return None
    ranges = []
    for split in splits:
        bounds = [g.bounds for g in split if g.rows and g.bounds is not None]
        if bounds:
            ranges.append((min(b[0] for b in bounds), max(b[1] for b in bounds)))
    ranges.sort()
    if any(ranges[i][1] >= ranges[i + 1][0] for i in range(len(ranges) - 1)):
        return None
    return _pieces(splits)


def place(stages: _stages.StagePlan, spark: Any) -> _stages.StagePlan:
    """The split table's splits from Spark's split settings, and whether the aggregate can run
    complete in the split tasks: one split, or splits holding disjoint ranges of a group key."""
    if stages.split is None:
        return stages
    conf = spark.conf
    sizing = (
        _bytes(conf.get("spark.sql.files.maxPartitionBytes", "128m")),
        _bytes(conf.get("spark.sql.files.openCostInBytes", "4m")),
        spark.sparkContext.defaultParallelism,
    )
    splits = compute_splits(stages.split, *sizing)
    local = None
    if stages.aggregate is not None and len(splits) <= 1:
        local = "one split"
    elif stages.aggregate is not None and stages.aggregate.keys:
        for column in _stages.range_keys(stages):
            ranged = range_splits(stages.split, column, *sizing)
            if ranged is not None:
                splits, local = ranged, f"the splits hold disjoint ranges of {column}"
                break
    return dataclasses.replace(
        stages, splits=splits, local_aggregate=local, partitions=shuffle_partitions(conf)
    )


def shuffle_partitions(conf: Any) -> int:
    """The partitions of a Spark shuffle with no count of its own: ``numShufflePartitions``
    (AQE's initial number when it coalesces). Routing is exact for any count Spark ends up
    using (one tag per partition of ours); this count only spreads the work."""
    count = conf.get("spark.sql.shuffle.partitions", "200")
    on = str(conf.get("spark.sql.adaptive.enabled", "true")).lower() == "true"
    coalesce = str(conf.get("spark.sql.adaptive.coalescePartitions.enabled", "true")).lower()
    if on and coalesce == "true":
        count = conf.get("spark.sql.adaptive.coalescePartitions.initialPartitionNum", None) or count
    return max(1, int(count))


def _hash_keys(stages: _stages.StagePlan) -> tuple[str, ...]:
    """The columns of the lower stage's output the final aggregate's shuffle hashes."""
    keys = stages.shuffle_keys
    if stages.aggregate is None:
        return keys
    for _, e in stages.aggregate.keys:
        try:
            arrow = _worker.arrow_type(_aggstates.transport_type(e.dtype))
        except KeyError:
            return ()
        if not _shuffle.hashable(arrow):
            return ()  # one partition: exact, only not spread
    if not stages.raw_aggregate:
        return keys
    # DISTINCT: raw rows travel; hash them on the columns the group keys are.
    columns = {n for n, _ in stages.lower.output}
    refs = [e.name for _, e in stages.aggregate.keys if isinstance(e, _ir.Col)]
    if len(refs) != len(stages.aggregate.keys) or not set(refs) <= columns:
        return ()
    return tuple(dict.fromkeys(refs))


def _over(plan: _ir.Plan, below: _ir.Plan) -> _ir.Plan:
    """``plan`` with its one ``Input`` replaced by ``below``."""
    rows = [n for n in _stages._walk(plan) if isinstance(n, _ir.Input)]
    assert len(rows) == 1, "the plan reads one input"
    return _stages._replace(plan, rows[0], below)


def _merge_plan(upper: _ir.Plan, limit: _ir.Plan | None) -> _ir.Plan:
    """``upper`` over the per-partition results of ``limit`` (its bottom LIMIT): the LIMIT (and
    its ORDER BY) again over them, then what lies above it."""
    assert isinstance(limit, _ir.Limit)
    rows = _ir.Input(limit.output)
    sort = limit.child
    again = _ir.Limit(_ir.Sort(rows, sort.keys) if isinstance(sort, _ir.Sort) else rows, limit.n)
    return _stages._replace(upper, limit, again)


def _transport(output: tuple[tuple[str, str], ...]) -> tuple[_worker.Field, ...]:
    return tuple((n, _aggstates.transport_type(t)) for n, t in output)


def _partial_fields(agg: _ir.Aggregate) -> tuple[_worker.Field, ...]:
    keys = tuple((n, _aggstates.transport_type(e.dtype)) for n, e in agg.keys)
    states = tuple((n, tuple(_aggstates.partial_state_fields(call))) for n, call in agg.aggs)
    return keys + states


@dataclass(frozen=True, slots=True)
class Workers:
    """The worker stages of one query: ``lower`` next to the data, then (when ``second`` is set)
    Spark's shuffle of ``lower``'s payloads by its route and ``second`` over them, then (when
    ``merge`` is set) one partition and ``merge`` over ``second``'s payloads."""

    lower: _worker.Stage
    second: _worker.Stage | None = None
    merge: _worker.Stage | None = None

    @property
    def stages(self) -> tuple[_worker.Stage, ...]:
        return tuple(s for s in (self.lower, self.second, self.merge) if s is not None)


def workers(
    root: _ir.Plan,
    stages: _stages.StagePlan,
    settings: _ir.Settings,
    device: Device | str,
    user_fields: tuple[_worker.Field, ...],
    user_nullable: tuple[bool, ...],
    strict: bool = False,
    gpu_reruns: Any = None,
) -> Workers:
    """The worker stages for a placed stage plan; ``user_fields`` are the final columns."""
    device = Device(device)
    root_columns = tuple(n for n, _ in root.output)
    if len(root_columns) != len(user_fields):
        raise NotImplementedError("plan output does not match the DataFrame's columns")
    splits = stages.splits or ()
    agg = stages.aggregate
    last_is_lower = (agg is None or stages.local_aggregate is not None) and stages.upper is None

    # Stage 1: next to the data.
    mode, after = "", None
    out: tuple[tuple[str, str], ...] = stages.lower.output
    if agg is not None and stages.local_aggregate is not None:
        # No group spans two splits: aggregate (and HAVING) complete here, no shuffle.
        mode, after = "local", stages.after_aggregate
        if stages.per_partition is not None:  # and the top k of each split
            after = _over(stages.per_partition, after or _ir.Input(agg.output))
        out = after.output if after is not None else agg.output
    elif agg is not None and not stages.raw_aggregate:
        mode = "partial"
    if mode == "partial":
        assert agg is not None
        lower_fields = _partial_fields(agg)
        lower_columns = tuple(n for n, _ in lower_fields)
    else:
        lower_fields = user_fields if last_is_lower else _transport(out)
        lower_columns = root_columns if last_is_lower else tuple(n for n, _ in out)
    lower = _worker.Stage(
        settings,
        device,
        plan=stages.lower,
        split=stages.split,
        splits=splits,
        aggregate=agg if mode else None,
        aggregate_mode=mode,
        after=after,
        output_fields=lower_fields,
        user_output=last_is_lower,
        output_columns=lower_columns,
        output_nullable=user_nullable if last_is_lower else (),
        strict=strict,
        gpu_reruns=gpu_reruns,
    )
    if last_is_lower:
        return Workers(lower)
    spread = agg is not None and stages.local_aggregate is None and not stages.final_in_one_task
    keys = _hash_keys(stages) if spread else ()
    lower = dataclasses.replace(lower, route=_shuffle.route(keys, stages.partitions or 1))

    # Stage 2: Spark shuffles the partial states by the group keys' hash; the final aggregate
    # merges them per partition (then HAVING, then a per-partition top k when a LIMIT follows).
    if agg is not None and stages.local_aggregate is None:
        limit = stages.per_partition
        plan: _ir.Plan | None = stages.after_aggregate
        if stages.final_in_one_task:
            # Joins with the aggregate's result and the like: the final aggregate runs with them
            # in one task (the shape before issue 10's shuffled joins).
            plan = _stages.above_aggregate(stages)
        elif limit is not None:
            plan = _over(limit, stages.after_aggregate or _ir.Input(agg.output))
        final = _worker.Stage(
            settings,
            device,
            input_fields=lower_fields,
            plan=plan,
            aggregate=agg,
            aggregate_mode="complete" if stages.raw_aggregate else "final",
            output_fields=user_fields,
            user_output=True,
            output_columns=root_columns,
            output_nullable=user_nullable,
            strict=strict,
            gpu_reruns=gpu_reruns,
            input_payloads=True,
        )
        if limit is None:
            return Workers(lower, final)
        assert stages.upper is not None
        final = dataclasses.replace(
            final,
            output_fields=_transport(limit.output),
            user_output=False,
            output_columns=tuple(n for n, _ in limit.output),
            output_nullable=(),
            route=_shuffle.route((), 1),
        )
        merge = _worker.Stage(
            settings,
            device,
            input_fields=_transport(limit.output),
            plan=_merge_plan(stages.upper, limit),
            output_fields=user_fields,
            user_output=True,
            output_columns=root_columns,
            output_nullable=user_nullable,
            strict=strict,
            gpu_reruns=gpu_reruns,
            input_payloads=True,
        )
        return Workers(lower, final, merge)

    local_limit = stages.per_partition is not None and stages.local_aggregate is not None
    # Stage 2 without an aggregate to finish: what is left (joins with the small result, sort,
    # limit) in one task.
    assert stages.upper is not None
    upper = _worker.Stage(
        settings,
        device,
        input_fields=lower_fields,
        plan=_merge_plan(stages.upper, stages.per_partition) if local_limit else stages.upper,
        output_fields=user_fields,
        user_output=True,
        output_columns=root_columns,
        output_nullable=user_nullable,
        strict=strict,
        gpu_reruns=gpu_reruns,
        input_payloads=True,
    )
    return Workers(lower, upper)


def user_columns(df: Any) -> tuple[tuple[_worker.Field, ...], tuple[bool, ...]]:
    """``df``'s columns as stage output fields (positional names) and their nullability."""
    # Positional names inside the stages: Spark allows duplicate column names, Arrow batches
    # handed to Spark do not; the user's names come back with toDF at the end.
    fields: tuple[_worker.Field, ...] = tuple(
        (f"_c{i}", _spark_type_name(f.dataType)) for i, f in enumerate(df.schema.fields)
    )
    return fields, tuple(bool(f.nullable) for f in df.schema.fields)


def build(
    df: Any,
    root: _ir.Plan,
    stages: _stages.StagePlan,
    settings: _ir.Settings,
    device: Device | str,
    strict: bool = False,
    gpu_reruns: Any = None,
) -> Any:
    """The offloaded DataFrame: same columns (names, types, order) as ``df``. ``strict``: a
    stage that the GPU engine fails on raises instead of rerunning on the CPU engine;
    ``gpu_reruns``: the accumulator (``_worker.ReasonList``) the tasks add their reruns to."""
    spark = df.sparkSession
    _register(spark)
    user_fields, user_nullable = user_columns(df)
    user_names = [f.name for f in df.schema.fields]
    if stages.split is not None and stages.splits is None:
        stages = place(stages, spark)
    plan = workers(root, stages, settings, device, user_fields, user_nullable, strict, gpu_reruns)
    result = spark.read.format("accel_stage").option("stage", _worker.encode(plan.lower)).load()
    previous = plan.lower
    for stage in (plan.second, plan.merge):
        if stage is None:
            continue
        assert previous.route is not None
        result = _exchange(result, previous.route).mapInArrow(
            _worker.map_stage(stage), _worker.output_schema(stage)
        )
        previous = stage
    return result.toDF(*user_names)


def _exchange(result: Any, target: _shuffle.Route) -> Any:
    """Spark's shuffle of a stage's ``(tag, payload)`` rows to the partitions Python chose: by
    the tag's hash (coalescible by AQE: a merged partition still holds whole partitions of
    ours), or to one partition."""
    if target.partitions <= 1:
        return result.repartition(1)
    return result.repartition(_shuffle.TAG)


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
