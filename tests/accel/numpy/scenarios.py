"""Behavioural scenarios run twice, under plain NumPy and under accel, and compared.

Run as a script: ``python scenarios.py OUT.pkl [--accel]``. With ``--accel`` it installs accel
first (the device comes from ``ACCEL_DEVICE``), so ``import numpy`` below is the accelerated
namespace. Each scenario returns values; :func:`describe` turns them into host data plus the
type facts that must match (scalar vs array, dtype, shape).
"""

from __future__ import annotations

import importlib
import pickle
import sys
from collections.abc import Callable
from typing import Any

if "--accel" in sys.argv:
    import accel

    accel.install(quiet=True)

import numpy as np
import pandas as pd

# importlib bypasses accel's import hook: this is always the real NumPy, for host copies.
real_np = importlib.import_module("numpy")
SCENARIOS: dict[str, Callable[[], Any]] = {}
N = 24  # small on purpose: ACCEL_MIN_GPU_ELEMENTS=0 puts every array on the device


def scenario(func: Callable[[], Any]) -> Callable[[], Any]:
    SCENARIOS[func.__name__] = func
    return func


def describe(value: Any) -> Any:
    """Host data and type facts of a result (device arrays are copied to the host here)."""
    if isinstance(value, pd.Series | pd.DataFrame):
        return ("pandas", type(value).__name__, describe(value.to_numpy()))
    if isinstance(value, np.generic):
        return ("scalar", type(value).__name__, value.item() if value.dtype.kind != "O" else value)
    if hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "__array__"):
        host = real_np.asarray(value)
        return ("array", str(host.dtype), host.shape, host.tolist())
    if isinstance(value, tuple | list):
        return (type(value).__name__, [describe(v) for v in value])
    if isinstance(value, bool | int | float | complex | str | type(None)):
        return ("py", type(value).__name__, value)
    return ("other", type(value).__name__)


# -- creation ---------------------------------------------------------------------------------
@scenario
def creation() -> Any:
    return [
        np.arange(N),
        np.arange(0.5, 7.5, 0.5),
        np.zeros((3, 4)),
        np.ones(5, dtype=np.int16),
        np.full((2, 3), 7.5),
        np.linspace(0, 1, 9),
        np.eye(3, 4),
        np.identity(3),
        np.array([[1, 2], [3, 4]]),
        np.array([1.5, 2, 3], dtype=np.float32),
        np.array(5),
        np.asarray([True, False]),
        np.empty_like(np.arange(6.0)).shape,
        np.zeros_like(np.arange(6).reshape(2, 3)),
        np.ones_like(np.arange(3.0)),
        np.full_like(np.arange(4), 9),
        np.tile(np.arange(3), 4),
        np.repeat(np.arange(3), 2),
        np.meshgrid(np.arange(3), np.arange(2)),
    ]


# -- dtype promotion under NumPy 2 rules (NEP 50) --------------------------------------------
@scenario
def promotion() -> Any:
    i8 = np.arange(N, dtype=np.int8)
    f32 = np.linspace(0, 1, N, dtype=np.float32)
    return [
        i8 + 3,
        i8 + np.arange(N, dtype=np.int16),
        f32 + 1.5,
        f32 + np.float64(1.5),
        f32 * np.arange(N, dtype=np.float64),
        np.arange(N, dtype=np.uint8) + np.arange(N, dtype=np.int8),
        np.arange(N) / np.arange(1, N + 1),
        np.arange(N) // 3,
        np.arange(N, dtype=np.int32) * 2.5,
        (np.arange(N) > 5) & (np.arange(N) < 20),
        f32 + np.array(2.0),
        np.arange(N, dtype=np.uint64) + 1,
        np.result_type(f32, 1.0),
        np.sqrt(np.arange(N, dtype=np.int16)),
        np.arange(N).astype(np.float32) ** 2,
        np.arange(N, dtype=np.complex64) * 1j,
    ]


# -- scalars where NumPy returns scalars, 0-d arrays where it returns those -------------------
@scenario
def scalars_and_zero_d() -> Any:
    a = np.arange(N, dtype=np.float64)
    z = np.array(2.5)
    return [
        a.sum(),
        a[3],
        a.reshape(4, 6)[1, 2],
        a.max(),
        np.argmax(a),
        np.dot(a, a),
        np.mean(a),
        z,
        z + 1,
        z[()],
        z[...],
        z.copy(),
        np.sqrt(z),
        np.where(True, 1, 2),
        a.reshape(4, 6).sum(axis=(0, 1)),
        np.linalg.det(np.eye(3) * 2),
        np.linalg.norm(a),
        float(a[5]),
        int(a[7]),
        bool(a[1] > 0),
        a[2].item(),
        a.tolist()[:3],
        len(a),
        np.count_nonzero(a),
    ]


# -- views and in-place operations ----------------------------------------------------------
@scenario
def views_and_inplace() -> Any:
    a = np.arange(N, dtype=np.float64)
    out = []
    b = a[2:6]
    b[:] = 7
    out.append(a.copy())
    a += 1
    out.append(a.copy())
    m = a.reshape(4, 6)
    m[0, 0] = 99
    out.append(a.copy())
    out.append(np.shares_memory(a, a[1:]))
    out.append(np.shares_memory(a, a.copy()))
    c = a.copy()
    c[0] = -1
    out.append(a[0])
    np.add(a, 1, out=a)
    out.append(a.copy())
    a[::2] *= 3
    out.append(a.copy())
    t = m.T
    t[1, 0] = -5
    out.append(m.copy())
    out.append(a[1:4].base is a)
    r = a.ravel()
    out.append(r.shape)
    a.sort()
    out.append(a.copy())
    a.fill(2)
    out.append(a.copy())
    return out


# -- indexing -------------------------------------------------------------------------------
@scenario
def fancy_indexing() -> Any:
    a = np.arange(N) * 10
    m = np.arange(N).reshape(4, 6)
    out = [
        a[[0, 2, 4]],
        a[a > 50],
        a[np.array([1, 3])],
        m[[0, 1], [1, 2]],
        m[:, [0, 2]],
        m[1],
        m[..., 1],
        m[None, 1].shape,
        m[m % 2 == 0],
        np.nonzero(a > 100),
        np.argwhere(m > 20),
        np.take(a, [1, 5]),
    ]
    a[[1, 2]] = 0
    out.append(a.copy())
    a[a > 200] = -1
    out.append(a.copy())
    m[:, 0] = np.arange(4)
    out.append(m.copy())
    return out


# -- reductions -----------------------------------------------------------------------------
@scenario
def reductions() -> Any:
    m = np.arange(N, dtype=np.float64).reshape(4, 6) - 7
    return [
        m.sum(axis=0),
        m.sum(axis=1, keepdims=True),
        m.mean(),
        m.std(ddof=1),
        m.var(axis=0, keepdims=True),
        m.min(axis=1),
        m.max(axis=0),
        m.argmin(axis=1),
        np.cumsum(m, axis=1),
        np.prod(m[0]),
        (m > 0).any(axis=0),
        (m > -10).all(),
        np.median(m, axis=0),
        np.percentile(m, 30),
        np.nanmean(np.where(m > 0, m, np.nan)),
        np.add.reduce(m, axis=1),
        np.maximum.accumulate(m[1]),
        np.multiply.outer(m[0], m[1]),
    ]


@scenario
def linalg() -> Any:
    rng = np.random.RandomState(3)
    a = rng.rand(5, 5) + np.eye(5) * 5
    b = rng.rand(5)
    spd = a @ a.T
    return [
        np.linalg.inv(a),
        np.linalg.solve(a, b),
        np.linalg.det(a),
        np.linalg.norm(a, axis=0),
        np.linalg.eigh(spd)[0],
        np.linalg.svd(a, compute_uv=False),
        np.abs(np.linalg.qr(a)[1]),
        a @ b,
        np.dot(a, a),
        np.einsum("ij,j->i", a, b),
        np.linalg.cholesky(spd),
        np.linalg.lstsq(a, b, rcond=None)[0],
        np.matmul(a, a).trace(),
        np.outer(b, b),
    ]


@scenario
def fft() -> Any:
    x = np.sin(np.linspace(0, 8, 32))
    return [
        np.fft.fft(x),
        np.fft.ifft(np.fft.fft(x)).real,
        np.fft.rfft(x),
        np.fft.fft2(x.reshape(4, 8)),
        np.fft.fftfreq(8),
        np.fft.irfft(np.fft.rfft(x), n=32),
    ]


@scenario
def sorting_and_sets() -> Any:
    a = np.array([5, 3, 9, 1, 3, 7, 1, 8] * 3)
    return [
        np.sort(a),
        np.argsort(a, kind="stable"),
        np.unique(a),
        np.unique(a, return_counts=True),
        np.searchsorted(np.sort(a), [2, 7]),
        np.sort(a.reshape(4, 6), axis=0),
        np.partition(a, 3)[3],
        np.isin(a, [3, 9]),
        np.concatenate([a, a]),
        np.stack([a, a]),
        np.where(a > 4, a, -a),
        np.clip(a, 2, 6),
        np.round(a / 3, 2),
        np.diff(a),
    ]


@scenario
def random_seeding() -> Any:
    np.random.seed(0)
    first = np.random.rand(N)
    normal = np.random.normal(size=(3, 4))
    ints = np.random.randint(0, 100, size=10)
    choice = np.random.choice(N, 5, replace=False)
    perm = np.random.permutation(10)
    np.random.seed(0)
    again = np.random.rand(N)
    rng = np.random.default_rng(42)
    return [first, normal, ints, choice, perm, again, rng.random(5), rng.integers(0, 9, 4)]


@scenario
def pickling() -> Any:
    a = np.arange(N, dtype=np.float32).reshape(4, 6)
    back = pickle.loads(pickle.dumps(a))
    return [back, back.dtype.str, isinstance(back, np.ndarray)]


@scenario
def special_values() -> Any:
    a = np.array([1.0, -1.0, 0.0, np.nan, np.inf] * 5)
    with np.errstate(all="ignore"):
        return [
            np.log(a),
            a / 0,
            np.isnan(a),
            np.isfinite(a).sum(),
            np.nanmax(a[np.isfinite(a)]),
            np.nan_to_num(a),
            np.sign(a),
        ]


@scenario
def host_only_dtypes() -> Any:
    obj = np.array([1, "two", 3.0] * 8, dtype=object)
    text = np.array(["ab", "cd", "ef"] * 8)
    when = np.arange("2024-01-01", "2024-01-25", dtype="datetime64[D]")
    record = np.zeros(N, dtype=[("x", "f8"), ("y", "i4")])
    return [
        obj[:3].tolist(),
        text,
        np.char.upper(text),
        when + 1,
        np.concatenate([text, text]),
        record["x"] + 1,
        np.arange(N).astype(str)[:3],
    ]


@scenario
def types_seen_by_user() -> Any:
    a = np.arange(N)
    return [
        isinstance(a, np.ndarray),
        isinstance(a[1:], np.ndarray),
        isinstance(np.sin, np.ufunc),
        isinstance(pd.Series(a).to_numpy(), np.ndarray),
        isinstance(np.float64(1.0), np.floating),
        issubclass(type(a), np.ndarray),
        type(a.sum()).__name__,
        a.dtype == np.int64,
        a.shape,
        a.ndim,
        a.size,
        a.nbytes,
        a.itemsize,
    ]


@scenario
def pandas_interop() -> Any:
    a = np.arange(N, dtype=np.float64)
    series = pd.Series(a)
    frame = pd.DataFrame({"a": a - 10, "b": a})
    return [
        series,
        series.sum(),
        np.log(series + 1),
        np.where(frame.a > 0, a, -a),
        np.asarray(frame.values),
        pd.Series(np.arange(N)).dtype.name,
        np.mean(series),
        frame.to_numpy().sum(axis=0),
    ]


@scenario
def iteration_and_conversion() -> Any:
    m = np.arange(N).reshape(4, 6)
    return [
        [row.sum() for row in m],
        list(np.arange(5)),
        3 in np.arange(5),
        m.astype(np.float32).tolist(),
        str(np.arange(3)),
        repr(np.arange(3)),
        f"{np.arange(3.0)[1]:.2f}",
    ]


def main() -> None:
    out_path = sys.argv[1]
    results: dict[str, Any] = {}
    reports: dict[str, Any] = {}
    for name, func in SCENARIOS.items():
        if "--accel" in sys.argv:
            accel.reset_report()  # each scenario's own calls and fallbacks
        try:
            results[name] = describe(func())
        except Exception as exc:
            results[name] = ("raised", type(exc).__name__, str(exc))
        if "--accel" in sys.argv:
            reports[name] = accel.report().to_dict()
    with open(out_path, "wb") as fh:
        pickle.dump({"results": results, "reports": reports, "numpy": type(np).__name__}, fh)


if __name__ == "__main__":
    main()
