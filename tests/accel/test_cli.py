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


def test_doctor_names_a_shadowing_package_and_the_way_out(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    fake = tmp_path / "elsewhere" / "vector"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("# scikit-hep's vector, say\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCEL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(REPO_ROOT)])
    proc = subprocess.run(
        [sys.executable, "-m", "accel", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),  # not the checkout, which would come first on sys.path
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    clash = [line for line in proc.stdout.splitlines() if line.startswith("name clash:")]
    assert len(clash) == 1, proc.stdout
    assert str(fake) in clash[0]
    assert "way out" in clash[0]
    assert "spark_plugin" not in clash[0]


def test_doctor_explains_the_machine(run_python) -> None:
    proc = run_python("", "-m", "accel", "doctor")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for needle in ("GPU ", "cudf ", "pandas ", "pyspark ", "faiss ", "java ", "what this means"):
        assert needle in text
    assert "pandas        CPU" in text or "pandas        GPU" in text


def test_doctor_says_how_to_install_from_a_checkout_or_a_wheel() -> None:
    from accel import _doctor

    found = dict.fromkeys(_doctor._STACK, None)  # a GPU, and none of the libraries
    lines = {line.split()[0]: line for line in _doctor._meaning(True, found, None)}
    # no package index serves accel-ds yet: the hint is README's, not 'accel-ds[...]'
    assert lines["pandas"].endswith(
        "CPU: install cuDF to use the GPU: "
        "pip install -e '.[cu12]' in a checkout (or 'path/to/accel_ds-*.whl[cu12]')"
    )
    assert "pip install -e '.[vector]' in a checkout" in lines["vector"]
    assert "pip install -e '.[spark]' in a checkout" in lines["spark_plugin"]
    assert not any("accel-ds[" in line for line in lines.values())


def test_gpu_without_gpu_exits_2_with_one_line(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--device", "gpu", str(script))
    assert proc.returncode == 2
    assert proc.stderr.startswith("accel: device='gpu' was asked for, but")
    assert proc.stdout == ""


def test_subcommands_still_work(run_python) -> None:
    assert "usage: python -m accel demo" in run_python("", "-m", "accel", "demo", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus", "x.py"], "unrecognized arguments: --bogus"),
        ([], "nothing to run"),
        (["--device", "tpu", "x.py"], "invalid choice: 'tpu'"),
        (["-m"], "-m: expected a module name"),
        (["-c"], "-c: expected the code to run"),
        (["-c", "pass", "-m", "x"], None),  # -c's REMAINDER takes "-m x" as its argv
    ],
)
def test_usage_errors(run_python, args: list[str], message: str | None) -> None:
    proc = run_python("", "-m", "accel", "--quiet", *args)
    if message is None:
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "usage: python -m accel" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_script_is_one_line(run_python) -> None:
    proc = run_python("", "-m", "accel", "--quiet", "no_such_file.py")
    assert proc.returncode == 2
    assert proc.stderr == "accel: no such script: no_such_file.py\n"


@pytest.mark.parametrize("module", ["nonexistent", "nonexistent.sub", "json.nonexistent"])
def test_missing_module_is_one_line(run_python, module: str) -> None:
    proc = run_python("", "-m", "accel", "-m", module)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"accel: no module named {module!r} (looked in sys.path and the current folder)"
    ]
    assert proc.stdout == ""


def test_the_users_own_error_shows_only_the_users_frames(run_python, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    raise ValueError('from the script')\n\nf()\n")
    proc = run_python("", "-m", "accel", "--quiet", str(bad))
    assert proc.returncode == 1
    assert "ValueError: from the script" in proc.stderr
    assert str(bad) in proc.stderr
    assert "accel/__main__.py" not in proc.stderr
    assert "runpy" not in proc.stderr


def test_code_with_c_gets_its_argv(run_python) -> None:
    proc = run_python(
        "", "-m", "accel", "--quiet", "-c", "import sys; print(__name__, sys.argv)", "a", "--b"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "__main__ ['-c', 'a', '--b']"


def test_options_after_the_script_belong_to_the_script(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--quiet", str(script), "--report", "-m", "x")
    assert proc.returncode == 0, proc.stderr
    assert "argv ['--report', '-m', 'x']" in proc.stdout
    assert "accel report" not in proc.stderr


@pytest.mark.parametrize("device", ["auto", "cpu", "simulated"])
def test_every_accel_device_value_is_accepted(run_python, device: str) -> None:
    from accel import _config

    assert device in _config.DEVICE_CHOICES
    code = "import os, accel; print(os.environ['ACCEL_DEVICE'], accel.report().libraries['pandas'].device)"
    proc = run_python("", "-m", "accel", "--quiet", "--device", device, "-c", code)
    assert proc.returncode == 0, proc.stderr
    env_value, pandas_device = proc.stdout.split()
    assert env_value == device
    # what ACCEL_DEVICE=<device> gives, for the same program
    same = run_python("", "-m", "accel", "--quiet", "-c", code, env={"ACCEL_DEVICE": device})
    assert same.stdout.split()[1] == pandas_device


def test_profile_prints_the_per_call_table(run_python, script: Path) -> None:
    proc = run_python("", "-m", "accel", "--quiet", "--profile", str(script))
    assert proc.returncode == 0, proc.stderr
    assert "accel" in proc.stderr
    assert "pandas" in proc.stderr


def test_line_profile_times_each_line_of_the_users_file(run_python, tmp_path: Path) -> None:
    job = tmp_path / "lines.py"
    job.write_text(
        "import numpy as np\n"
        "x = np.arange(300_000, dtype=np.float64)\n"
        "for _ in range(3):\n"
        "    y = float(np.sqrt(x).sum())\n"
        "print('done', round(y))\n"
    )
    proc = run_python(
        "", "-m", "accel", "--quiet", "--device", "simulated", "--line-profile", str(job)
    )
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout
    table = proc.stderr[proc.stderr.index("accel line profile") :].splitlines()
    assert str(job) in table[0]
    rows = {int(line.split()[0]): line.split() for line in table[3:] if line.split()[0].isdigit()}
    assert sorted(rows) == [1, 2, 3, 4, 5], "every line of the script, and only those"
    assert all(len(line) <= 100 for line in table)
    # line, time s, hits, GPU, CPU, GPU s, CPU s, source
    assert rows[4][2] == "3"
    # the simulated device counts NumPy's calls on big arrays as device calls, on line 4
    assert int(rows[4][3]) + int(rows[4][4]) >= 3
    assert int(rows[1][3]) + int(rows[1][4]) == 0


def test_help_and_version(run_python) -> None:
    assert "usage: python -m accel" in run_python("", "-m", "accel", "--help").stdout
    assert run_python("", "-m", "accel", "--version").stdout.startswith("accel 0.")


def test_console_script_entry_point_is_declared() -> None:
    import tomllib

    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["accel"] == "accel.__main__:main"
