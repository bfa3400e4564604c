"""GPU tier: scikit-learn under accel runs on cuML (cuml.accel) and gives scikit-learn's answers.

Skipped without a GPU; ``pytest --require-gpu -m gpu`` on the lent machine makes a skip a failure.
Not yet run on a GPU.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.gpu

FIT = """
import json, sys
if sys.argv[1] == "accel":
    import accel
    accel.install(device="gpu", quiet=True)
import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression
rng = np.random.default_rng(0)
X = rng.standard_normal((50_000, 8))
y = X @ np.arange(1.0, 9.0) + 0.01 * rng.standard_normal(50_000)
centers = np.repeat(np.arange(4.0)[:, None] * 10, 8, axis=1)
blobs = centers[rng.integers(0, 4, 20_000)] + rng.standard_normal((20_000, 8))
out = {
    "coef": np.asarray(LinearRegression().fit(X, y).coef_).tolist(),
    "inertia": float(KMeans(4, n_init=1, random_state=0).fit(blobs).inertia_),
}
if sys.argv[1] == "accel":
    out["library"] = accel.report().to_dict()["libraries"]["scikit-learn"]
print(json.dumps(out))
"""


def test_sklearn_on_cuml_equals_sklearn(run_python) -> None:
    results = {}
    for mode in ("plain", "accel"):
        proc = run_python(FIT, mode, env={"CUDF_PANDAS_RMM_MODE": "pool"})
        assert proc.returncode == 0, proc.stderr
        results[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    fast, plain = results["accel"], results["plain"]
    assert fast["library"]["device"] == "gpu", fast["library"]
    assert fast["library"]["engine"] == "cuml.accel"
    np.testing.assert_allclose(fast["coef"], plain["coef"], rtol=1e-6)
    # well-separated blobs: both find the same clusters, so the same inertia up to float32 sums
    np.testing.assert_allclose(fast["inertia"], plain["inertia"], rtol=1e-4)
