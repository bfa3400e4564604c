"""%load_ext accel, %%accel.profile, pytest -p accel, and the notebook in examples/."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_ipython_extension_and_profile_magic(run_python) -> None:
    code = textwrap.dedent(
        """
        from IPython.testing.globalipapp import start_ipython
        ip = start_ipython()
        ip.run_line_magic("load_ext", "accel")
        import accel
        assert accel.is_installed()
        ip.run_cell_magic("accel.profile", "", "import pandas as pd\\nx = pd.Series([1, 2, 3]).sum()")
        assert ip.user_ns["x"] == 6
        """
    )
    proc = run_python(code, env={"ACCEL_QUIET": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "accel: libraries" in proc.stdout
    assert "no accelerated calls were counted" in proc.stdout


def test_pytest_plugin_installs_before_conftests(run_python, tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import accel\nassert accel.is_installed(), 'install must precede conftest imports'\n"
        "import pandas\n"
    )
    (tmp_path / "test_sample.py").write_text(
        "import pandas as pd\n\ndef test_sum():\n    assert pd.Series([1, 2]).sum() == 3\n"
    )
    proc = run_python(
        "",
        "-m",
        "pytest",
        "-p",
        "accel",
        "--accel-report",
        "-q",
        "-p",
        "no:cacheprovider",
        str(tmp_path),
        env={"ACCEL_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert "accel report" in proc.stdout
    assert "pandas        CPU  via pandas" in proc.stdout


def test_pytest_plugin_short_summary_without_option(run_python, tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_ok():\n    assert True\n")
    proc = run_python(
        "", "-m", "pytest", "-p", "accel", "-q", "-p", "no:cacheprovider", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "accel: pandas: cpu, scikit-learn: cpu (--accel-report for details)" in proc.stdout


def test_quickstart_notebook_runs_on_cpu() -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(REPO_ROOT / "examples" / "accel_quickstart.ipynb", as_version=4)
    assert "pip" in nb.cells[1].source, "the first code cell is the one-cell install"
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO_ROOT)}}
    ).execute()
    outputs = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    for label in ("blue", "green", "red"):
        assert label in outputs
    assert "accel report" in outputs
    assert "pandas" in outputs
