"""Capture and decide: read the optimized plan of a DataFrame, translate it, say what runs where."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from spark_plugin import (
    _capture,
    _distribution,
    _evalmode,
    _execute,
    _ir,
    _relations,
    _reorder,
    _stages,
    _translate,
)

#: Confs whose non-default values change answers in ways we do not reproduce.
_REQUIRED_CONFS = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "true",
    "spark.sql.legacy.allowNegativeScaleOfDecimal": "false",
    # Files with no Spark version in them are read in this calendar (LEGACY rebases them).
    "spark.sql.parquet.datetimeRebaseModeInRead": "corrected",
}


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """What the plugin would do with one DataFrame. ``str()`` is the annotated plan.

    Markers, after spark-rapids' NOT_ON_GPU output: ``*`` will run offloaded, ``!`` cannot run
    offloaded (the reasons follow), ``@`` could run offloaded but the query as a whole stays on
    Spark because of another operator.
    """

    offloaded: bool
    reasons: tuple[str, ...]
    tree: _translate.ExplainNode | None
    engine: str
    stages: str = ""
    planning_ms: float = 0.0
    plan: _ir.Plan | None = field(default=None, repr=False, compare=False)
    stage_plan: _stages.StagePlan | None = field(default=None, repr=False, compare=False)
    settings: _ir.Settings = field(default_factory=_ir.Settings, repr=False, compare=False)
    #: Per Polars query of each stage, whether cudf-polars' translator takes it (and its reasons
    #: where not); empty when not checked (see ``gpu_check``).
    gpu_stages: tuple[Any, ...] = ()
    #: Why the stages were not offered to cudf-polars' translator ("" when they were).
    gpu_check: str = "not checked"
    #: Spark's physical plan, read when first asked for (``distribution``, ``str()``).
    physical: _capture.PhysicalPlan | None = field(default=None, repr=False, compare=False)
    #: The operators as they run offloaded, one per line, where their order is not Spark's
    #: (semi and anti joins moved above inner joins, see ``_reorder``); () where it is.
    runs_as: tuple[str, ...] = ()

    @property
    def distribution(self) -> _distribution.Distribution | None:
        """How Spark distributes the query (joins, aggregates, exchanges); None: not read."""
        return self.physical.distribution() if self.physical is not None else None

    def _annotated(self) -> _translate.ExplainNode | None:
        """The operator tree with Spark's distribution after each join, aggregate, sort, scan."""
        if self.physical is None or self.tree is None:
            return self.tree
        return self.physical.annotate(self.tree)

    def __str__(self) -> str:
        if self.offloaded:
            head = f"accel: the whole query is offloaded ({self.engine}); {self.stages}"
        else:
            head = "accel: the query runs on plain Spark (not offloaded)"
        lines = [head]
        if self.distribution is not None:
            lines.append(f"Spark's distribution: {self.distribution.describe()}")
        tree = self._annotated()
        if self.reasons and not self.offloaded:
            lines.append("reasons:")
            lines.extend(f"  - {r}" for r in self.reasons)
        if tree is not None:
            _render(tree, 0, self.offloaded, lines)
        if self.runs_as:
            lines.append("runs offloaded in this order (the plugin's join order, not Spark's):")
            lines.extend(f"  {line}" for line in self.runs_as)
        if self.offloaded and self.gpu_check:
            lines.append(f"GPU engine: {self.gpu_check}")
        elif self.offloaded:
            lines.append("GPU engine (cudf-polars' translator, per stage query):")
            lines.extend(f"  {'*' if c.accepted else '!'} {c}" for c in self.gpu_stages)
        lines.append(f"planning took {self.planning_ms:.1f} ms")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython shows the annotated plan, not the dataclass fields."""
        printer.text(str(self))

    def _repr_html_(self) -> str:
        """Jupyter: a table of the operators, each with its marker and reasons."""
        rows: list[str] = []
        tree = self._annotated()
        if tree is not None:
            _html_rows(tree, 0, self.offloaded, rows)
        head = html.escape(str(self).splitlines()[0])
        return (
            f"<p><b>{head}</b></p><table><tr><th></th><th>operator</th><th>why not</th></tr>"
            + "".join(rows)
            + f"</table><p>planning took {self.planning_ms:.1f} ms</p>"
        )


def _html_rows(node: _translate.ExplainNode, depth: int, offloaded: bool, rows: list[str]) -> None:
    marker = "!" if node.reasons else ("*" if offloaded else "@")
    why = "<br>".join(html.escape(r) for r in node.reasons)
    label = "&nbsp;" * (2 * depth) + html.escape(node.label)
    rows.append(f"<tr><td>{marker}</td><td style='text-align:left'>{label}</td><td>{why}</td></tr>")
    for child in node.children:
        _html_rows(child, depth + 1, offloaded, rows)


def _render(node: _translate.ExplainNode, depth: int, offloaded: bool, lines: list[str]) -> None:
    pad = "  " * depth
    if node.reasons:
        lines.append(f"{pad}! {node.label} cannot run offloaded because")
        lines.extend(f"{pad}    {reason}" for reason in node.reasons)
    elif offloaded:
        lines.append(f"{pad}* {node.label} will run offloaded")
    else:
        lines.append(f"{pad}@ {node.label} could run offloaded, but the query stays on Spark")
    for child in node.children:
        _render(child, depth + 1, offloaded, lines)


def _plan_lines(plan: _ir.Plan, depth: int = 0) -> list[str]:
    """Our IR plan as an indented tree of operator labels."""
    if isinstance(plan, _ir.Scan):
        label = f"Scan parquet {plan.table}"
    elif isinstance(plan, _ir.Join):
        label = f"Join {plan.how} on {len(plan.left_keys)} keys"
    elif isinstance(plan, _ir.Limit):
        label = f"Limit {plan.n}"
    else:
        label = type(plan).__name__
    lines = ["  " * depth + label]
    for child in _ir.children(plan):
        lines.extend(_plan_lines(child, depth + 1))
    return lines


def _all_reasons(node: _translate.ExplainNode) -> list[str]:
    out = [f"{node.label}: {r}" for r in node.reasons]
    for child in node.children:
        out.extend(_all_reasons(child))
    return out


def _check_file_schema(relation: _relations.Relation, columns: list[tuple[str, str]]) -> str:
    """The Parquet files must hold exactly the types Spark reads (no user schema casting)."""
    import pyarrow.parquet as pq

    from spark_plugin import _worker

    if not relation.files:
        return ""
    schema = pq.read_schema(relation.files[0])
    meta = schema.metadata or {}
    version = meta.get(b"org.apache.spark.version", b"3.0.0").decode()
    legacy = {b"org.apache.spark.legacyDateTime", b"org.apache.spark.legacyINT96"} & set(meta)
    if (legacy or version < "3.0.0") and any(t in ("date", "timestamp") for _, t in columns):
        # Spark rebases such files from the hybrid Julian calendar as it reads them.
        return f"{relation.files[0]} holds dates of Spark's legacy calendar; not offloaded"
    for name, dtype in columns:
        if name not in schema.names:
            return f"column {name} is not in {relation.files[0]} under that exact name"
        actual = schema.field(name).type
        wanted = _worker.arrow_type(dtype)
        if actual != wanted and not (dtype == "string" and str(actual) == "large_string"):
            return f"column {name} is {actual} in the file but Spark reads it as {dtype}"
    return ""


#: How Spark prints an expression in TRY mode: ``try_add(``, ``try_divide(``, ``try_cast(``,
#: ``try_sum(``, ... (an attribute prints as ``name#id``, so a column named ``country_code``
#: never matches).
_TRY_CALL = re.compile(r"(?<![\w#`$.])try(?:_[a-z_]+|eval)\(")
#: ``Like.toString`` names its escape character only when it is not the default backslash.
_LIKE_ESCAPE = re.compile(r" ESCAPE '.'", re.DOTALL)
#: JSON classes whose eval mode or escape character the JSON leaves out (written as null).
_MODE_FIELDS = ('"evalContext"', '"evalMode"', 'expressions.Like"')


def _lost_in_json(jplan: Any, json_text: str) -> list[str]:
    """Spark's ``toJSON`` writes the eval mode of arithmetic, casts and sums (ANSI / LEGACY /
    TRY) and LIKE's escape character as null. Each expression's own ``toString`` still shows
    them, so the operators' printed forms are read where such expressions occur (one py4j call,
    with no field limit: ``spark.sql.debug.maxToStringFields`` would cut projection lists)."""
    if not any(field in json_text for field in _MODE_FIELDS):
        return []
    printed = _printed(jplan)
    reasons = []
    if _TRY_CALL.search(printed):
        reasons.append(
            "try_* functions are not offloaded (their eval mode is not in the plan JSON)"
        )
    if 'expressions.Like"' in json_text and _LIKE_ESCAPE.search(printed):
        reasons.append("LIKE with an ESCAPE character is not offloaded (not in the plan JSON)")
    return reasons


def _with_eval_mode(
    settings: _ir.Settings, jplan: Any, nodes: list[dict[str, Any]], text: str, reasons: list[str]
) -> _ir.Settings:
    """``settings`` with the ANSI setting the plan's expressions were made under (Spark fixes it
    when it builds them, so a DataFrame made with ANSI on raises on overflow even when
    collected with it off); a plan made under both is refused."""
    if not _evalmode.has_modes(text):
        return settings
    try:
        modes = _evalmode.plan_modes(jplan, nodes)
    except _evalmode.Unreadable as exc:
        reasons.append(f"the eval mode of the plan's expressions could not be read ({exc})")
        return settings
    if "TRY" in modes:
        # ``try_add(x, y) AS z`` prints as ``(x + y) AS z``: the printed plan misses it.
        reasons.append("try_* functions are not offloaded (an expression's eval mode is TRY)")
        return settings
    if len(modes) > 1:
        reasons.append(
            "expressions made under both spark.sql.ansi.enabled settings are not offloaded"
        )
        return settings
    if not modes:
        return settings
    return dataclasses.replace(settings, ansi=modes.pop() == "ANSI")


def _printed(jplan: Any) -> str:
    """``jplan.treeString`` with no limit on fields (Spark 4.x has five parameters, 3.x four)."""
    from py4j.protocol import Py4JError

    try:
        return str(jplan.treeString(False, False, 2**31 - 1, False, False))
    except Py4JError:
        return str(jplan.treeString(False, False, 2**31 - 1, False))


def with_gpu_check(df: Any, report: ExplainReport) -> ExplainReport:
    """``report`` with each stage offered to cudf-polars' translator, when it is installed."""
    import dataclasses
    import importlib.util

    if not report.offloaded:
        return report
    if importlib.util.find_spec("cudf_polars") is None:
        return dataclasses.replace(report, gpu_check="not checked: cudf-polars is not installed")
    from spark_plugin import _gpu_check

    checks = _gpu_check.check_report(df, report)
    return dataclasses.replace(report, gpu_stages=checks, gpu_check="")


def decide(df: Any, engine: str = "polars-cpu") -> ExplainReport:
    """Translate ``df``'s optimized plan and decide; never raises for an unsupported query."""
    started = time.perf_counter()
    reasons: list[str] = []
    jdf = getattr(df, "_jdf", None)
    if jdf is None:
        return ExplainReport(
            False, ("Spark Connect DataFrames have no JVM plan to read",), None, engine
        )
    spark = df.sparkSession
    conf = spark.conf
    settings = _ir.Settings(
        ansi=conf.get("spark.sql.ansi.enabled", "true").lower() == "true",
        time_zone=conf.get("spark.sql.session.timeZone", "UTC"),
    )
    for key, wanted in _REQUIRED_CONFS.items():
        value = str(conf.get(key, wanted)).lower()
        if value != wanted:
            reasons.append(f"{key}={value} is not offloaded")
    if jdf.isStreaming():
        reasons.append("streaming queries are not offloaded")
    qe = jdf.queryExecution()
    optimized = qe.optimizedPlan()
    text = _capture.plan_json(spark, optimized)
    nodes = json.loads(text)
    reasons.extend(_lost_in_json(optimized, text))
    settings = _with_eval_mode(settings, optimized, nodes, text, reasons)
    relations = _relations.find_relations(optimized)
    translator = _translate.Translator(relations, settings, _check_file_schema)
    plan, tree = translator.translate(nodes)
    reasons.extend(_all_reasons(tree))
    physical = _capture.PhysicalPlan(spark, qe, nodes, relations)
    if plan is not None and not reasons and len(plan.output) != len(df.schema.fields):
        # The relation's columns of types we do not read reach the result unchanged.
        kinds = sorted({f.dataType.simpleString() for f in df.schema.fields})
        reasons.append(f"the result has columns of types not offloaded (among {', '.join(kinds)})")
    stage_plan = None
    runs_as: tuple[str, ...] = ()
    if plan is not None and not reasons:
        reordered = _reorder.float_semi_joins(plan)
        if reordered != plan:
            runs_as = tuple(_plan_lines(reordered))
        plan = reordered
        stage_plan = _execute.place(_stages.plan_stages(plan), spark)
    offloaded = plan is not None and not reasons
    elapsed = (time.perf_counter() - started) * 1000
    return ExplainReport(
        offloaded,
        tuple(dict.fromkeys(reasons)),  # once each: two operators may give the same reason
        tree,
        engine,
        stage_plan.describe() if stage_plan else "",
        elapsed,
        plan if offloaded else None,
        stage_plan,
        settings,
        physical=physical,
        runs_as=runs_as,
    )
