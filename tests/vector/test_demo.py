"""vector's steps for ``python -m accel demo`` run, agree with faiss-cpu, and name their device."""

from __future__ import annotations

import warnings

from vector._demo import demo_steps


def test_demo_steps_agree_with_faiss():
    steps = demo_steps(scale=0.02)
    assert len(steps) == 3
    for step in steps:
        plain, ours = step.plain(), step.accelerated()
        assert step.same(plain, ours), step.name
        assert step.device().split(":")[0] in ("cpu (faiss-cpu)", "gpu (cuVS)")
        assert len(step.name) <= 40, "the demo table fits 100 columns"


def test_small_demo_sizes_train_without_faiss_warnings(capfd):
    # faiss prints "WARNING clustering N points to K centroids" itself (C++, not Python warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (ivf,) = [s for s in demo_steps(scale=0.02) if s.name.startswith("IVF")]
        ivf.plain()
        ivf.accelerated()
    assert "WARNING" not in capfd.readouterr().err
