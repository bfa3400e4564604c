"""vector's steps for ``python -m accel demo`` run, agree with faiss-cpu, and name their device."""

from __future__ import annotations

from vector._demo import demo_steps


def test_demo_steps_agree_with_faiss():
    steps = demo_steps(scale=0.02)
    assert len(steps) == 3
    for step in steps:
        plain, ours = step.plain(), step.accelerated()
        assert step.same(plain, ours), step.name
        assert step.device().split(":")[0] in ("cpu", "gpu")
