"""The GPU check's steps, in the order a short lease proves the most, and the lease on paper.

Each step names the wheel set it needs (packed here by ``pack``, installed there by
``install``), the gpu-marked tests it runs with ``--require-gpu`` and the benchmarks it runs,
with an estimate of the device seconds each costs. ``python3 -m benchmarks.gpu_check plan``
prints the lease step by step; a test holds its total under the 15 minutes a task is lent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Device seconds a task is lent in all (machine start, transfers, installs, runs).
LEASE_SECONDS = 15 * 60
#: What a call costs besides its command: the start of a cold machine, and per call the
#: transfer of one part (<= 56 MiB) with the working tree and the reply.
MACHINE_START_SECONDS = 90
PART_CALL_SECONDS = 12
#: Wheels travel in parts this size; the working tree (~1.5 MiB) travels beside each one and
#: the tool moves at most 64 MiB per call.
PART_MIB = 56
#: Parts per set as packed on 2026-12-02 (RAPIDS 26.10, cu13); ``plan`` reads the real counts
#: from ``.gpu/<set>/MANIFEST.json`` once ``pack`` has run.
EXPECTED_PARTS = {"cuvs": 5, "cudf": 7, "cuml": 2}


@dataclass(frozen=True, slots=True)
class WheelSet:
    """Distributions installed together; a later set leaves out what an earlier one holds."""

    name: str
    specs: tuple[str, ...]


#: cu13 builds: the lent machine's driver is CUDA 13 (``[cu12]`` stays the users' default).
#: CuPy, numba, cuda-bindings, pandas' dependencies, pytest, hypothesis, tqdm and rich are
#: already in the machine's image and are not packed.
WHEEL_SETS: tuple[WheelSet, ...] = (
    WheelSet(
        "cuvs",
        (
            "cuvs-cu13==26.10.*",
            "libcuvs-cu13==26.10.*",
            "pylibraft-cu13==26.10.*",
            "libraft-cu13==26.10.*",
            "rmm-cu13==26.10.*",
            "librmm-cu13==26.10.*",
            "libkvikio-cu13==26.10.*",
            "rapids-logger==0.3.*",
            "faiss-cpu>=1.15,<1.16",
        ),
    ),
    WheelSet(
        "cudf",
        (
            "cudf-cu13==26.10.*",
            "pylibcudf-cu13==26.10.*",
            "libcudf-cu13==26.10.*",
            "kvikio-cu13==26.10.*",
            "nvidia-libnvcomp-cu13==5.3.*",
            "nvtx",
            "cachetools",
            "pandas>=3.0,<3.1",
            "cudf-polars-cu13==26.10.*",
            "polars>=1.35,<1.45",
            "polars-runtime-32>=1.35,<1.45",
        ),
    ),
    WheelSet(
        "cuml",
        (
            "cuml-cu13==26.10.*",
            "libcuml-cu13==26.10.*",
            "nvforest-cu13==26.10.*",
            "libnvforest-cu13==26.10.*",
            "treelite>=4.7.2,<5",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class Step:
    """One part of the check: what it needs installed, the tests, the benchmarks."""

    name: str
    #: Wheel sets that must be installed first (empty: the machine's image is enough).
    needs: tuple[str, ...]
    #: Modules that must import on the device before the step runs.
    modules: tuple[str, ...]
    #: pytest arguments (files), run as ``pytest --require-gpu -m gpu <tests>``.
    tests: tuple[str, ...]
    #: Benchmark commands, each an argv after ``python3``; ``{out}`` is the step's result folder.
    benchmarks: tuple[tuple[str, ...], ...] = ()
    #: Appended to each script benchmark's argv in the rehearsal (its smallest form); pytest
    #: benchmarks are collected instead.
    rehearse_args: tuple[str, ...] = ()
    #: Files that must be carried for this step (beside the wheels), relative to the root.
    carried: tuple[str, ...] = ()
    test_seconds: int = 0
    bench_seconds: int = 0
    notes: tuple[str, ...] = field(default=())


def _pytest_benchmark(module: str, *extra: str) -> tuple[str, ...]:
    """The argv of a pytest-benchmark module's GPU cases, JSON into the step's folder."""
    return (
        *("-m", "pytest", f"benchmarks/{module}.py", "-m", "gpu", "--require-gpu"),
        *("--benchmark-only", "--benchmark-json", f"{{out}}/{module}.json"),
        *("-p", "no:cacheprovider", *extra),
    )


STEPS: tuple[Step, ...] = (
    Step(
        "numpy",
        needs=(),
        modules=("cupy",),
        tests=(
            "tests/accel/test_device.py",
            "tests/accel/numpy/test_layer.py",
            "tests/accel/numpy/test_scenarios.py",
        ),
        benchmarks=(
            (
                "benchmarks/bench_numpy.py",
                "--sizes",
                "1e3",
                "1e4",
                "1e5",
                "1e6",
                "1e7",
                "1e8",
                "--rounds",
                "1",
                "--modes",
                "numpy",
                "accel-gpu",
                "cupy",
                "--out-dir",
                "{out}",
            ),
        ),
        rehearse_args=("--sizes", "1e3"),
        test_seconds=45,
        bench_seconds=90,
        notes=("CuPy 14 (cuda13x) is in the image: nothing to carry",),
    ),
    Step(
        "vector",
        needs=("cuvs",),
        modules=("cuvs", "cupy", "faiss"),
        tests=(
            "tests/vector/test_gpu_path.py",
            "tests/vector/test_conformance.py",
            "tests/vector/test_io.py",
            "tests/vector/test_cuvs_binding.py",
        ),
        benchmarks=(_pytest_benchmark("bench_vector", "-k", "test_gpu_targets and not 384"),),
        test_seconds=60,
        bench_seconds=150,
        notes=("flat and CAGRA at 1M x 128 vs faiss-cpu and raw cuVS",),
    ),
    Step(
        "pandas",
        needs=("cuvs", "cudf"),
        modules=("cudf", "cudf.pandas"),
        tests=("tests/accel/test_gpu.py",),
        benchmarks=(_pytest_benchmark("bench_accel"),),
        test_seconds=45,
        bench_seconds=90,
        notes=("workload at 1e7 rows vs pandas and bare cudf.pandas (CUDF_PANDAS_RMM_MODE=pool)",),
    ),
    Step(
        "spark-stages",
        needs=("cuvs", "cudf"),
        modules=("cudf_polars", "polars"),
        tests=(),
        benchmarks=(("-m", "benchmarks.gpu_check", "stages", "replay", "--out", "{out}"),),
        rehearse_args=("--device", "cpu"),
        carried=(".gpu/stages",),
        test_seconds=0,
        bench_seconds=40,
        notes=(
            "no Java or pyspark there: TPC-H stages captured here replay on cudf-polars vs Polars",
        ),
    ),
    Step(
        "sklearn",
        needs=("cuvs", "cudf", "cuml"),
        modules=("cuml",),
        tests=("tests/accel/test_gpu_sklearn.py",),
        test_seconds=30,
        notes=("cuml.accel under accel: only the tests, no benchmark",),
    ),
)


def step(name: str) -> Step:
    for candidate in STEPS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no step {name!r}; the steps are {', '.join(s.name for s in STEPS)}")


@dataclass(frozen=True, slots=True)
class Call:
    """One device call of the lease: what it carries, what it runs, what it costs."""

    carries: str
    runs: str
    seconds: int


def lease(parts: dict[str, int], install_seconds: dict[str, int] | None = None) -> list[Call]:
    """The calls of one lease, in order, given how many parts each wheel set has.

    Every call carries one part and runs, after keeping it, whatever step has just become
    possible, so that transfers and work share calls instead of adding up: the first call
    starts the machine, carries the first cuVS part and runs the NumPy step (CuPy is in the
    image); the captured Spark stages (TPC-H SF 0.02, ~7 MiB) ride with cuDF's last part,
    which has that much room under the 64 MiB a call moves.
    """
    install = install_seconds or {"cuvs": 25, "cudf": 40, "cuml": 20}
    calls: list[Call] = []
    installed: set[str] = set()
    for wheel_set in WHEEL_SETS:
        count = parts.get(wheel_set.name, 0)
        for index in range(count):
            runs, seconds = ["keep"], PART_CALL_SECONDS
            if not calls:
                runs.append("numpy")
                seconds += MACHINE_START_SECONDS + _cost(step("numpy"))
            if index == count - 1:
                installed.add(wheel_set.name)
                ready = [s for s in STEPS if s.needs and set(s.needs) <= installed]
                ready = [s for s in ready if wheel_set.name in s.needs]
                runs.append(f"install {wheel_set.name}")
                runs.extend(s.name for s in ready)
                seconds += install.get(wheel_set.name, 30) + sum(_cost(s) for s in ready)
            carries = f"{wheel_set.name} part {index + 1}/{count}"
            if wheel_set.name == "cudf" and index == count - 1:
                carries += " + stages"
            calls.append(Call(carries, "; ".join(runs), seconds))
    return calls


def _cost(one: Step) -> int:
    return one.test_seconds + one.bench_seconds


def render(calls: list[Call]) -> str:
    lines = [f"{'#':>2}  {'carries':<27} {'seconds':>7} {'total':>6}  runs"]
    total = 0
    for number, call in enumerate(calls, 1):
        total += call.seconds
        mark = "" if total <= LEASE_SECONDS else "  (past the lease)"
        lines.append(
            f"{number:>2}  {call.carries:<27} {call.seconds:>7} {total:>6}  {call.runs}{mark}"
        )
    lines.append(f"total {total} s of {LEASE_SECONDS} s lent")
    return "\n".join(lines)
