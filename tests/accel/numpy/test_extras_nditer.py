"""``np.nditer`` over device arrays, accel's own modules under ``-p accel._numpy._pytest``, test helpers."""

from __future__ import annotations

from tests.accel.numpy.test_layer import run

ALL_DEVICE = {"ACCEL_MIN_GPU_ELEMENTS": "0"}


def test_accel_modules_stay_libraries_when_a_test_folder_is_user_code(run_python) -> None:
    # treat_as_user_code(numpy's tests) made every file outside site-packages "user code",
    # accel's own modules included: _extras.nditer then called itself through the namespace
    out = run(
        run_python,
        """
        import os
        from accel._numpy import _hook, _extras
        _hook.treat_as_user_code(os.path.dirname(real_np.__file__) + "/_core/tests")
        import importlib, accel._numpy._extras as extras
        importlib.reload(extras)
        it = extras.nditer([real_np.arange(3), real_np.arange(3)])
        print(json.dumps({"np_is_real": extras.np is real_np,
                          "accel_is_user": _hook.is_user_module(vars(extras)),
                          "values": [[int(x), int(y)] for x, y in it]}))
        """,
    )
    assert out == {"np_is_real": True, "accel_is_user": False, "values": [[0, 0], [1, 1], [2, 2]]}


def test_nditer_over_device_arrays_indexes_and_copies_each_array_once(run_python) -> None:
    out = run(
        run_python,
        """
        def said(numpy):
            a = numpy.arange(6.0).reshape(2, 3)
            it = numpy.nditer([a, a, numpy.arange(3.0)], ["buffered", "external_loop"],
                              [["readonly"]] * 3)
            return {"len": len(it), "first": real_np.asarray(it[0]).tolist(),
                    "ops": len(it.operands)}
        print(json.dumps([said(np), said(real_np), calls()["nditer (to host)"]["bytes_to_host"]]))
        """,
        env=ALL_DEVICE,
    )
    accel_said, numpy_said, copied = out
    assert accel_said == numpy_said
    assert copied == 6 * 8 + 3 * 8  # `a` named twice is copied once


def test_numpy_ma_testutils_gets_host_copies(run_python) -> None:
    # numpy.ma.testutils.assert_equal asks isinstance(x, real ndarray): a device array fell to
    # its scalar branch and `bool(array == array)` raised
    out = run(
        run_python,
        """
        from numpy.ma.testutils import assert_equal, assert_array_equal
        a = np.arange(6).reshape(2, 3)
        assert_equal(a, real_np.arange(6).reshape(2, 3))
        assert_array_equal(a, a)
        try:
            assert_equal(a, real_np.zeros((2, 3)))
            caught = None
        except AssertionError:
            caught = "AssertionError"
        print(json.dumps([type(a).__name__, caught]))
        """,
        env=ALL_DEVICE,
    )
    assert out == ["DeviceArray", "AssertionError"]
