"""Notebooks fail loudly: a raising ``%%accel.profile`` cell stops nbclient; the quick start is clean.

(``tests/accel/test_integrations.py`` executes ``examples/accel_quickstart.ipynb`` with nbclient,
which fails on any cell error; here the part that made broken notebooks pass.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO_ROOT = Path(__file__).resolve().parents[2]


def _notebook(*cells: str) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def _execute(nb: Any) -> None:
    nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO_ROOT)}},
    ).execute()


def _text(cell: Any) -> str:
    return "\n".join(
        str(out.get("text", ""))
        + str(out.get("data", {}).get("text/plain", ""))
        + " ".join(out.get("traceback", []))
        for out in cell.get("outputs", [])
    )


@pytest.mark.slow
def test_a_raising_profiled_cell_fails_the_notebook_after_its_report() -> None:
    nb = _notebook(
        "import os\nos.environ['ACCEL_QUIET'] = '1'\n%load_ext accel",
        "%%accel.profile\nimport pandas as pd\ntotal = pd.Series([1, 2]).sum()\n"
        "raise ValueError('the cell is broken')",
        "print('the next cell ran')",
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        _execute(nb)
    assert info.value.ename == "ValueError"
    assert "the cell is broken" in info.value.evalue
    profiled, after = nb.cells[1], nb.cells[2]
    assert "accel" in _text(profiled)  # the cell's report came before the error
    assert "the cell is broken" in _text(profiled)
    assert not after.get("outputs"), "nbclient must stop at the failing cell"


@pytest.mark.slow
def test_a_good_profiled_cell_runs_and_the_notebook_goes_on() -> None:
    nb = _notebook(
        "import os\nos.environ['ACCEL_QUIET'] = '1'\n%load_ext accel",
        "%%accel.profile\nimport pandas as pd\ntotal = int(pd.Series([1, 2]).sum())",
        "print('total', total)",
    )
    _execute(nb)
    assert "total 3" in _text(nb.cells[2])


def test_profile_cell_returns_the_cells_error(run_python) -> None:
    code = (
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.run_line_magic('load_ext', 'accel')\n"
        "try:\n"
        "    ip.run_cell_magic('accel.profile', '', 'x = 1\\nraise KeyError(\"gone\")')\n"
        "except KeyError as exc:\n"
        "    print('re-raised', exc)\n"
        "print('x', ip.user_ns['x'])\n"
    )
    proc = run_python(code, env={"ACCEL_QUIET": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "re-raised 'gone'" in proc.stdout
    assert "x 1" in proc.stdout


def test_quickstart_notebook_has_no_tolerated_errors() -> None:
    nb = nbformat.read(REPO_ROOT / "examples" / "accel_quickstart.ipynb", as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        assert "raises-exception" not in tags, "a quick-start cell may not be allowed to fail"
    assert "allow_errors" not in str(nb.metadata)
