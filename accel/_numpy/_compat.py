"""Where CuPy's answer or argument rules differ from NumPy's, and what accel does about it.

Each table says what differs in one line; ``_cupy_table`` (derived from CuPy) says what CuPy
refuses, this module turns NumPy-style calls into ones CuPy takes and CuPy's results into
NumPy's types.
"""

from __future__ import annotations

import functools
import inspect
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
# Functions whose result is a view of their first argument wherever NumPy's is (so ``.base``
# names that array, and flags.owndata is False); a copy from the backend keeps no owner.
VIEW_FUNCTIONS = frozenset(
    {"reshape", "ravel", "squeeze", "transpose", "swapaxes", "moveaxis", "rollaxis"}
    | {"expand_dims", "diagonal", "broadcast_to", "real", "imag", "flip", "fliplr", "flipud"}
    | {"atleast_1d", "atleast_2d", "atleast_3d", "matrix_transpose", "permute_dims"}
)


def view_owner(call: str, args: tuple[Any, ...]) -> Any:
    """The array ``call``'s result may be a view of (None where it makes new arrays)."""
    return args[0] if call in VIEW_FUNCTIONS and args else None


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


# a.choose(c0, c1, c2): the C method takes the choices as varargs, whatever its signature says
_VARARGS_IN_C = frozenset({np.ndarray.choose})


@functools.lru_cache(maxsize=1024)
def _names_from_out(func: Any) -> tuple[int, tuple[str, ...]] | None:
    """Where ``func`` takes ``out``, and the names of the parameters from there on (None if it
    has no ``out`` that may be passed by keyword, or no signature to read)."""
    if func in _VARARGS_IN_C:
        return None
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    names = [p.name for p in parameters]
    if "out" not in names:
        return None
    position = names.index("out")
    after = parameters[position:]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters) or any(
        p.kind is p.POSITIONAL_ONLY for p in after
    ):
        return None  # einsum(*operands, out=None): out is never given by position
    return position, tuple(p.name for p in after if p.kind is not p.VAR_KEYWORD)


def out_by_keyword(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``np.outer(a, b, out)``: an ``out`` given by position is given by keyword (and so are the
    arguments after it), so that placement sees it: into a host array, NumPy writes."""
    try:
        where = _names_from_out(func)
    except TypeError:  # an unhashable callable
        return args, kwargs
    if where is None or len(args) <= where[0]:
        return args, kwargs
    position, names = where
    return args[:position], {**kwargs, **dict(zip(names, args[position:], strict=False))}
