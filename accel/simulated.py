"""accel's host stand-in for a device array library, public to the siblings' simulated bindings.

``ACCEL_DEVICE=simulated`` runs every GPU path on host memory that behaves like CuPy where it
matters (no implicit conversion to NumPy, explicit copies counted, what CuPy refuses refused).
vector's simulated cuVS binding computes on these arrays; accel's NumPy layer uses the same ones.
"""

from __future__ import annotations

from accel._numpy._simulated import SimArray, make_namespace

__all__ = ["SimArray", "make_namespace"]
