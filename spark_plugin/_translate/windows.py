"""Spark's Window operator → our ``Window``: partition and order keys, and the window functions.

What we compute exactly is offloaded (see ``_compile/windows.py`` for how); every other
function or frame adds a reason and the query stays on Spark.
"""

from __future__ import annotations

from spark_plugin import _ir, _types
from spark_plugin._ir import Expr, Lit, Plan, SortKey, WindowCall, WindowFrame
from spark_plugin._translate.aggregates import AggTranslator
from spark_plugin._translate.nodes import (
    Item,
    JsonNode,
    Unsupported,
    internal_name,
    object_name,
    short_class,
    tree,
)

#: Rows a frame with two finite ROWS bounds may span where it is summed row by row (floats,
#: min/max: no prefix difference gives Spark's answer there).
MAX_SLIDING_ROWS = 32

_RANKS = {"RowNumber": "row_number", "Rank": "rank", "DenseRank": "dense_rank"}
#: Window functions we leave to Spark, with what they are in SQL.
_NOT_OFFLOADED = {
    "NTile": "ntile",
    "PercentRank": "percent_rank",
    "CumeDist": "cume_dist",
    "First": "first/first_value",
    "Last": "last/last_value",
    "NthValue": "nth_value",
}


def window_node(tr: AggTranslator, node: JsonNode, child: Plan | None) -> Plan | None:
    """Our Window for Spark's ``node`` (None where ``child`` is None: only the reasons)."""
    if short_class(node) == "WindowGroupLimit":
        # Spark's early cut below a Window whose rank (row_number, dense_rank) a filter above
        # bounds: that Window and filter give the same rows without it.
        return child
    partition: list[Expr] = []
    for nodes in node.get("partitionSpec") or []:
        try:
            partition.append(tr.expr(tree(nodes)))
        except Unsupported:
            continue
    order: list[SortKey] = []
    for nodes in node.get("orderSpec") or []:
        sort_order, (key,) = tree(nodes)
        try:
            expr = tr.expr(key)
        except Unsupported:
            continue
        ascending = object_name(sort_order["direction"]) == "Ascending"
        nulls_first = object_name(sort_order["nullOrdering"]) == "NullsFirst"
        order.append(SortKey(expr, ascending, nulls_first))
    calls: list[tuple[str, WindowCall]] = []
    outputs: list[tuple[str, Expr]] = []
    for nodes in node["windowExpressions"]:
        name = internal_name(nodes[0])
        try:
            outputs.append((name, _output(tr, tree(nodes), name, calls, True)))
        except Unsupported:
            continue
    if child is None:
        return None
    window = _ir.Window(child, tuple(partition), tuple(order), tuple(calls))
    if all(isinstance(e, _ir.Col) and e.name == n for n, e in outputs):
        return window
    # Spark's DecimalAggregates computes decimal sums and averages over the unscaled values and
    # rescales above the window function (MakeDecimal, a division and a Cast): a projection.
    passed = tuple((n, _ir.Col(n, t)) for n, t in child.output)
    return _ir.Project(window, passed + tuple(outputs))


def _output(
    tr: AggTranslator, item: Item, name: str, calls: list[tuple[str, WindowCall]], top: bool
) -> Expr:
    """One window expression: its window functions added to ``calls``, the expression over them
    returned (a column of ``calls`` where it is a window function alone)."""
    node, kids = item
    kind = short_class(node)
    if kind == "Alias":
        return _output(tr, kids[0], name, calls, top)
    if kind == "WindowExpression":
        call = _window_call(tr, item)
        # The expression's own name where it is the window function alone (then no projection).
        call_name = name if top else f"{name}_w{len(calls)}"
        calls.append((call_name, call))
        return _ir.Col(call_name, call.dtype)
    if not _has_window(item):
        return tr.expr(item)
    return tr._rebuild(item, [_output(tr, kid, name, calls, False) for kid in kids])


def _has_window(item: Item) -> bool:
    node, kids = item
    return short_class(node) == "WindowExpression" or any(_has_window(k) for k in kids)


def _window_call(tr: AggTranslator, item: Item) -> WindowCall:
    _, (function, spec) = item
    frame = _frame(tr, spec[1][-1])
    func_node, func_kids = function
    name = short_class(func_node)
    if name in _RANKS:
        return WindowCall(_RANKS[name], "integer", frame)
    if name in ("Lag", "Lead"):
        return _offset_call(tr, name, func_node, func_kids, frame)
    if name == "AggregateExpression":
        inner = short_class(function[1][0][0])
        if inner in _NOT_OFFLOADED:
            raise tr.fail(f"window function {_NOT_OFFLOADED[inner]} is not offloaded")
        call = tr._agg_call(function)
        _check_agg_frame(tr, call, frame)
        return WindowCall("agg", call.dtype, frame, agg=call)
    what = _NOT_OFFLOADED.get(name, name)
    raise tr.fail(f"window function {what} is not offloaded")


def _bound(tr: AggTranslator, item: Item, kind: str) -> int | None:
    node, _ = item
    name = short_class(node)
    if name in ("UnboundedPreceding$", "UnboundedFollowing$"):
        return None
    if name == "CurrentRow$":
        return 0
    if kind == "range":
        raise tr.fail("RANGE window frame with a value offset is not offloaded")
    if name == "Literal" and node.get("dataType") == "integer" and node.get("value") is not None:
        return int(node["value"])
    raise tr.fail(f"window frame bound {name} is not offloaded")


def _frame(tr: AggTranslator, item: Item) -> WindowFrame:
    node, kids = item
    if short_class(node) != "SpecifiedWindowFrame":
        raise tr.fail(f"window frame {short_class(node)} is not offloaded")
    frame_type = object_name(node["frameType"])
    kind = {"RowFrame": "rows", "RangeFrame": "range"}.get(frame_type)
    if kind is None:
        raise tr.fail(f"window frame type {frame_type} is not offloaded")
    lower_item, upper_item = kids
    lower = _bound(tr, lower_item, kind)
    upper = _bound(tr, upper_item, kind)
    # Spark writes UNBOUNDED PRECEDING and UNBOUNDED FOLLOWING as distinct objects; a lower
    # None is always "preceding" and an upper None "following" (Spark rejects the others).
    if short_class(lower_item[0]) == "UnboundedFollowing$":
        raise tr.fail("window frame starting at UNBOUNDED FOLLOWING is not offloaded")
    if short_class(upper_item[0]) == "UnboundedPreceding$":
        raise tr.fail("window frame ending at UNBOUNDED PRECEDING is not offloaded")
    return WindowFrame(kind, lower, upper)


def _offset_call(
    tr: AggTranslator, name: str, node: JsonNode, kids: list[Item], frame: WindowFrame
) -> WindowCall:
    if node.get("ignoreNulls"):
        raise tr.fail(f"{name.lower()} IGNORE NULLS is not offloaded")
    # Spark's frame of an offset function is ROWS BETWEEN k AND k, k the signed offset.
    if frame.kind != "rows" or frame.lower is None or frame.lower != frame.upper:
        raise tr.fail(f"{name.lower()} with a non-literal offset is not offloaded")
    input_item, _, default_item = kids
    value = tr.expr(input_item)
    default: Expr | None = None
    default_node = default_item[0]
    if short_class(default_node) != "Literal" or default_node.get("value") is not None:
        default = tr.expr(default_item)  # NULL (Spark's own default) is typed void: not read
    if isinstance(default, Lit) and default.value is None:
        default = None
    elif default is not None and default.dtype != value.dtype:
        raise tr.fail(f"{name.lower()} default of type {default.dtype} is not offloaded")
    return WindowCall(
        "offset", value.dtype, frame, input=value, offset=frame.lower, default=default
    )


def _check_agg_frame(tr: AggTranslator, call: _ir.AggCall, frame: WindowFrame) -> None:
    """Refuse what ``_compile/windows.py`` cannot compute exactly over this frame."""
    if call.distinct:
        raise tr.fail(f"{call.func}(DISTINCT) over a window is not offloaded")
    whole = frame.lower is None and frame.upper is None
    peers = frame.kind == "range" and frame.lower == 0 and frame.upper == 0
    arg_type = call.args[0].dtype if call.args else ""
    if call.func in ("min", "max") and arg_type == "string" and not (whole or peers):
        raise tr.fail(f"{call.func} of string over a running or sliding frame is not offloaded")
    sliding = frame.kind == "rows" and frame.lower is not None and frame.upper is not None
    if not sliding:
        return
    assert frame.lower is not None
    assert frame.upper is not None
    # Sums of integers and decimals, and counts: exact differences of prefix sums.
    exact = call.func in ("count", "count_star") or (
        call.func in ("sum", "avg") and arg_type not in _types.FLOATING
    )
    if not exact and frame.upper - frame.lower + 1 > MAX_SLIDING_ROWS:
        raise tr.fail(
            f"{call.func} of {arg_type} over a ROWS frame of more than {MAX_SLIDING_ROWS} rows"
            " is not offloaded"
        )
