"""vector vs faiss-cpu: build time, QPS and recall@10 (CPU), and the GPU targets (cuVS).

Two ways to run:

* ``python benchmarks/bench_vector.py`` runs the CPU suite once at 100k x 384 and writes
  ``benchmarks/results/vector_cpu.{json,md}`` and ``vector_recall_qps.png`` (date, machine, commit).
* ``pytest benchmarks/bench_vector.py --benchmark-only`` times the same searches with
  pytest-benchmark (``BENCH_VECTOR_N`` sets the size); the GPU cases skip without a GPU.

Data: a 1,000-component Gaussian mixture in 384-d, L2-normalised like sentence embeddings
(all-MiniLM-L6-v2 is 384-d); 1,000 held-out queries; truth from exact search.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout
    sys.path.insert(0, str(ROOT))

from accel import _device  # noqa: E402

N = int(os.environ.get("BENCH_VECTOR_N", "100000"))
D = 384
NQ = 1000
K = 10
IVF_NLIST = 256
HNSW_M = 32
NPROBES = (1, 2, 4, 8, 16, 32)
EF_SEARCHES = (16, 32, 64, 128, 256)
RESULTS = ROOT / "benchmarks" / "results"


def make_dataset(n: int, d: int = D, nq: int = NQ, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, d)).astype(np.float32)
    xb = centers[rng.integers(0, 1000, n)] + 1.5 * rng.standard_normal((n, d)).astype(np.float32)
    xq = centers[rng.integers(0, 1000, nq)] + 1.5 * rng.standard_normal((nq, d)).astype(np.float32)
    for x in (xb, xq):
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(xb, np.float32), np.ascontiguousarray(xq, np.float32)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return sum(len(set(f[:k]) & set(t)) for f, t in zip(found, truth, strict=True)) / truth.size


def _build(lib: Any, kind: str, xb: np.ndarray) -> Any:
    d = xb.shape[1]
    if kind == "flat":
        index = lib.IndexFlatL2(d)
    elif kind == "ivf":
        index = lib.IndexIVFFlat(lib.IndexFlatL2(d), d, IVF_NLIST)
        index.train(xb)
    else:
        index = lib.IndexHNSWFlat(d, HNSW_M)
    index.add(xb)
    return index


def _set_param(index: Any, kind: str, value: int) -> None:
    if kind == "ivf":
        index.nprobe = value
    elif kind == "hnsw":
        index.hnsw.efSearch = value


def _best_of(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _libraries() -> list[tuple[str, Any]]:
    import vector
    from vector._cpu import faiss

    return [("faiss-cpu", faiss), ("vector", vector)]


def _machine() -> dict[str, Any]:
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from vector._cpu import faiss

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "vector", "benchmarks/bench_vector.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if dirty:
        commit += " + uncommitted changes"
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpu": model,
        "cores": os.cpu_count(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss_cpu": faiss.__version__,
        "device": "cpu (no GPU on this machine)",
    }


def run_cpu_suite(n: int = N) -> dict[str, Any]:
    """Build and search every index kind with both libraries; returns the full result record."""
    from vector._cpu import faiss

    xb, xq = make_dataset(n)
    truth = faiss.knn(xq, xb, K)[1]
    record: dict[str, Any] = {"machine": _machine(), "n": n, "d": D, "nq": NQ, "k": K, "kinds": {}}
    from vector import _checks

    # What the layer itself adds: input checks (dtype, shape, NaN/inf scan) per call.
    record["layer_cost"] = {
        "input_check_one_query_us": 1e6 * _best_of(lambda: _checks.as_matrix(xq[:1], D), 200),
        "input_check_database_s": _best_of(lambda: _checks.as_matrix(xb, D), 3),
    }
    sweeps = {"flat": (0,), "ivf": NPROBES, "hnsw": EF_SEARCHES}
    for kind, sweep in sweeps.items():
        entry: dict[str, Any] = {}
        indexes = {}
        for name, lib in _libraries():
            start = time.perf_counter()
            indexes[name] = _build(lib, kind, xb)
            entry.setdefault(name, {})["build_s"] = time.perf_counter() - start
            print(f"{kind:5s} {name:9s} build {entry[name]['build_s']:7.2f} s", flush=True)
        for value in sweep:
            point: dict[str, Any] = {}
            for index in indexes.values():
                _set_param(index, kind, value)
            # Interleaved best-of-7 so machine noise hits both libraries alike.
            best = dict.fromkeys(indexes, float("inf"))
            for _ in range(7):
                for name, index in indexes.items():
                    best[name] = min(best[name], _best_of(lambda i=index: i.search(xq, K), 1))
            for name, index in indexes.items():
                found = np.asarray(index.search(xq, K)[1])
                point[name] = {"qps": NQ / best[name], "recall": recall_at_k(found, truth)}
            point["param"] = value
            entry.setdefault("sweep", []).append(point)
            print(
                f"{kind:5s} param {value:4d}  "
                + "  ".join(
                    f"{k}: {v['qps']:9.0f} QPS r@10 {v['recall']:.4f}"
                    for k, v in point.items()
                    if k != "param"
                ),
                flush=True,
            )
        # Single-query latency (LangChain and LlamaIndex search one query at a time): per query,
        # the best of 5 interleaved calls, summed; this cancels most of the machine's noise.
        for index in indexes.values():
            _set_param(index, kind, sweep[2] if kind == "ivf" else sweep[0])
        total = dict.fromkeys(indexes, 0.0)
        for q in xq[:200]:
            one = q[None, :]
            per = dict.fromkeys(indexes, float("inf"))
            for _ in range(5):
                for name, index in indexes.items():
                    per[name] = min(per[name], _best_of(lambda i=index, x=one: i.search(x, K), 1))
            for name in indexes:
                total[name] += per[name]
        for name in indexes:
            entry[name]["single_query_us"] = 1e6 * total[name] / 200
        default = entry["sweep"][0] if kind == "flat" else entry["sweep"][2 if kind == "ivf" else 0]
        entry["overhead_batch_search"] = default["faiss-cpu"]["qps"] / default["vector"]["qps"] - 1
        entry["overhead_single_query"] = (
            entry["vector"]["single_query_us"] / entry["faiss-cpu"]["single_query_us"] - 1
        )
        entry["overhead_build"] = entry["vector"]["build_s"] / entry["faiss-cpu"]["build_s"] - 1
        record["kinds"][kind] = entry
    return record


def write_outputs(record: dict[str, Any], out_dir: Path = RESULTS) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vector_cpu.json").write_text(json.dumps(record, indent=2) + "\n")
    m = record["machine"]
    lines = [
        f"# vector vs faiss-cpu, CPU ({record['n']:,} x {record['d']}, {record['nq']:,} queries, k={record['k']})",
        "",
        f"Measured {m['date_utc']} at commit `{m['commit']}` on {m['cpu']} ({m['cores']} cores, "
        f"faiss threads {m['faiss_threads']}, load average {m['load_average_at_start']:.1f} at start: "
        "a shared machine, so timings are noisy). faiss-cpu "
        f"{m['faiss_cpu']}, NumPy {m['numpy']}, Python {m['python']}. No GPU: GPU rows are pending.",
        "",
        "Overhead = vector / faiss-cpu - 1 (negative means vector measured faster: noise).",
        "",
        "| index | build faiss (s) | build vector (s) | QPS faiss | QPS vector | recall@10 faiss | recall@10 vector | batch overhead | 1-query latency faiss (us) | vector (us) | 1-query overhead |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    labels = {
        "flat": "Flat (exact)",
        "ivf": f"IVF{IVF_NLIST},Flat nprobe 4",
        "hnsw": f"HNSW{HNSW_M} efSearch 16",
    }
    for kind, e in record["kinds"].items():
        p = e["sweep"][0] if kind in ("flat", "hnsw") else e["sweep"][2]
        f_, v_ = e["faiss-cpu"], e["vector"]
        lines.append(
            f"| {labels[kind]} | {f_['build_s']:.2f} | {v_['build_s']:.2f} | {p['faiss-cpu']['qps']:.0f} | "
            f"{p['vector']['qps']:.0f} | {p['faiss-cpu']['recall']:.4f} | {p['vector']['recall']:.4f} | "
            f"{100 * e['overhead_batch_search']:+.1f}% | {f_['single_query_us']:.0f} | {v_['single_query_us']:.0f} | "
            f"{100 * e['overhead_single_query']:+.1f}% |"
        )
    lines += ["", "Recall-QPS sweeps (nprobe for IVF, efSearch for HNSW):", ""]
    lines += [
        "| index | param | QPS faiss | QPS vector | recall@10 faiss | recall@10 vector |",
        "|---|---|---|---|---|---|",
    ]
    for kind, e in record["kinds"].items():
        for p in e["sweep"]:
            lines.append(
                f"| {kind} | {p['param']} | {p['faiss-cpu']['qps']:.0f} | {p['vector']['qps']:.0f} | "
                f"{p['faiss-cpu']['recall']:.4f} | {p['vector']['recall']:.4f} |"
            )
    (out_dir / "vector_cpu.md").write_text("\n".join(lines) + "\n")
    plot(record, out_dir / "vector_recall_qps.png")


def plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"faiss-cpu": ("o", "-"), "vector": ("x", "--")}
    for kind, e in record["kinds"].items():
        for lib, (marker, line) in styles.items():
            recalls = [p[lib]["recall"] for p in e["sweep"]]
            qps = [p[lib]["qps"] for p in e["sweep"]]
            ax.plot(recalls, qps, marker=marker, linestyle=line, label=f"{kind} {lib}")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (batch of 1,000)")
    ax.set_yscale("log")
    m = record["machine"]
    ax.set_title(
        f"{record['n']:,} x {record['d']} on CPU ({m['cores']} cores), {m['date_utc']}, {m['commit']}"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- pytest-benchmark ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def cpu_data() -> dict[str, Any]:
    from vector._cpu import faiss

    xb, xq = make_dataset(N)
    return {"xb": xb, "xq": xq, "truth": faiss.knn(xq, xb, K)[1], "indexes": {}}


@pytest.mark.parametrize("library", ["faiss-cpu", "vector"])
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_cpu_search(benchmark, cpu_data, kind, library):
    key = (kind, library)
    if key not in cpu_data["indexes"]:
        cpu_data["indexes"][key] = _build(dict(_libraries())[library], kind, cpu_data["xb"])
    index = cpu_data["indexes"][key]
    _set_param(index, kind, 4 if kind == "ivf" else 16)
    _dist, ids = benchmark.pedantic(index.search, args=(cpu_data["xq"], K), rounds=3, iterations=1)
    benchmark.extra_info["recall@10"] = recall_at_k(ids, cpu_data["truth"])
    benchmark.extra_info["n"] = N


def _gpu_ready() -> str:
    probe = _device.probe_gpu()
    if not probe.available:
        return probe.reason
    missing = [m for m in ("cuvs", "cupy") if not _device.has_module(m)]
    return f"{', '.join(missing)} not installed" if missing else ""


@pytest.mark.parametrize("d", [128, 384])
@pytest.mark.parametrize(
    "library",
    [
        "faiss-cpu flat",
        "vector flat (cuVS)",
        "raw cuVS flat",
        "faiss-cpu HNSW build",
        "vector CAGRA build",
    ],
)
@pytest.mark.gpu
@pytest.mark.skipif(bool(_gpu_ready()), reason=f"no GPU: {_gpu_ready()}")
def test_gpu_targets(benchmark, d, library):
    """Not yet run on a GPU. Targets (issue 4): flat search >= 50x faiss-cpu flat at 1M x d;
    CAGRA build >= 10x faiss-cpu HNSW build. Our search returns host arrays, so the device is
    synchronised inside the timed region."""
    import vector
    from vector._cpu import faiss

    xb, xq = make_dataset(1_000_000, d=d, nq=10_000)
    if library == "faiss-cpu flat":
        index = faiss.IndexFlatL2(d)
        index.add(xb)
        benchmark.pedantic(index.search, args=(xq, K), rounds=1, iterations=1)
    elif library == "raw cuVS flat":
        # the baseline for "within 10% of raw cuVS": same data, same k, results copied to host
        import cupy as cp
        from cuvs.neighbors import brute_force

        raw = brute_force.build(cp.asarray(xb), metric="sqeuclidean")
        queries = cp.asarray(xq)

        def search() -> None:
            dist, ids = brute_force.search(raw, queries, K)
            cp.asnumpy(cp.asarray(ids))
            cp.asnumpy(cp.asarray(dist))

        search()
        benchmark.pedantic(search, rounds=3, iterations=1)
    elif library == "faiss-cpu HNSW build":

        def cpu_build() -> None:
            graph = faiss.IndexHNSWFlat(d, 32)
            graph.add(xb)

        benchmark.pedantic(cpu_build, rounds=1, iterations=1)
    elif library == "vector flat (cuVS)":
        index = vector.IndexFlatL2(d, device="gpu")
        index.add(xb)
        index.search(xq[:10], K)  # flush the buffered add and warm up
        benchmark.pedantic(index.search, args=(xq, K), rounds=3, iterations=1)
    else:

        def build() -> None:
            graph = vector.IndexHNSWFlat(d, 32, device="gpu")
            graph.add(xb)
            graph.search(xq[:1], 1)  # the buffered add is built here

        benchmark.pedantic(build, rounds=1, iterations=1)


@pytest.mark.parametrize("library", ["faiss-cpu HNSW", "vector CAGRA"])
@pytest.mark.gpu
@pytest.mark.skipif(bool(_gpu_ready()), reason=f"no GPU: {_gpu_ready()}")
def test_gpu_qps_at_recall_95(benchmark, library):
    """Not yet run on a GPU. Target: CAGRA QPS at recall@10 >= 0.95 is >= 30x faiss-cpu HNSW's
    (1M x 128, 10k queries); each side searches at its smallest efSearch reaching 0.95."""
    import vector
    from vector._cpu import faiss

    xb, xq = make_dataset(1_000_000, d=128, nq=10_000)
    truth = vector.knn(xq, xb, K)[1]
    if library == "faiss-cpu HNSW":
        index: Any = faiss.IndexHNSWFlat(128, 32)
    else:
        index = vector.IndexHNSWFlat(128, 32, device="gpu")
    index.add(xb)
    for ef in (16, 32, 64, 128, 256, 512):
        index.hnsw.efSearch = ef
        reached = recall_at_k(np.asarray(index.search(xq, K)[1]), truth)
        if reached >= 0.95:
            break
    benchmark.extra_info.update({"efSearch": ef, "recall@10": reached})
    benchmark.pedantic(index.search, args=(xq, K), rounds=3, iterations=1)


if __name__ == "__main__":
    result = run_cpu_suite(int(sys.argv[1]) if len(sys.argv) > 1 else N)
    write_outputs(result)
    print((RESULTS / "vector_cpu.md").read_text())
