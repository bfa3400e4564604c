"""accel: unchanged pandas, NumPy and scikit-learn code on the GPU, and a free pass-through without one.

``import accel`` imports no GPU library and costs a few milliseconds; the work starts at
:func:`install` (or ``import accel.auto``, ``python -m accel script.py``, ``%load_ext accel``,
``pytest -p accel``).
"""

from __future__ import annotations

from accel._device import Device, GPUUnavailableError, Resolution, resolve

__all__ = [
    "Device",
    "GPUUnavailableError",
    "Resolution",
    "resolve",
]

__version__ = "0.1.0"
