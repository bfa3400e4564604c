"""Placement: whether one NumPy call runs on the device or on NumPy, decided by its arguments' sizes.

A call runs on the device when one of its arguments already lives there, or when its largest
host array (or the array it creates) has at least ``min_gpu_elements`` elements
(``ACCEL_MIN_GPU_ELEMENTS``, default 100 000). Everything else runs on NumPy untouched; that is
placement policy, not a fallback, so it is not counted and strict mode allows it.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from accel._numpy import _transfer
from accel._numpy._array import DeviceArray
from accel._numpy._state import DEVICE_DTYPE_CHARS, STATE

DEVICE = -1  # scan's answer when device data is among the values


def scan(values: Any) -> int:
    """One pass over call arguments: DEVICE if a device array is among them, else the size of
    the largest host array the device could hold. Long lists are sampled at both ends so that
    ``np.array(big_list)`` stays O(1) here (it is placed after NumPy builds it)."""
    largest = 0
    for value in values:
        cls = type(value)
        if cls is np.ndarray:
            if value.size > largest and value.dtype.char in DEVICE_DTYPE_CHARS:
                largest = value.size
        elif cls is DeviceArray:
            return DEVICE
        elif (cls is list or cls is tuple) and value:
            inner = scan(value if len(value) <= 64 else (value[0], value[-1]))
            if inner == DEVICE:
                return DEVICE
            largest = max(largest, inner)
    return largest


def has_device(values: Any) -> bool:
    """Whether a device array is among ``values`` (or the lists and tuples in them)."""
    return scan(values) == DEVICE


def host_out(kwargs: dict[str, Any]) -> bool:
    """Whether the call writes into a host ``out=`` array (it then runs where that array is)."""
    out = kwargs.get("out")
    if out is None:
        return False
    outs = out if isinstance(out, tuple) else (out,)
    return any(isinstance(o, np.ndarray) for o in outs)


def wants_device(args: tuple[Any, ...], kwargs: dict[str, Any], created: int = 0) -> bool:
    """The placement policy: data already on the device stays there; otherwise a call goes
    to the device when its largest host array, or the array it creates, has at least
    ``min_gpu_elements`` elements and it does not write into a host ``out=`` array."""
    size = scan(args)
    if size == DEVICE:
        return True
    if kwargs:
        in_kwargs = scan(kwargs.values())
        if in_kwargs == DEVICE:
            return True
        if host_out(kwargs):
            return False
        size = max(size, in_kwargs)
    return STATE.active and max(size, created) >= STATE.min_elements


def place_result(result: Any, call: str) -> Any:
    """A new host array of device size, made by a host call, moves to the device (counted)."""
    if (
        type(result) is np.ndarray
        and result.size >= STATE.min_elements
        and STATE.active
        and result.base is None
        and result.dtype.char in DEVICE_DTYPE_CHARS
    ):
        start = time.perf_counter()
        moved = _transfer.Moved()
        try:
            fast = _transfer.move_to_device(result, moved)
        except _transfer.StaysOnHost:
            return result  # no room on the device: the host array is a correct answer
        moved.record(call, start)
        return DeviceArray(fast)
    return result
