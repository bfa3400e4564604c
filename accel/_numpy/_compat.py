"""Where CuPy's answer or argument rules differ from NumPy's, and what accel does about it.

Each table says what differs in one line; ``_cupy_table`` (derived from CuPy) says what CuPy
refuses, this module turns NumPy-style calls into ones CuPy takes and CuPy's results into
NumPy's types.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accel._numpy import _cupy_table

# Arguments that are sequences *of arrays* (or dtypes), not one array: a list there is not
# converted to one array, so CuPy's refusal stands and the call falls back (counted).
_SEQUENCE_ARGUMENTS = frozenset(
    {"stack", "concatenate", "concat", "meshgrid", "choose", "result_type", "common_type"}
    | {"can_cast", "promote_types", "issubdtype", "issubsctype", "base_repr", "size"}
    | {"format_float_positional", "format_float_scientific", "histogramdd", "lexsort"}
)
# NumPy returns Python bools here; CuPy returns 0-d device arrays (cupy/_logic/comparison.py).
PYTHON_BOOL_CALLS = frozenset({"allclose", "array_equal", "array_equiv"})
# NumPy's named results; CuPy's linalg gives plain tuples (result type names in numpy.linalg).
_NAMED_RESULTS = {
    "linalg.eig": "EigResult",
    "linalg.eigh": "EighResult",
    "linalg.svd": "SVDResult",
    "linalg.qr": "QRResult",
    "linalg.slogdet": "SlogdetResult",
}
# NumPy functions that write into one of their arguments: call -> argument position.
MUTATING_FUNCTIONS = {
    "copyto": (0, "dst"),
    "put": (0, "a"),
    "place": (0, "arr"),
    "putmask": (0, "a"),
    "fill_diagonal": (0, "a"),
    "put_along_axis": (0, "arr"),
    "random.shuffle": (0, "x"),
}
# ufunc.reduce CuPy refuses but computes under another name (same NaN rules, same dtype).
REDUCE_EQUIVALENTS = {"maximum": "max", "minimum": "min", "logical_and": "all", "logical_or": "any"}


def _plain_numbers(value: Any) -> bool:
    """A (nested) list or tuple of Python numbers: what ``np.asarray`` makes one array of."""
    if isinstance(value, (list, tuple)):
        return all(_plain_numbers(v) for v in value)
    return isinstance(value, (bool, int, float, complex, np.generic))


def lists_to_arrays(call: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``searchsorted(x, [2, 7])``: lists where CuPy wants an array become host arrays (moved
    to the device by the caller, counted), as NumPy's ``array_like`` reads them."""
    positions = _cupy_table.LIST_REFUSED.get(call)
    if not positions or call in _SEQUENCE_ARGUMENTS:
        return args
    converted = list(args)
    for position in positions:
        value = args[position] if position < len(args) else None
        if isinstance(value, (list, tuple)) and value and _plain_numbers(value):
            converted[position] = np.asarray(args[position])
    return tuple(converted)


def numpy_result(call: str, result: Any) -> Any:
    """CuPy's result in the type NumPy gives for ``call``."""
    if call in PYTHON_BOOL_CALLS and not isinstance(result, bool):
        return bool(result)
    name = _NAMED_RESULTS.get(call)
    if name is not None and type(result) is tuple:
        named = getattr(np.linalg, name, None) or getattr(np.linalg._linalg, name)
        if len(result) == len(named._fields):
            return named(*result)
    return result


def mutated_argument(call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The argument ``call`` writes into (None for calls that write nothing)."""
    where = MUTATING_FUNCTIONS.get(call)
    if where is None:
        return None
    position, keyword = where
    return args[position] if position < len(args) else kwargs.get(keyword)


def floating_errors_asked_for() -> bool:
    """``np.errstate(...='raise'|'call'|'log')`` is on: the device reports no such errors."""
    return any(mode in ("raise", "call", "log") for mode in np.geterr().values())
