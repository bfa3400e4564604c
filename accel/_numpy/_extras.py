"""The parts of ``numpy.ndarray`` CuPy lacks or does differently, built on device calls:
``flags``, ``flat``, ``np.nditer`` over device arrays, bounds checks for integer-array indices
and for ``take``/``put``."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Iterator
from typing import Any

import numpy as np

from accel._numpy import _transfer
from accel._numpy._array import DeviceArray
from accel._numpy._state import STATE


class DeviceFlags:
    """``a.flags``: NumPy's flag names (CuPy's ``flags`` knows only contiguity and OWNDATA).

    Device memory is writeable; ``a.flags.writeable = False`` makes the proxy refuse writes as
    NumPy does. Alignment is read from the device pointer and strides.
    """

    __slots__ = ("_array",)

    def __init__(self, array: DeviceArray) -> None:
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

    @property
    def aligned(self) -> bool:
        # NumPy's rule: the data pointer and the strides of every axis longer than one are
        # multiples of the dtype's alignment (views made with as_strided may be unaligned)
        fast = self._array._fast
        alignment = np.dtype(fast.dtype).alignment
        if fast.size == 0 or alignment == 1:
            return True
        bits = int(fast.data.ptr)
        for extent, stride in zip(fast.shape, fast.strides, strict=True):
            if extent > 1:
                bits |= int(stride)
        return bits % alignment == 0

    writebackifcopy = property(lambda self: False)
    forc = property(lambda self: self.c_contiguous or self.f_contiguous)
    fnc = property(lambda self: self.f_contiguous and not self.c_contiguous)
    behaved = property(lambda self: self.aligned and self.writeable)
    carray = property(lambda self: self.c_contiguous and self.behaved)
    farray = property(lambda self: self.f_contiguous and not self.c_contiguous and self.behaved)

    def __getitem__(self, key: str) -> bool:
        return bool(getattr(self, _FLAG_KEYS.get(key, key.lower())))

    def __eq__(self, other: object) -> bool:
        # ``a.flags == b.flags`` as NumPy compares its flag objects: the same flags set
        if not isinstance(other, (DeviceFlags, _NUMPY_FLAGS)):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _COMPARED_FLAGS)

    __hash__ = None  # type: ignore[assignment]

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


_NUMPY_FLAGS = type(np.empty(0).flags)
_COMPARED_FLAGS: tuple[str, ...] = ("c_contiguous", "f_contiguous", "owndata", "writeable")
_COMPARED_FLAGS += ("aligned", "writebackifcopy")

# NumPy's one-letter and long flag names
_FLAG_KEYS = {"C": "c_contiguous", "CONTIGUOUS": "c_contiguous", "F": "f_contiguous"}
_FLAG_KEYS |= {"FORTRAN": "f_contiguous", "W": "writeable", "A": "aligned", "O": "owndata"}
_FLAG_KEYS |= {"X": "writebackifcopy"}


def check_writeable(array: Any) -> None:
    if isinstance(array, DeviceArray) and (
        array._readonly or (array._base is not None and array._base._readonly)
    ):
        raise ValueError("assignment destination is read-only")


class DeviceFlatIter:
    """``a.flat``: a 1-D view of the array in C order, for reading, writing and iterating."""

    __slots__ = ("_array", "index")

    def __init__(self, array: DeviceArray) -> None:
        self._array = array
        self.index = 0

    @property
    def base(self) -> DeviceArray:
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
        self._devices = [(i, a) for i, a in enumerate(operands) if isinstance(a, DeviceArray)]
        copies: dict[int, np.ndarray] = {}  # one host copy per device array, however often named
        for _, array in self._devices:
            if id(array) not in copies:
                copies[id(array)] = _transfer.to_host(array, "nditer (to host)")
        hosts = [copies[id(a)] if isinstance(a, DeviceArray) else a for a in operands]
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


class _NditerMeta(type):
    """``np.nditer(...)`` builds NumPy's iterator, or :class:`DeviceNditer` when a device array
    is among the operands; ``isinstance(it, np.nditer)`` holds for both."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, (np.nditer, DeviceNditer))

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, (np.nditer, DeviceNditer))

    def __call__(cls, op: Any, *args: Any, **kwargs: Any) -> Any:
        operands = op if isinstance(op, (list, tuple)) else [op]
        if any(isinstance(a, DeviceArray) for a in operands):
            return DeviceNditer(op, *args, **kwargs)
        return np.nditer(op, *args, **kwargs)


class nditer(metaclass=_NditerMeta):
    """``np.nditer`` as user code sees it: NumPy's own unless a device array is an operand."""

    __signature__ = inspect.signature(np.nditer)


nditer.__doc__ = np.nditer.__doc__
for _name, _method in vars(np.nditer).items():
    # NumPy's unbound methods (np.nditer.reset, ...), as on NumPy's class
    if callable(_method) and not _name.startswith("_"):
        setattr(nditer, _name, _method)


def _integer_index(value: Any) -> bool:
    if isinstance(value, (DeviceArray, np.ndarray)):
        return value.dtype.kind in "iu" and value.ndim > 0
    return isinstance(value, list) and bool(value)


def check_index_bounds(array: DeviceArray, key: Any) -> None:
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


# NumPy raises IndexError for out-of-bounds indices in these calls; CuPy's take has no mode
# and wraps, its put defaults to mode="wrap", and its *_along_axis use (wrapping) fancy
# indexing. call -> (position of the indices, of the axis, the axis default, of the mode)
_BOUNDED_CALLS: dict[str, tuple[int, int | None, int | None, int | None]] = {
    "take": (1, 2, None, 4),
    "ndarray.take": (1, 2, None, 4),
    "put": (1, None, None, 3),
    "ndarray.put": (1, None, None, 3),
    "take_along_axis": (1, 2, -1, None),
    "put_along_axis": (1, 3, None, None),
}
BOUNDS_REASON = "an index may be out of bounds: NumPy raises IndexError, the device wraps it"


def _argument(
    args: tuple[Any, ...], kwargs: dict[str, Any], at: int, name: str, default: Any
) -> Any:
    return args[at] if len(args) > at else kwargs.get(name, default)


def index_out_of_bounds(call: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``take``/``put``/``*_along_axis`` would get an index NumPy refuses (a device
    check: two reductions). A True sends the call to NumPy, which raises its own IndexError;
    indices it cannot read (floats, a bad axis) go there too, NumPy says what is wrong."""
    where = _BOUNDED_CALLS.get(call)
    if where is None or not args:
        return False
    index_at, axis_at, axis_default, mode_at = where
    if mode_at is not None and _argument(args, kwargs, mode_at, "mode", "raise") != "raise":
        return False
    indices = args[index_at] if len(args) > index_at else kwargs.get("indices", kwargs.get("ind"))
    axis = (
        axis_default if axis_at is None else _argument(args, kwargs, axis_at, "axis", axis_default)
    )
    shape = tuple(np.shape(args[0]))
    try:
        size = int(np.prod(shape)) if axis is None else shape[operator.index(axis)]
    except (TypeError, IndexError):
        return True
    if isinstance(indices, DeviceArray):
        fast, xp = indices._fast, STATE.xp
    else:
        fast, xp = np.asarray(indices), np
    if fast.dtype.kind not in "iu":
        return True
    if fast.size == 0:
        return False
    return int(xp.max(fast)) >= size or int(xp.min(fast)) < -size
