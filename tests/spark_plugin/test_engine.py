"""The stage engine and the stage machinery, without a Spark job: GPU→CPU rerun, splits, stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from spark_plugin import _engine, _execute, _ir, _stages  # noqa: E402


def test_gpu_stage_failure_reruns_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cuDF-side failure (simulated: the GPU engine raises) gives the CPU engine's answer."""
    original = pl.LazyFrame.collect
    calls: list[str] = []

    def collect(self: Any, *args: Any, **kwargs: Any) -> Any:
        engine = kwargs.get("engine")
        if isinstance(engine, pl.GPUEngine):
            calls.append("gpu")
            raise MemoryError("simulated device out of memory")
        calls.append("cpu")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "collect", collect)
    frame = pl.LazyFrame({"x": [1, 2, None]}).select(pl.col("x").sum())
    before = _engine.gpu_fallbacks
    assert _engine.collect(frame, "gpu").item() == 3
    assert calls == ["gpu", "cpu"]
    assert _engine.gpu_fallbacks == before + 1
    with pytest.raises(_engine.GPUFallbackError) as failure:
        _engine.collect(frame, "gpu", cpu_fallback=False)
    assert isinstance(failure.value.__cause__, MemoryError)


def _failing_gpu(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[str]:
    """The GPU engine raises ``error`` (standing in for the device); the CPU engine runs."""
    original = pl.LazyFrame.collect
    calls: list[str] = []

    def collect(self: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(kwargs.get("engine"), pl.GPUEngine):
            calls.append("gpu")
            raise error
        calls.append("cpu")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pl.LazyFrame, "collect", collect)
    return calls


class CUDARuntimeError(RuntimeError):
    """Shaped like cuda-python's and rmm's CUDA errors: a RuntimeError subclass."""


def test_cuda_runtime_error_reruns_the_stage_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _failing_gpu(monkeypatch, CUDARuntimeError("cudaErrorIllegalAddress"))
    reasons: list[str] = []
    frame = pl.LazyFrame({"x": [1, 2, None]}).select(pl.col("x").sum())
    assert _engine.collect(frame, "gpu", on_gpu_fallback=reasons.append).item() == 3
    assert calls == ["gpu", "cpu"]
    assert reasons == ["CUDARuntimeError: cudaErrorIllegalAddress"]


def test_spark_errors_raised_while_compiling_are_not_reruns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spark_plugin._compile import AnsiError

    calls = _failing_gpu(monkeypatch, AnsiError("scalar subquery returned more than one row"))
    frame = pl.LazyFrame({"x": [1]})
    with pytest.raises(AnsiError):
        _engine.collect(frame, "gpu")
    assert calls == ["gpu"]


def test_cpu_engine_errors_are_not_swallowed() -> None:
    frame = pl.LazyFrame({"s": ["x"]}).select(pl.col("s").cast(pl.Int8, strict=True))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        _engine.collect(frame, "cpu")


def _scan(path: Path, total: int) -> _ir.Scan:
    return _ir.Scan("t", (str(path),), (("x", "_1", "long"),), total)


def test_splits_cover_every_row_once(tmp_path: Path) -> None:
    paths = []
    for i in range(2):
        path = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.table({"x": list(range(1000))}), path, row_group_size=90)
        paths.append(path)
    scan = _ir.Scan("t", tuple(map(str, paths)), (("x", "_1", "long"),), 20_000)
    splits = _execute.compute_splits(scan, max_partition_bytes=4000, open_cost=0, parallelism=2)
    assert len(splits) > 2
    covered: dict[str, list[tuple[int, int]]] = {}
    for split in splits:
        for path, first, rows in split:
            covered.setdefault(path, []).append((first, rows))
    for path in map(str, paths):
        ranges = sorted(covered[path])
        position = 0
        for first, rows in ranges:
            assert first == position
            position += rows
        assert position == 1000


def test_one_split_when_the_file_is_small(tmp_path: Path) -> None:
    path = tmp_path / "small.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), path, row_group_size=1)
    splits = _execute.compute_splits(_scan(path, 100), 128 << 20, 4 << 20, 2)
    assert splits == (((str(path), 0, 3),),)


def test_split_table_is_never_the_null_padded_side() -> None:
    big = _ir.Scan("big", ("b",), (("k", "_1", "long"),), 10_000)
    small = _ir.Scan("small", ("s",), (("k", "_2", "long"),), 10)
    key_l, key_r = _ir.Col("_1", "long"), _ir.Col("_2", "long")
    # small LEFT JOIN big: splitting big would emit unmatched small rows once per split.
    join = _ir.Join(small, big, "left", (key_r,), (key_l,))
    stages = _stages.plan_stages(join)
    # big is still read in splits, but the join runs after Spark brings the splits together.
    assert stages.split is big
    assert stages.lower is big
    assert isinstance(stages.upper, _ir.Join)
    assert isinstance(stages.upper.right, _ir.Input)
    inner = _ir.Join(small, big, "inner", (key_r,), (key_l,))
    inner_stages = _stages.plan_stages(inner)
    assert inner_stages.split is big
    assert inner_stages.lower is inner
    assert inner_stages.upper is None


def test_aggregate_above_the_split_becomes_partial_and_final() -> None:
    big = _ir.Scan("big", ("b",), (("k", "_1", "long"), ("v", "_2", "double")), 10_000)
    agg = _ir.Aggregate(
        _ir.Filter(big, _ir.Call("isnotnull", (_ir.Col("_1", "long"),), "boolean")),
        (("_1", _ir.Col("_1", "long")),),
        (("_a", _ir.AggCall("sum", (_ir.Col("_2", "double"),), "double")),),
    )
    root = _ir.Limit(_ir.Sort(agg, (_ir.SortKey(_ir.Col("_a", "double"), False, False),)), 3)
    stages = _stages.plan_stages(root)
    assert stages.split is big
    assert stages.aggregate is agg
    assert stages.shuffle_keys == ("_1",)
    assert isinstance(stages.upper, _ir.Limit)
    assert "final aggregate" in stages.describe()


def _nested_decimal_division(depth: int) -> _ir.Expr:
    """((x / 3) / 3) ... ``depth`` times, each quotient rounded HALF_UP to 6 digits."""
    expr: _ir.Expr = _ir.Col("x", "decimal(20,6)")
    for _ in range(depth):
        expr = _ir.Call("div", (expr, _ir.Lit(3, "decimal(1,0)")), "decimal(38,6)")
    return expr


@pytest.mark.parametrize("ansi", [True, False], ids=["ansi", "legacy"])
def test_nested_decimal_formulas_compile_to_a_plan_of_linear_size(ansi: bool) -> None:
    """Spark's decimal checks use their operand several times; the compiler computes shared
    operands as columns first, so nesting adds a constant amount of plan, not a factor."""
    from decimal import ROUND_HALF_UP, Decimal

    from spark_plugin import _compile

    values = [1_000_000, -2_500_000, 7, None, 123_456_789_012]  # unscaled, scale 6
    source = pl.LazyFrame({"x": values}, schema={"x": pl.Int128})
    compiler = _compile.Compiler(
        _ir.Settings(ansi=ansi), lambda node: source, lambda f: f.collect()
    )
    sizes = {}
    for depth in (4, 8):
        plan = _ir.Project(
            _ir.Input((("x", "decimal(20,6)"),)), (("y", _nested_decimal_division(depth)),)
        )
        frame = compiler.plan(plan)
        sizes[depth] = len(frame.explain(optimized=False))
        got = frame.collect()["y"].to_list()
        want = []
        for v in values:
            if v is None:
                want.append(None)
                continue
            d = Decimal(v).scaleb(-6)
            for _ in range(depth):
                d = (d / 3).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            want.append(int(d.scaleb(6)))
        assert got == want
    # Linear: twice the depth, about twice the plan (it was a factor of ~12 per level).
    assert sizes[8] < 3 * sizes[4], sizes


def _semi_join_count(orders_bytes: int, lineitem_bytes: int) -> tuple[_ir.Plan, _ir.Scan, _ir.Scan]:
    """TPC-H q4's shape: count(*) of orders GROUP BY priority WHERE EXISTS (a lineitem)."""
    orders = _ir.Scan("orders", ("o",), (("k", "_1", "long"), ("p", "_2", "string")), orders_bytes)
    lineitem = _ir.Scan("lineitem", ("l",), (("k", "_3", "long"),), lineitem_bytes)
    semi = _ir.Join(orders, lineitem, "semi", (_ir.Col("_1", "long"),), (_ir.Col("_3", "long"),))
    count = _ir.AggCall("count_star", (), "long")
    agg = _ir.Aggregate(semi, (("_2", _ir.Col("_2", "string")),), (("_c", count),))
    return agg, orders, lineitem


def test_a_table_that_would_ship_its_rows_gives_way_to_one_that_reaches_the_aggregate() -> None:
    # Splitting lineitem (the right side of a semi join) would send its rows through Spark;
    # splitting orders aggregates in the split stage and reads lineitem in each task.
    root, orders, _ = _semi_join_count(60_000, 250_000)
    stages = _stages.plan_stages(root)
    assert stages.split is orders
    assert stages.aggregate is root
    assert isinstance(stages.lower, _ir.Join)
    assert "partial aggregate" in stages.describe()


def test_no_broadcast_much_bigger_than_the_split_table() -> None:
    # Reading a table 10x bigger in every task costs more than shipping the big table's rows.
    root, _, lineitem = _semi_join_count(10_000, 100_000)
    stages = _stages.plan_stages(root)
    assert stages.split is lineitem
    assert stages.lower is lineitem


def test_having_runs_with_the_final_aggregate() -> None:
    """A filter over complete groups is row by row: it runs in the final-aggregate tasks, so
    only the groups that pass it go on (TPC-H q18: 57 of 1.5M)."""
    big = _ir.Scan("big", ("b",), (("k", "_1", "long"), ("v", "_2", "long")), 10_000)
    total = _ir.AggCall("sum", (_ir.Col("_2", "long"),), "long")
    agg = _ir.Aggregate(big, (("_1", _ir.Col("_1", "long")),), (("_s", total),))
    having = _ir.Filter(
        agg, _ir.Call("gt", (_ir.Col("_s", "long"), _ir.Lit(300, "long")), "boolean")
    )
    root = _ir.Sort(having, (_ir.SortKey(_ir.Col("_s", "long"), False, False),))
    stages = _stages.plan_stages(root)
    assert stages.aggregate is agg
    assert isinstance(stages.after_aggregate, _ir.Filter)
    assert isinstance(stages.after_aggregate.child, _ir.Input)
    assert isinstance(stages.upper, _ir.Sort)
    assert isinstance(stages.upper.child, _ir.Input)
    assert "final aggregate + HAVING" in stages.describe()
    # With operators left above, the final aggregate runs in their one task: one plan over
    # Input of the aggregate's output, HAVING below the sort.
    whole = _stages.above_aggregate(stages)
    assert isinstance(whole, _ir.Sort)
    assert whole.child == stages.after_aggregate
    assert "final aggregate + HAVING/projection + remaining operators in one task" in (
        stages.describe()
    )


@pytest.mark.parametrize("ansi", [False, True], ids=["non_ansi", "ansi"])
@pytest.mark.parametrize("overflow", [False, True], ids=["fits", "overflows"])
def test_an_aggregate_joined_on_its_key_reads_only_the_keys_the_other_side_has(
    ansi: bool, overflow: bool
) -> None:
    """TPC-H q17's shape: rows JOIN (SELECT key, sum(v) ... GROUP BY key) ON key. Groups whose
    key the other side lacks are dropped by the join, so they are never aggregated; the answer
    is the same. Not under ANSI with an overflow check in the aggregate: Spark sums every group,
    and raises where one the join drops overflows (here key 4)."""
    from spark_plugin import _compile

    big = 2**63 - 1 if overflow else 0
    left_scan = _ir.Scan("l", ("l",), (("k", "_1", "long"),), 10)
    right_scan = _ir.Scan("r", ("r",), (("k", "_2", "long"), ("v", "_3", "long")), 10)
    frames = {
        "l": pl.LazyFrame({"_1": [1, 3, None, 3]}, schema={"_1": pl.Int64}),
        "r": pl.LazyFrame(
            {"_2": [1, 1, 2, 3, None, 4, 4], "_3": [10, 20, 30, 40, 50, 60, big]},
            schema={"_2": pl.Int64, "_3": pl.Int64},
        ),
    }
    total = _ir.AggCall("sum", (_ir.Col("_3", "long"),), "long")
    agg = _ir.Aggregate(right_scan, (("_4", _ir.Col("_2", "long")),), (("_5", total),))
    # A projection that renames the key and a HAVING-like filter sit between join and aggregate.
    renamed = _ir.Project(agg, (("_6", _ir.Col("_4", "long")), ("_5", _ir.Col("_5", "long"))))
    having = _ir.Filter(renamed, _ir.Call("isnotnull", (_ir.Col("_5", "long"),), "boolean"))
    join = _ir.Join(left_scan, having, "inner", (_ir.Col("_1", "long"),), (_ir.Col("_6", "long"),))

    def compile_join() -> pl.LazyFrame:
        compiler = _compile.Compiler(
            _ir.Settings(ansi=ansi),
            lambda node: frames[node.table] if isinstance(node, _ir.Scan) else pl.LazyFrame(),
            lambda f: f.collect(),
        )
        return compiler.plan(join)

    frame = compile_join()
    assert ("SEMI JOIN" in frame.explain(optimized=False)) is not ansi
    if ansi and overflow:
        with pytest.raises(pl.exceptions.InvalidOperationError, match="SPARK_ANSI_ERROR"):
            frame.collect()
        return
    rows = sorted(frame.collect().rows(), key=str)
    assert rows == [(1, 1, 30), (3, 3, 40), (3, 3, 40)]


@pytest.mark.parametrize("how", ["semi", "anti"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_semi_and_anti_joins_lifted_above_an_inner_join_give_the_same_rows(
    how: str, seed: int
) -> None:
    """The rewrite against the plan Spark gave, both run by the compiler on data with nulls and
    duplicate keys: (A semi/anti B) JOIN X == (A JOIN X) semi/anti B."""
    import random

    from spark_plugin import _compile, _reorder

    rng = random.Random(seed)

    def column(n: int) -> list[int | None]:
        return [None if rng.random() < 0.15 else rng.randrange(6) for _ in range(n)]

    frames = {
        "a": pl.LazyFrame(
            {"_1": column(40), "_2": column(40)}, schema={"_1": pl.Int64, "_2": pl.Int64}
        ),
        "b": pl.LazyFrame(
            {"_3": column(30), "_4": column(30)}, schema={"_3": pl.Int64, "_4": pl.Int64}
        ),
        "x": pl.LazyFrame(
            {"_5": column(5), "_6": column(5)}, schema={"_5": pl.Int64, "_6": pl.Int64}
        ),
    }
    a = _ir.Scan("a", ("a",), (("k", "_1", "long"), ("m", "_2", "long")), 1000)
    b = _ir.Scan("b", ("b",), (("k", "_3", "long"), ("m", "_4", "long")), 1000)
    x = _ir.Scan("x", ("x",), (("k", "_5", "long"), ("v", "_6", "long")), 10)
    col = lambda n: _ir.Col(n, "long")  # noqa: E731
    residual = _ir.Call("lt", (col("_2"), col("_4")), "boolean")
    semi = _ir.Join(a, b, how, (col("_1"),), (col("_3"),), residual)
    # Spark's column pruning: the projection keeps only the join key of A.
    pruned = _ir.Project(semi, (("_1", col("_1")),))
    root = _ir.Join(x, pruned, "inner", (col("_5"),), (col("_1"),))
    lifted = _reorder.float_semi_joins(root)
    assert lifted != root

    def run(plan: _ir.Plan) -> list[tuple[object, ...]]:
        compiler = _compile.Compiler(
            _ir.Settings(),
            lambda node: frames[node.table] if isinstance(node, _ir.Scan) else pl.LazyFrame(),
            lambda f: f.collect(),
        )
        return sorted(compiler.plan(plan).collect().rows(), key=str)

    assert run(lifted) == run(root)
    assert lifted.output == root.output


def test_int128_sums_cross_the_shuffle_as_two_longs_exactly() -> None:
    """Partial sums of decimals travel as (hi, lo) longs; the final merge gets the exact
    128-bit totals back, negative and beyond 64 bits included."""
    from spark_plugin import _compile, _worker

    dtype = "decimal(38,0)"
    values = [10**37, -(10**37) - 5, 2**64 + 3, -1, None, 7, -(2**70)]
    groups = [1, 1, 2, 2, 2, 3, 3]
    agg = _ir.Aggregate(
        _ir.Input((("_1", "long"), ("_2", dtype))),
        (("_1", _ir.Col("_1", "long")),),
        (("_s", _ir.AggCall("sum", (_ir.Col("_2", dtype),), dtype)),),
    )
    fields = _execute._partial_fields(agg)
    # "a": the sum of |x| that proves no partial sum of a decimal(38, s) buffer overflows.
    assert dict(dict(fields)["_s"]) == {"s_hi": "long", "s_lo": "long", "c": "long", "a": "double"}
    partials = []
    for part in (slice(0, 4), slice(4, None)):  # two splits, group 2 in both
        frame = pl.LazyFrame(
            {"_1": groups[part], "_2": values[part]}, schema={"_1": pl.Int64, "_2": pl.Int128}
        )
        compiler = _compile.Compiler(_ir.Settings(), lambda node, f=frame: f, lambda f: f.collect())
        partial = compiler.aggregate(agg, frame, "partial").collect()
        stage = _worker.Stage(
            _ir.Settings(), "cpu", output_fields=fields, output_columns=tuple(n for n, _ in fields)
        )
        partials.append(_worker.to_arrow(partial, stage))  # what Spark's shuffle carries
    shuffled = pl.from_arrow(pa.Table.from_batches(partials))
    assert isinstance(shuffled, pl.DataFrame)
    internal = _worker.to_internal(shuffled.lazy(), fields)
    compiler = _compile.Compiler(_ir.Settings(), lambda node: internal, lambda f: f.collect())
    final = compiler.aggregate(agg, internal, "final").collect()
    got = dict(final.rows())
    assert got == {1: -5, 2: 2**64 + 2, 3: 7 - 2**70}


def test_a_retried_task_counts_its_reruns_once() -> None:
    """Each report carries (stage of ours, partition, Spark stage, attempt): a task that Spark
    retried, or computed again in a later job, counts only its last attempt."""
    from spark_plugin._worker import distinct_reruns

    entries = [
        ("source", 0, 3, 0, "RuntimeError: no device"),  # attempt 0 failed after its rerun
        ("source", 0, 3, 1, "RuntimeError: no device"),  # the retry
        ("source", 1, 3, 0, "RuntimeError: no device"),
        ("map", 0, 4, 0, "RuntimeError: no device"),
        ("map", 0, 4, 0, "MemoryError: out of memory"),  # two queries of one task
        ("source", 1, 2, 0, "RuntimeError: no device"),  # a sort's sampling job, earlier
    ]
    assert distinct_reruns(entries) == [
        "RuntimeError: no device",
        "RuntimeError: no device",
        "RuntimeError: no device",
        "MemoryError: out of memory",
    ]
