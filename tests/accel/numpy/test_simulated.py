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
    assert xp.add.reduceat(a, xp.asarray(np.array([0, 2]))).get().tolist() == [1, 5]
    # CuPy refuses the reductions of most ufuncs other than add/multiply
    for method in ("reduce", "accumulate"):
        with pytest.raises(NotImplementedError, match=f"cupy_maximum.{method}"):
            getattr(xp.maximum, method)(a)


def test_refuses_lists_where_cupy_does(xp) -> None:
    a = xp.asarray(np.arange(10))
    with pytest.raises(TypeError, match="Unsupported type"):
        xp.searchsorted(a, [2, 7])
    with pytest.raises(TypeError, match="Unsupported type"):
        xp.isin(a, [3, 9])
    assert xp.stack([a, a]).shape == (2, 10)  # a list of device arrays is what stack takes


def test_has_only_cupys_names(xp) -> None:
    assert callable(xp.searchsorted)
    for missing in ("emath", "nditer", "insert", "nanpercentile"):
        with pytest.raises(AttributeError, match="has no attribute"):
            getattr(xp, missing)


def test_answers_in_cupys_types(xp) -> None:
    a = xp.asarray(np.eye(3))
    eigh = xp.linalg.eigh(a)
    assert type(eigh) is tuple  # CuPy's linalg gives plain tuples
    assert not hasattr(eigh, "eigenvalues")
    for result in (xp.allclose(a, a), xp.array_equal(a, a)):
        assert isinstance(result, _simulated.SimArray)
        assert result.ndim == 0
    assert not hasattr(a.flags, "writeable")
    assert a.flags.c_contiguous
    assert a.flags["OWNDATA"]


def test_errstate_and_out_of_bounds_indices_like_cupy(xp) -> None:
    a = xp.asarray(np.arange(5.0))
    with np.errstate(all="raise"):
        assert float((a / xp.asarray(np.zeros(5)))[1]) == np.inf  # CuPy reports nothing
    assert a[xp.asarray(np.array([1, 6]))].get().tolist() == [1.0, 1.0]  # 6 wraps to 1


def test_shape_can_be_set_in_place(xp) -> None:
    a = xp.asarray(np.arange(60))
    a.shape = (3, 4, 5)
    assert a.shape == (3, 4, 5)
    assert a[2, 3, 4].get() == 59


def test_default_rng_gives_device_arrays(xp) -> None:
    draws = xp.random.default_rng(0).random(4)
    assert isinstance(draws, _simulated.SimArray)
    assert not hasattr(xp.random.default_rng(0), "shuffle")  # CuPy's Generator has none
