"""The prepared GPU check rehearsed here, all but the device: the lease on paper, the test
selection, the packing into checksummed parts, the install into a scratch prefix, the runner
and the JSON it writes. A lease is 15 minutes; what breaks in this file would break there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gpu_check import install, pack, plan, run

REPO = Path(__file__).resolve().parent.parent

#: gpu-marked tests that no step runs, each with why.
NOT_IN_A_STEP = {
    "tests/spark_plugin/test_tpch.py": (
        "needs a Spark session (Java, pyspark), which the lent machine lacks: the same stages "
        "run there through the 'spark-stages' step, captured here"
    ),
    "tests/vector/test_langchain.py": (
        "langchain-community and its dependencies are not in the lent machine's image; the FAISS "
        "calls LangChain makes are the conformance suite's, which runs there"
    ),
    "tests/vector/test_llamaindex.py": (
        "llama-index is not in the lent machine's image; its FAISS calls are the conformance "
        "suite's, which runs there"
    ),
}


def test_plan_fits_the_lease_in_cost_order() -> None:
    calls = plan.lease(plan.EXPECTED_PARTS)
    total = sum(call.seconds for call in calls)
    assert total <= plan.LEASE_SECONDS, plan.render(calls)
    ran = [name for call in calls for name in call.runs.split("; ")]
    steps = [s.name for s in plan.STEPS]
    assert [name for name in ran if name in steps] == steps  # every step, in plan order
    assert steps[:2] == ["numpy", "vector"]
    assert steps[-1] == "sklearn"


def test_each_part_call_stays_under_the_transfer_limit() -> None:
    tree = sum(
        (REPO / name).stat().st_size
        for name in subprocess.run(
            ["git", "ls-files"], capture_output=True, text=True, cwd=REPO, check=True
        ).stdout.split()
        if (REPO / name).is_file()
    )
    assert plan.PART_MIB * 2**20 + tree < 64 * 2**20 - 2 * 2**20, "part + tree + stages margin"


def _gpu_test_files() -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "gpu", "tests"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {line.split("::")[0] for line in proc.stdout.splitlines() if "::" in line}


def test_every_gpu_test_is_run_by_a_step() -> None:
    selected = {path for step in plan.STEPS for path in step.tests}
    files = _gpu_test_files()
    assert files, "no gpu-marked test collected"
    assert files - selected - set(NOT_IN_A_STEP) == set()
    for path in selected:
        assert (REPO / path).exists(), path
    assert set(NOT_IN_A_STEP) <= files


# A real set of the device's builds, small enough to download in CI: one pure wheel and two
# manylinux CPython-3.12 ones.
TINY = plan.WheelSet("tiny", ("cachetools==6.*", "rapids-logger==0.3.*", "nvtx==0.2.*"))


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packed")
    try:
        pack.download(TINY.specs, root / "cache")
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"pip download of the rehearsal wheels failed (PyPI reachable?): {exc}")
    pack.pack([TINY], root / "cache", root / "carried", part_bytes=256 << 10, fetch=False)
    return root


def test_pack_cuts_checksummed_parts(packed: Path) -> None:
    manifest = json.loads((packed / "carried/tiny/MANIFEST.json").read_text())
    parts = sorted((packed / "carried/tiny").glob("part-*"))
    assert len(parts) >= 3, "the rehearsal must cross part boundaries"
    assert [p["name"] for p in manifest["parts"]] == [p.name for p in parts]
    assert all(p.stat().st_size <= 256 << 10 for p in parts)
    assert {entry["sha256"] for entry in manifest["parts"]} == {pack.sha256(p) for p in parts}
    assert len(manifest["wheels"]) == 3
    assert any("cp312" in w for w in manifest["wheels"])


def test_parts_arrive_one_call_at_a_time_then_install(packed: Path, tmp_path: Path) -> None:
    carried, parts_root, site = packed / "carried" / "tiny", tmp_path / "parts", tmp_path / "site"
    parts = sorted(carried.glob("part-*"))
    call = tmp_path / "call"
    for number, part in enumerate(parts):
        # each call carries one part (and the manifest with the first)
        (call / "tiny").mkdir(parents=True, exist_ok=True)
        for old in (call / "tiny").iterdir():
            old.unlink()
        (call / "tiny" / part.name).write_bytes(part.read_bytes())
        if number == 0:
            (call / "tiny" / "MANIFEST.json").write_bytes((carried / "MANIFEST.json").read_bytes())
        install.stash(call, parts_root)
        state = install.install(parts_root, site, "tiny", foreign=True)
        if number < len(parts) - 1:
            assert state.state == "waiting", state
    assert state.state == "installed", state
    assert len(list(install.target(site, "tiny").glob("*.dist-info"))) == 3
    assert install.install(parts_root, site, "tiny", foreign=True).state == "installed"


def test_a_corrupt_part_is_named_not_installed(packed: Path, tmp_path: Path) -> None:
    parts_root, site = tmp_path / "parts", tmp_path / "site"
    install.stash(packed / "carried", parts_root)
    victim = parts_root / "tiny" / "part-01"
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    state = install.install(parts_root, site, "tiny", foreign=True)
    assert state.state == "corrupt"
    assert "part-01" in state.detail
    assert not install.target(site, "tiny").exists()


@pytest.mark.slow
def test_runner_rehearsal_writes_the_summary(tmp_path: Path) -> None:
    """Every step but the Spark stages (its own test below): tests collected, benchmarks in
    their smallest form, one JSON summary with device and commit."""
    only = [s.name for s in plan.STEPS if s.name != "spark-stages"]

    def call(out: str) -> dict:
        """One call of the lease, rehearsed, on the state the earlier calls left."""
        return run.check(
            tmp_path / out,
            tmp_path / "state",
            tmp_path / "parts",
            tmp_path / "site",
            budget=600,
            rehearse=True,
            only=only,
        )

    summary = call("out")
    written = json.loads((tmp_path / "out" / "gpu-check.json").read_text())
    assert written == summary
    assert written["schema"] == run.SCHEMA
    assert written["commit"]
    assert written["device"]["name"]  # "none" here, the card's name there
    for name in only:
        record = written["steps"][name]
        assert record["ok"], (name, (tmp_path / "out" / name / "log.txt").read_text()[-3000:])
        if plan.step(name).tests:
            assert record["tests"]["collected"] > 0, name
    assert any(f.startswith("numpy-bench-") for f in written["steps"]["numpy"]["files"])
    # a second call runs nothing again
    again = call("out2")
    assert again["calls"][-1]["ran"] == []


@pytest.mark.slow
def test_spark_stages_capture_and_replay(tmp_path: Path) -> None:
    """Captured through a real Spark session here, replayed without Spark (CPU vs CPU)."""
    pytest.importorskip("pyspark")
    pytest.importorskip("duckdb")
    data, carried = tmp_path / "data", tmp_path / "carried"
    code = (
        "import sys; from pathlib import Path; from benchmarks.gpu_check import stages;"
        "stages.capture(0.01, (1, 3, 6), data=Path(sys.argv[1]), carried=Path(sys.argv[2]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(data), str(carried)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from benchmarks.gpu_check import stages

    result = stages.replay(tmp_path / "out", device="cpu", rounds=1, data=data, carried=carried)
    assert [row["query"] for row in result["stages"]] == ["q1", "q3", "q6"]
    assert all(row["equal"] and row["rows"] > 0 for row in result["stages"])


def test_commit_without_git_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The device's copy of the tree may have no git: the summary still names the commit."""
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("GPU_CHECK_COMMIT", "abc1234")
    assert run.commit() == "abc1234"
