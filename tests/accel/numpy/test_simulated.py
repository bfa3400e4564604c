"""The host stand-in keeps CuPy's contract where accel's proxy layer relies on it."""

from __future__ import annotations

import numpy as np
import pytest

from accel._numpy import _simulated


@pytest.fixture
def xp():
    return _simulated.make_namespace()


def test_no_implicit_conversion_to_numpy(xp) -> None:
    a = xp.asarray(np.arange(5))
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    assert np.array_equal(a.get(), np.arange(5))


def test_device_functions_refuse_host_arrays(xp) -> None:
    with pytest.raises(TypeError, match="Unsupported type"):
        xp.add(xp.asarray(np.ones(3)), np.ones(3))


def test_zero_d_arrays_where_cupy_returns_them(xp) -> None:
    a = xp.asarray(np.arange(6.0))
    for value in (a.sum(), a[2], xp.sqrt(xp.asarray(np.float64(4.0))), xp.max(a)):
        assert isinstance(value, _simulated.SimArray)
        assert value.ndim == 0
    assert float(a.sum()) == 15.0


def test_views_share_device_memory(xp) -> None:
    a = xp.asarray(np.arange(6.0))
    view = a[1:3]
    view[...] = -1
    assert a.get().tolist() == [0, -1, -1, 3, 4, 5]
    assert view.base is not None
    assert a.base is None


@pytest.mark.parametrize("dtype", [object, "U3", "S3", "datetime64[D]"])
def test_unsupported_dtypes_are_refused(xp, dtype) -> None:
    with pytest.raises(TypeError, match="Unsupported dtype"):
        xp.asarray(np.zeros(3, dtype=dtype))


def test_out_of_memory_is_a_memory_error(xp) -> None:
    _simulated.set_capacity(100)
    try:
        with pytest.raises(MemoryError, match="Out of memory"):
            xp.zeros(1000)
        assert xp.zeros(10).size == 10
    finally:
        _simulated.set_capacity(None)


def test_random_is_its_own_stream(xp) -> None:
    xp.random.seed(0)
    draws = xp.random.rand(5).get()
    np_draws = np.random.RandomState(0).rand(5)
    assert draws.shape == (5,)
    assert not np.array_equal(draws, np_draws)
    xp.random.seed(0)
    assert np.array_equal(xp.random.rand(5).get(), draws)


def test_ufunc_methods_like_cupy(xp) -> None:
    a = xp.asarray(np.arange(4))
    assert xp.add.reduce(a).get() == 6
    assert xp.multiply.outer(a, a).shape == (4, 4)
    assert not hasattr(xp.add, "reduceat")
