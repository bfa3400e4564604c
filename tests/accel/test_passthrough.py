"""Without a GPU, accel changes nothing: the workload's answers are bit-for-bit plain pandas'."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from accel._workload import STEPS


def _run(run_python, tmp_path: Path, accelerated: bool) -> dict:
    out = tmp_path / f"{accelerated}.pkl"
    args = ["-m", "accel._workload", "--rows", "30000", "--seed", "7", "--out", str(out)]
    proc = run_python("", *args, *(["--accelerated"] if accelerated else []))
    assert proc.returncode == 0, proc.stderr
    return pickle.loads(out.read_bytes())


def test_workload_identical_with_and_without_accel(run_python, tmp_path: Path) -> None:
    plain = _run(run_python, tmp_path, False)
    fast = _run(run_python, tmp_path, True)
    assert list(plain["results"]) == list(STEPS)
    assert fast["devices"] == {"pandas": "cpu (pandas)", "scikit-learn": "cpu (scikit-learn)"}
    for step in STEPS:
        left, right = plain["results"][step][1], fast["results"][step][1]
        assert left.keys() == right.keys(), step
        for column in left:
            a, b = np.asarray(left[column]), np.asarray(right[column])
            assert a.dtype == b.dtype, (step, column)
            # exact: joins, groupbys, strings, datetimes and the fit are the same code
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (step, column)
    # the workload really covered joins, groupbys, strings and datetimes
    assert set(plain["results"]["join"][1]) == {"region", "vip", "revenue", "orders"}
    assert set(plain["results"]["strings"][1]) == {"status", "has_nine", "n", "chars"}
    assert len(plain["results"]["datetime"][1]["month"]) == 12 * 7
