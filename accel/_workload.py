"""The demo's pandas + scikit-learn workload, run in a child process plain or accelerated.

``python -m accel._workload --rows N --out result.pkl [--accelerated]`` writes, per step, the
seconds it took and a small result (column name -> NumPy array) that the parent compares.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any

STEPS = ("generate", "join", "groupby", "strings", "datetime", "sklearn fit")


def _columns(frame: Any) -> dict[str, Any]:
    import numpy as np

    frame = frame.reset_index()
    return {str(col): np.asarray(frame[col].to_numpy()) for col in frame.columns}


def run(
    rows: int,
    seed: int = 0,
    after_step: Callable[[str], None] | None = None,
    *,
    warmup: int = 0,
    repeat: int = 1,
) -> dict[str, tuple[float, dict[str, Any]]]:
    """Run every step ``warmup`` times untimed, then ``repeat`` times timed; return
    ``{step: (best seconds, result columns)}``. ``after_step(step)`` is called after each step,
    outside its timing (tests read accel's report per step)."""
    import numpy as np
    import pandas as pd

    out: dict[str, tuple[float, dict[str, Any]]] = {}
    data: dict[str, Any] = {}

    def timed(step: str, fn: Callable[[], Any]) -> None:
        for _ in range(warmup):
            _columns(fn())
        best, columns = float("inf"), {}
        for _ in range(max(repeat, 1)):
            start = time.perf_counter()
            columns = _columns(fn())  # materialise inside the timed region
            best = min(best, time.perf_counter() - start)
        out[step] = (best, columns)
        if after_step is not None:
            after_step(step)

    def generate() -> Any:
        rng = np.random.default_rng(seed)
        n_customers = max(rows // 10, 1)
        sku_pool = np.array([f"sku-{i:05d}" for i in range(20_000)], dtype=object)
        statuses = np.array(["open", "shipped", "returned", "lost", "billed"], dtype=object)
        base = np.datetime64("2024-01-01T00:00:00", "s")
        orders = pd.DataFrame(
            {
                "order_id": np.arange(rows, dtype=np.int64),
                "customer_id": rng.integers(0, n_customers, rows),
                "amount": np.round(rng.gamma(2.0, 50.0, rows), 2),
                "quantity": rng.integers(1, 20, rows),
                "sku": pd.array(sku_pool[rng.integers(0, len(sku_pool), rows)], dtype="str"),
                "status": pd.array(statuses[rng.integers(0, len(statuses), rows)], dtype="str"),
                "ts": base + rng.integers(0, 365 * 24 * 3600, rows).astype("timedelta64[s]"),
            }
        )
        regions = np.array(["north", "south", "east", "west", "centre", "islands"], dtype=object)
        customers = pd.DataFrame(
            {
                "customer_id": np.arange(n_customers),
                "region": pd.array(
                    regions[rng.integers(0, len(regions), n_customers)], dtype="str"
                ),
                "vip": rng.random(n_customers) < 0.1,
            }
        )
        data["orders"], data["customers"] = orders, customers
        return orders[["amount", "quantity"]].describe()

    def join() -> Any:
        merged = data["orders"].merge(data["customers"], on="customer_id", how="inner")
        return merged.groupby(["region", "vip"]).agg(
            revenue=("amount", "sum"), orders=("order_id", "count")
        )

    def groupby() -> Any:
        return (
            data["orders"]
            .groupby("customer_id")
            .agg(total=("amount", "sum"), n=("amount", "size"), qty=("quantity", "max"))
            .sort_index()
        )

    def strings() -> Any:
        orders = data["orders"]
        upper = orders["status"].str.upper()
        has_nine = orders["sku"].str.contains("9", regex=False)
        frame = pd.DataFrame(
            {"status": upper, "has_nine": has_nine, "len": orders["sku"].str.len()}
        )
        return frame.groupby(["status", "has_nine"]).agg(n=("len", "size"), chars=("len", "sum"))

    def datetime() -> Any:
        orders = data["orders"]
        month = orders["ts"].dt.month
        weekday = orders["ts"].dt.dayofweek
        frame = pd.DataFrame({"month": month, "weekday": weekday, "amount": orders["amount"]})
        return frame.groupby(["month", "weekday"]).agg(revenue=("amount", "sum"))

    # Imported before the clock starts: the step times the fit, not the import. scikit-learn is
    # optional (the demo runs from the base + [spark,vector] install): without it, no such step.
    try:
        from sklearn.linear_model import LinearRegression
    except ImportError:
        LinearRegression = None

    def sklearn_fit() -> Any:
        sample = data["orders"].head(min(rows, 500_000))
        features = pd.DataFrame(
            {
                "quantity": sample["quantity"].astype("float64"),
                "month": sample["ts"].dt.month.astype("float64"),
                "bucket": (sample["customer_id"] % 97).astype("float64"),
            }
        )
        model = LinearRegression().fit(features, sample["amount"])
        return pd.DataFrame({"coef": np.asarray(model.coef_), "feature": list(features.columns)})

    for step, fn in zip(
        STEPS, (generate, join, groupby, strings, datetime, sklearn_fit), strict=True
    ):
        if fn is not sklearn_fit or LinearRegression is not None:
            timed(step, fn)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accel._workload")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--accelerated", action="store_true")
    parser.add_argument("--warmup", type=int, default=0, help="untimed runs of each step first")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each step (best kept)")
    args = parser.parse_args(argv)
    devices: dict[str, str] = {}
    if args.accelerated:
        import accel

        accel.install(quiet=True)
        devices = {
            name: f"{st.device} ({st.engine})" for name, st in accel.report().libraries.items()
        }
    results = run(args.rows, args.seed, warmup=args.warmup, repeat=args.repeat)
    report = None
    if args.accelerated:
        import accel

        report = accel.report().to_dict()
    with open(args.out, "wb") as fh:
        pickle.dump({"results": results, "devices": devices, "report": report}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
