"""The stand-in's picture of CuPy (``_cupy_table``) is what the installed CuPy really does."""

from __future__ import annotations

import pytest

from accel._numpy import _cupy_table


@pytest.mark.rapids
def test_committed_table_matches_installed_cupy() -> None:
    pytest.importorskip("cupy")
    from accel._numpy import _cupy_probe

    derived = _cupy_probe.probe()
    # regenerate with: .venv-rapids/bin/python -m accel._numpy._cupy_probe > accel/_numpy/_cupy_table.py
    assert derived["names"] == _cupy_table.NAMES
    assert derived["ufunc_methods_refused"] == _cupy_table.UFUNC_METHODS_REFUSED
    assert derived["list_refused"] == _cupy_table.LIST_REFUSED
    assert derived["generator_methods"] == _cupy_table.GENERATOR_METHODS
