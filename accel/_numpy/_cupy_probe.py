"""Derive from the installed CuPy what it has and what it refuses (no GPU needed).

``python -m accel._numpy._cupy_probe`` prints the table committed in ``_cupy_table.py``; a
``rapids``-marked test compares the two, so the stand-in drifts from CuPy only with a failing
test. How refusals are found without a device: CuPy arrays are made over unowned (bogus)
memory, which needs no driver. A call that gets as far as the device fails with a CUDA error
(the call was accepted); a call CuPy refuses raises TypeError, AttributeError or
NotImplementedError before that. A refusal that CuPy only makes after touching the device
cannot be seen here.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

# Functions whose probing has side effects (files, printing) or blocks; never called here.
_NOT_PROBED = frozenset(
    {"fromfile", "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt"}
    | {"show_config", "disp", "fromiter", "get_array_module", "asnumpy", "get_default_memory_pool"}
    | {"get_default_pinned_memory_pool", "is_available", "fuse", "memoize", "clear_memo"}
)
UFUNC_METHODS = ("reduce", "accumulate", "reduceat", "outer", "at")


def _fake(cupy: Any, shape: tuple[int, ...] = (3,), dtype: Any = np.float64) -> Any:
    """A CuPy array over memory that is never touched (making it needs no driver)."""
    nbytes = max(int(np.prod(shape)) * np.dtype(dtype).itemsize, 8)
    memory = cupy.cuda.UnownedMemory(8, nbytes, None, device_id=0)
    return cupy.ndarray(shape, dtype=dtype, memptr=cupy.cuda.MemoryPointer(memory, 0))


def _outcome(cupy: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """'accepted' (ran, or reached the device), 'refused', or 'other' (some other error)."""
    device_errors = (cupy.cuda.runtime.CUDARuntimeError, cupy.cuda.driver.CUDADriverError)
    try:
        func(*args)
    except device_errors:
        return "accepted"
    except (TypeError, AttributeError, NotImplementedError):
        return "refused"
    except Exception:  # noqa: BLE001 - a probe: any other answer is "not a clean refusal"
        return "other"
    return "accepted"


def _public_callables(module: types.ModuleType) -> list[str]:
    return sorted(
        name
        for name in dir(module)
        if not name.startswith("_") and callable(getattr(module, name, None))
    )


def probe() -> dict[str, Any]:
    """The table: CuPy's function names, ufunc methods it refuses, list arguments it refuses."""
    import cupy

    namespaces = {
        "": cupy,
        "linalg": cupy.linalg,
        "fft": cupy.fft,
        "random": cupy.random,
        "lib.stride_tricks": cupy.lib.stride_tricks,
    }
    names = {key: frozenset(_public_callables(module)) for key, module in namespaces.items()}
    ufunc_type = type(cupy.add)
    refused_methods: dict[str, frozenset[str]] = {}
    a, index = _fake(cupy), _fake(cupy, (2,), np.int64)
    for name in sorted(names[""]):
        ufunc = getattr(cupy, name)
        if not isinstance(ufunc, ufunc_type) or ufunc.nin not in (1, 2):
            continue
        calls = {
            "reduce": lambda u=ufunc: u.reduce(a),
            "accumulate": lambda u=ufunc: u.accumulate(a),
            "reduceat": lambda u=ufunc: u.reduceat(a, index),
            "outer": lambda u=ufunc: u.outer(a, a),
            "at": lambda u=ufunc: u.at(a, index) if u.nin == 1 else u.at(a, index, a[:2]),
        }
        refused = frozenset(
            method
            for method, call in calls.items()
            if ufunc.nin == 2 or method == "at"
            if _method_refused(cupy, call)
        )
        if ufunc.nin == 1:
            # NumPy has no reduce/accumulate/reduceat/outer on unary ufuncs either
            refused = refused & {"at"}
        if refused:
            refused_methods[name] = refused
    return {
        "names": names,
        "ufunc_methods_refused": refused_methods,
        "list_refused": _list_refusals(cupy, names[""]),
        "generator_methods": frozenset(
            name for name in dir(cupy.random.Generator) if not name.startswith("_")
        ),
    }


def _method_refused(cupy: Any, call: Callable[[], Any]) -> bool:
    try:
        call()
    except NotImplementedError:
        return True
    except (cupy.cuda.runtime.CUDARuntimeError, cupy.cuda.driver.CUDADriverError):
        return False
    except Exception:  # noqa: BLE001 - dtype or argument errors: not "unsupported method"
        return False
    return False


def _list_refusals(cupy: Any, names: frozenset[str]) -> dict[str, tuple[int, ...]]:
    """Function -> argument positions (0, 1) where CuPy takes an array but refuses a list."""
    found: dict[str, tuple[int, ...]] = {}
    one, two, listed = _fake(cupy), _fake(cupy), [1.0, 2.0, 3.0]
    for name in sorted(names - _NOT_PROBED):
        func = getattr(cupy, name)
        if isinstance(func, (type, type(cupy.add))):
            continue  # classes; ufuncs take lists or scalars through one common path
        positions = []
        for position, (array_args, list_args) in enumerate(
            (((one,), (listed,)), ((one, two), (one, listed)))
        ):
            if _outcome(cupy, func, array_args) == "accepted" and (
                _outcome(cupy, func, list_args) == "refused"
            ):
                positions.append(position)
        if positions:
            found[name] = tuple(positions)
    return found


def _literal(value: Any) -> str:
    """Python source for the table, sorted so that a regenerated file diffs cleanly."""
    if isinstance(value, frozenset):
        return "frozenset({" + ", ".join(repr(v) for v in sorted(value)) + "})"
    if isinstance(value, dict):
        rows = "".join(f"    {k!r}: {_literal(v)},\n" for k, v in sorted(value.items()))
        return "{\n" + rows + "}"
    return repr(value)


def main() -> None:
    print(
        '"""What the installed CuPy has and refuses (generated: `python -m accel._numpy._cupy_probe`;'
    )
    print('a rapids-marked test checks it against the installed CuPy)."""')
    print()
    print("# fmt: off")
    for key, value in probe().items():
        print(f"{key.upper()} = {_literal(value)}")
    print("# fmt: on")


if __name__ == "__main__":
    main()
