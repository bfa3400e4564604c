"""The one accel module that imports cuDF and cuML; imported only once a GPU was found."""

from __future__ import annotations

import os
import sys

import cudf.pandas
from cudf.pandas import fast_slow_proxy

from accel import _fastslow
from accel._report import Recorder


def enable_pandas(rmm_mode: str, strict: bool, recorder: Recorder) -> None:
    """Turn on cudf.pandas with a pooled (not oversubscribed managed) memory resource."""
    # cudf.pandas defaults to managed memory where the card supports it; a pool stays inside
    # the card's memory, and the user's own CUDF_PANDAS_RMM_MODE still wins.
    os.environ.setdefault("CUDF_PANDAS_RMM_MODE", rmm_mode)
    if strict:
        os.environ["CUDF_PANDAS_FAIL_ON_FALLBACK"] = "True"
    cudf.pandas.install()
    _fastslow.instrument(fast_slow_proxy, recorder)


def disable_pandas() -> None:
    """Stop counting and remove cudf.pandas' import hook so later imports get plain pandas.

    Objects created while it was on stay proxies; cudf.pandas itself has no uninstall.
    """
    _fastslow.uninstrument(fast_slow_proxy)
    from cudf.pandas.module_accelerator import ModuleAccelerator

    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, ModuleAccelerator)]
    for name in [m for m in sys.modules if m == "pandas" or m.startswith("pandas.")]:
        if type(sys.modules[name]).__module__.startswith("cudf."):
            del sys.modules[name]


def enable_sklearn() -> None:
    """Route scikit-learn estimators through cuml.accel."""
    import cuml.accel

    cuml.accel.install()
