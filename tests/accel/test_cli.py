"""``python -m accel``: scripts, modules, --report, doctor, errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import accel
    assert accel.is_installed(), "accel must be installed before the script runs"
    print("name", __name__)
    print("argv", sys.argv[1:])
    print("sum", int(pd.Series(range(10)).sum()))
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0)
    """
)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    return path


def test_runs_a_script_as_main_with_its_arguments(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--quiet", str(script), "--flag", "x")
    assert proc.returncode == 0, proc.stderr
    assert "name __main__" in proc.stdout
    assert "argv ['--flag', 'x']" in proc.stdout
    assert "sum 45" in proc.stdout


def test_propagates_the_script_exit_code(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--quiet", str(script), "3")
    assert proc.returncode == 3


def test_runs_a_module(run_python, tmp_path: Path) -> None:
    (tmp_path / "jobmod.py").write_text(SCRIPT)
    proc = run_python(
        "", "-m", "accel", "--quiet", "-m", "jobmod", "a", env={"PYTHONPATH": str(tmp_path)}
    )
    assert proc.returncode == 0, proc.stderr
    assert "argv ['a']" in proc.stdout


def test_report_and_json_report(run_python, script: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run_python(
        "", "-m", "accel", "--quiet", "--report", "--report-json", str(out), str(script)
    )
    assert proc.returncode == 0, proc.stderr
    assert "accel: libraries" in proc.stderr
    data = json.loads(out.read_text())
    assert data["libraries"]["pandas"]["device"] == "cpu"


def test_report_is_written_even_when_the_script_fails(run_python, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("raise SystemExit('boom')")
    out = tmp_path / "r.json"
    proc = run_python("", "-m", "accel", "--quiet", "--report-json", str(out), str(bad))
    assert proc.returncode == 1
    assert "boom" in proc.stderr
    assert out.exists()


def test_doctor_explains_the_machine(run_python) -> None:
    proc = run_python("", "-m", "accel", "doctor")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for needle in ("GPU ", "cudf ", "pandas ", "pyspark ", "faiss ", "java ", "what this means"):
        assert needle in text
    assert "pandas        CPU" in text or "pandas        GPU" in text


def test_gpu_without_gpu_exits_2_with_one_line(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--device", "gpu", str(script))
    assert proc.returncode == 2
    assert proc.stderr.startswith("accel: device='gpu' was asked for, but")
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus", "x.py"], "unknown option '--bogus'"),
        ([], "nothing to run"),
        (["--device", "tpu", "x.py"], "choose auto, cpu or gpu"),
        (["-m"], "-m needs a value"),
    ],
)
def test_usage_errors(run_python, args: list[str], message: str) -> None:
    proc = run_python("", "-m", "accel", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "usage: python -m accel" in proc.stderr


def test_missing_script(run_python) -> None:
    proc = run_python("", "-m", "accel", "--quiet", "no_such_file.py")
    assert proc.returncode == 2
    assert "no such script: no_such_file.py" in proc.stderr


def test_help_and_version(run_python) -> None:
    assert "usage: python -m accel" in run_python("", "-m", "accel", "--help").stdout
    assert run_python("", "-m", "accel", "--version").stdout.startswith("accel 0.")


def test_console_script_entry_point_is_declared() -> None:
    import tomllib

    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["accel"] == "accel.__main__:main"
