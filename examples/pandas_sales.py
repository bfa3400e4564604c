"""An ordinary pandas + scikit-learn script: nothing in it knows about accel.

Run it plainly (python examples/pandas_sales.py) or accelerated, unchanged:
    python -m accel --report examples/pandas_sales.py --rows 1000000
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int, default=200_000)
args = parser.parse_args()

rng = np.random.default_rng(42)
sales = pd.DataFrame(
    {
        "store": rng.integers(0, 500, args.rows),
        "item": rng.integers(0, 2_000, args.rows),
        "units": rng.integers(1, 10, args.rows),
        "price": np.round(rng.uniform(1, 100, args.rows), 2),
        "day": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, args.rows), "D"),
    }
)
stores = pd.DataFrame(
    {
        "store": np.arange(500),
        "city": pd.array(rng.choice(["Lyon", "Oslo", "Pune", "Quito", "Accra"], 500), dtype="str"),
    }
)

sales["revenue"] = sales["units"] * sales["price"]
by_city = (
    sales.merge(stores, on="store")
    .groupby([pd.Grouper(key="day", freq="MS"), "city"])["revenue"]
    .sum()
    .unstack("city")
)
print("monthly revenue by city (first 3 months):")
print(by_city.head(3).round(0))

profile = sales.groupby("store").agg(revenue=("revenue", "sum"), units=("units", "mean"))
labels = KMeans(n_clusters=4, n_init=3, random_state=0).fit_predict(profile.to_numpy())
print("stores per cluster:", np.bincount(labels).tolist())
