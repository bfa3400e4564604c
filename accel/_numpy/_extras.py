"""The parts of ``numpy.ndarray`` CuPy lacks or does differently, built on device calls:
``flags``, ``flat``, ``np.nditer`` over device arrays, bounds checks for integer-array indices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from accel._numpy import _core


class DeviceFlags:
    """``a.flags``: NumPy's flag names (CuPy's ``flags`` knows only contiguity and OWNDATA).

    Device memory is always aligned and writeable; ``a.flags.writeable = False`` makes the
    proxy refuse writes as NumPy does.
    """

    __slots__ = ("_array",)

    def __init__(self, array: _core.DeviceArray) -> None:
        self._array = array

    @property
    def c_contiguous(self) -> bool:
        return bool(self._array._fast.flags.c_contiguous)

    @property
    def f_contiguous(self) -> bool:
        return bool(self._array._fast.flags.f_contiguous)

    @property
    def owndata(self) -> bool:
        return self._array._base is None

    @property
    def writeable(self) -> bool:
        return not self._array._readonly

    @writeable.setter
    def writeable(self, value: bool) -> None:
        base = self._array._base
        if value and base is not None and base._readonly:
            raise ValueError("cannot set WRITEABLE flag to True of this array")
        self._array._readonly = not value

    aligned = property(lambda self: True)
    writebackifcopy = property(lambda self: False)
    forc = property(lambda self: self.c_contiguous or self.f_contiguous)
    fnc = property(lambda self: self.f_contiguous and not self.c_contiguous)
    behaved = property(lambda self: self.writeable)
    carray = property(lambda self: self.c_contiguous and self.writeable)
    farray = property(lambda self: self.f_contiguous and not self.c_contiguous and self.writeable)

    def __getitem__(self, key: str) -> bool:
        return bool(getattr(self, _FLAG_KEYS.get(key, key.lower())))

    def __setitem__(self, key: str, value: bool) -> None:
        if _FLAG_KEYS.get(key, key.lower()) != "writeable":
            raise KeyError(f"Unknown flag {key}")
        self.writeable = value

    def __repr__(self) -> str:
        names = (
            "c_contiguous",
            "f_contiguous",
            "owndata",
            "writeable",
            "aligned",
            "writebackifcopy",
        )
        return "\n".join(f"  {n.upper()} : {getattr(self, n)}" for n in names)


# NumPy's one-letter and long flag names
_FLAG_KEYS = {"C": "c_contiguous", "CONTIGUOUS": "c_contiguous", "F": "f_contiguous"}
_FLAG_KEYS |= {"FORTRAN": "f_contiguous", "W": "writeable", "A": "aligned", "O": "owndata"}
_FLAG_KEYS |= {"X": "writebackifcopy"}


def check_writeable(array: Any) -> None:
    if isinstance(array, _core.DeviceArray) and (
        array._readonly or (array._base is not None and array._base._readonly)
    ):
        raise ValueError("assignment destination is read-only")


class DeviceFlatIter:
    """``a.flat``: a 1-D view of the array in C order, for reading, writing and iterating."""

    __slots__ = ("_array", "index")

    def __init__(self, array: _core.DeviceArray) -> None:
        self._array = array
        self.index = 0

    @property
    def base(self) -> _core.DeviceArray:
        return self._array

    def __len__(self) -> int:
        return self._array.size

    def _flat(self) -> Any:
        return self._array.reshape(-1)

    def __getitem__(self, key: Any) -> Any:
        return self._flat()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        array = self._array
        if array.flags.c_contiguous:
            array.reshape(-1)[key] = value  # a view: writes land in the array
            return
        flat = array.ravel()  # a copy for other layouts: write it back whole
        flat[key] = value
        array[...] = flat.reshape(array.shape)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._flat())

    def copy(self) -> Any:
        return self._flat().copy()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._flat(), dtype=dtype)


class DeviceNditer:
    """``np.nditer`` over device arrays: NumPy iterates host copies (counted), and what it
    wrote goes back to the device arrays when iteration ends, on ``close()`` or on ``with``."""

    def __init__(self, op: Any, *args: Any, **kwargs: Any) -> None:
        operands = list(op) if isinstance(op, (list, tuple)) else [op]
        if len(operands) > np.iinfo(np.intc).max:
            # NumPy refuses these before touching an operand; copying them first would not fit
            raise ValueError("Too many operands to nditer")
        self._devices = [(i, a) for i, a in enumerate(operands) if isinstance(a, _core.DeviceArray)]
        copies: dict[int, np.ndarray] = {}  # one host copy per device array, however often named
        for _, array in self._devices:
            if id(array) not in copies:
                copies[id(array)] = _core.to_host(array, "nditer (to host)")
        hosts = [copies[id(a)] if isinstance(a, _core.DeviceArray) else a for a in operands]
        self._iter = np.nditer(
            hosts if isinstance(op, (list, tuple)) else hosts[0], *args, **kwargs
        )
        self._closed = False

    def _write_back(self) -> None:
        if self._closed:
            return
        self._closed = True
        operands = self._iter.operands
        for index, array in self._devices:
            check = operands[index]
            if check.flags.writeable and check.shape == array.shape:
                array[...] = check  # unchanged data is written too: one counted copy per array

    def __iter__(self) -> DeviceNditer:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._iter)
        except StopIteration:
            self._write_back()
            raise

    def __enter__(self) -> DeviceNditer:
        self._iter.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._write_back()
        self._iter.__exit__(*exc)

    def close(self) -> None:
        self._write_back()
        self._iter.close()

    def __len__(self) -> int:
        return len(self._iter)

    def __getitem__(self, key: Any) -> Any:
        return self._iter[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._iter[key] = value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iter, name)


def nditer(op: Any, *args: Any, **kwargs: Any) -> Any:
    """``np.nditer`` for user code: NumPy's own unless a device array is among the operands."""
    operands = op if isinstance(op, (list, tuple)) else [op]
    if any(isinstance(a, _core.DeviceArray) for a in operands):
        return DeviceNditer(op, *args, **kwargs)
    return np.nditer(op, *args, **kwargs)


def _integer_index(value: Any) -> bool:
    if isinstance(value, (_core.DeviceArray, np.ndarray)):
        return value.dtype.kind in "iu" and value.ndim > 0
    return isinstance(value, list) and bool(value)


def check_index_bounds(array: _core.DeviceArray, key: Any) -> None:
    """Raise NumPy's IndexError for out-of-bounds integer-array indices: CuPy wraps them
    around. Costs one small device reduction per integer-array index."""
    items = key if isinstance(key, tuple) else (key,)
    if not any(_integer_index(k) for k in items):
        return
    consumed = 0
    for item in items:
        if item is None or item is Ellipsis:
            continue
        kind = getattr(item, "dtype", None)
        consumed += item.ndim if kind is not None and kind.kind == "b" else 1
    shape, dim = array.shape, 0
    for item in items:
        if item is Ellipsis:
            dim += len(shape) - consumed
            continue
        if item is None:
            continue
        kind = getattr(item, "dtype", None)
        if kind is not None and kind.kind == "b":
            dim += item.ndim
            continue
        if _integer_index(item) and dim < len(shape):
            index = item if not isinstance(item, list) else np.asarray(item)
            if index.dtype.kind in "iu" and index.size:
                low, high = int(index.min()), int(index.max())
                size = shape[dim]
                for bad in (high, low):
                    if bad >= size or bad < -size:
                        raise IndexError(
                            f"index {bad} is out of bounds for axis {dim} with size {size}"
                        )
        dim += 1
