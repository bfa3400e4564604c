"""accel.install()/uninstall()/import accel.auto, each in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

# A machine with a GPU: modules in `present` count as installed, those in `absent` as not, and
# those in `broken` fail on import (None in sys.modules), as a broken CUDA install does.
FAKE_GPU = """
import sys
from accel import _device
_device.probe_gpu = lambda: _device.GPUProbe(True, 1, ("Fake GPU",), "13.0")
_real_has_module = _device.has_module
_device.has_module = lambda name: name in {present} or (name not in {absent} and _real_has_module(name))
for _name in {broken}:
    sys.modules[_name] = None
"""


def fake_gpu(present=(), absent=(), broken=()) -> str:
    return FAKE_GPU.format(present=set(present), absent=set(absent), broken=list(broken))


def _status(code: str, run_python, env: dict[str, str] | None = None):
    proc = run_python(textwrap.dedent(code), env=env)
    return proc


def test_auto_without_gpu_is_a_silent_pass_through(run_python) -> None:
    proc = run_python(
        textwrap.dedent(
            """
            import accel.auto
            import accel, json
            import pandas as pd
            import pandas.core.frame, pandas.core.reshape.merge
            assert accel.is_installed()
            # nothing is patched: the objects are pandas' own
            assert pd.DataFrame is pandas.core.frame.DataFrame
            assert pd.merge is pandas.core.reshape.merge.merge
            df = pd.DataFrame({"k": [1, 2, 1], "v": [1.0, 2.0, 3.0]})
            assert df.groupby("k").v.sum().to_dict() == {1: 4.0, 2: 2.0}
            print(accel.report().to_json())
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["libraries"]["pandas"]["device"] == "cpu"
    assert "libcuda" in report["libraries"]["pandas"]["reason"]
    assert report["calls"] == []
    # one short notice, no warning storm
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("accel: ")
    assert "run unchanged on the CPU" in lines[0]


def test_quiet_suppresses_the_notice(run_python) -> None:
    proc = run_python("import accel.auto", env={"ACCEL_QUIET": "1"})
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_explicit_cpu_prints_nothing(run_python) -> None:
    proc = run_python("import accel; accel.install(device='cpu')")
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_install_is_idempotent_and_uninstall_resets(run_python) -> None:
    proc = run_python(
        textwrap.dedent(
            """
            import accel
            accel.install(quiet=True); accel.install(quiet=True)
            assert accel.is_installed()
            assert set(accel.report().libraries) == {"pandas", "scikit-learn"}
            accel.uninstall()
            assert not accel.is_installed()
            assert accel.report().libraries == {}
            accel.install(quiet=True)
            assert accel.is_installed()
            print("ok")
            """
        )
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_gpu_asked_without_gpu_is_a_clear_error(run_python) -> None:
    proc = run_python("import accel.auto", env={"ACCEL_DEVICE": "gpu"})
    assert proc.returncode != 0
    assert (
        "GPUUnavailableError: ACCEL_DEVICE=gpu was asked for, but no NVIDIA driver" in proc.stderr
    )


def test_strict_without_gpu_refuses_unless_cpu_was_chosen(run_python) -> None:
    proc = run_python("import accel.auto", env={"ACCEL_STRICT": "1"})
    assert proc.returncode != 0
    assert "strict mode is on but pandas would run on the CPU" in proc.stderr
    proc = run_python("import accel.auto", env={"ACCEL_STRICT": "1", "ACCEL_DEVICE": "cpu"})
    assert proc.returncode == 0, proc.stderr


def test_strict_on_the_simulated_device_is_allowed(run_python) -> None:
    # simulated is asked for on purpose, like the CPU; only "auto" landing on the CPU is refused
    proc = run_python(
        "import accel; accel.install(device='simulated', strict=True);"
        "print(sorted(accel.report().libraries))",
        env={"ACCEL_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "pandas" in proc.stdout


def test_unknown_device_value_warns_once_and_runs_on_cpu(run_python) -> None:
    proc = run_python(
        "import accel.auto, accel; print(accel.report().libraries['pandas'].device)",
        env={"ACCEL_DEVICE": "gpuu"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cpu"
    assert proc.stderr.count("ACCEL_DEVICE='gpuu' is not one of") == 1


def test_cudf_that_cannot_start_falls_back_with_reason(run_python) -> None:
    # A GPU is "found" and cuDF "installed", but importing it fails (as with a broken CUDA
    # install): pandas must keep working on the CPU with the reason in the report.
    code = fake_gpu(present={"cudf"}, broken={"cudf"}) + textwrap.dedent(
        """
        import accel
        accel.install()
        import pandas as pd
        assert pd.Series([1, 2]).sum() == 3
        st = accel.report().libraries["pandas"]
        print(st.device, "|", st.reason)
        """
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    device, reason = proc.stdout.strip().split(" | ")
    assert device == "cpu"
    assert reason.startswith("cuDF could not start (ModuleNotFoundError")
    assert "pandas runs on the CPU" in proc.stderr


def test_cudf_that_cannot_start_is_an_error_in_strict_mode(run_python) -> None:
    code = fake_gpu(present={"cudf"}, broken={"cudf"}) + "import accel; accel.install(strict=True)"
    proc = run_python(code)
    assert proc.returncode != 0
    assert "ModuleNotFoundError" in proc.stderr


def test_pandas_imported_first_is_refused_clearly_on_gpu(run_python) -> None:
    code = fake_gpu(present={"cudf"}) + textwrap.dedent(
        """
        import pandas
        import accel
        accel.install()
        print(accel.report().libraries["pandas"].reason)
        try:
            accel.uninstall(); accel.install(strict=True)
        except accel.AccelInstallError as exc:
            print("strict:", exc)
        """
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert "pandas was imported before accel.install()" in proc.stdout
    assert "strict: pandas was imported before" in proc.stdout
    assert proc.stderr.count("import accel.auto") == 1


def test_sklearn_without_cuml_says_so_on_gpu(run_python) -> None:
    code = fake_gpu(absent={"cudf", "cuml"}) + textwrap.dedent(
        """
        import accel
        accel.install(device="auto", quiet=True)
        libs = accel.report().libraries
        print(libs["pandas"].device, libs["pandas"].reason, "|", libs["scikit-learn"].reason)
        """
    )
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    # Without cuDF the resolver keeps pandas on the CPU and says why.
    assert proc.stdout.strip() == "cpu cuDF not installed | cuDF not installed"


_needs_faiss = pytest.mark.skipif(
    importlib.util.find_spec("faiss") is None,
    reason="faiss-cpu is not installed (the [vector] extra)",
)


@_needs_faiss
def test_faiss_stays_faiss_cpu_without_a_gpu(run_python) -> None:
    proc = run_python(
        "import accel.auto, accel, faiss, vector; print(faiss is vector, 'faiss' in accel.report().libraries)",
        env={"ACCEL_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False False"


@_needs_faiss
def test_faiss_resolves_to_vector_on_the_simulated_device(run_python) -> None:
    code = textwrap.dedent(
        """
        import accel.auto, accel
        import faiss, vector, numpy as np
        assert faiss is vector
        index = faiss.IndexFlatL2(8)
        index.add(np.eye(8, dtype="float32"))
        D, I = index.search(np.eye(8, dtype="float32")[:2], 1)
        print(I.ravel().tolist(), float(D.max()), accel.report().libraries["faiss"].engine)
        accel.uninstall()
        import sys
        print("faiss" in sys.modules)
        """
    )
    proc = run_python(code, env={"ACCEL_DEVICE": "simulated", "ACCEL_QUIET": "1"})
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.strip().splitlines()
    assert first == "[0, 1] 0.0 vector (simulated cuVS)"
    assert second == "False"


@_needs_faiss
def test_faiss_imported_first_is_left_alone(run_python) -> None:
    code = "import faiss, accel; accel.install(); print(accel.report().libraries['faiss'].reason)"
    proc = run_python(code, env={"ACCEL_DEVICE": "simulated", "ACCEL_QUIET": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("faiss was imported before accel.install()")


# --- layout: integrations as a table, imports pointing down only ------------------------

ACCEL_ROOT = Path(__file__).resolve().parents[2] / "accel"


def _top_level_imports(path: Path) -> set[str]:
    """Modules ``path`` imports at module level (function-level imports are lazy on purpose)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _module_name(path: Path) -> str:
    parts = path.relative_to(ACCEL_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_accel_never_imports_its_sibling_packages() -> None:
    for path in ACCEL_ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in {"vector", "spark_plugin"}, (path, name)


def test_accel_module_imports_have_no_circle() -> None:
    modules = {_module_name(p): p for p in ACCEL_ROOT.rglob("*.py")}
    graph = {
        name: {m for m in _top_level_imports(path) if m in modules and m != "accel"}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, " -> ".join((*trail, name))
        if name in done:
            return
        for target in graph[name]:
            if target != name and not name.startswith(target + "."):  # a package's own init
                visit(target, (*trail, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())


def test_integrations_table_names_each_integration() -> None:
    from accel import _integrations

    table = {entry.library: entry for entry in _integrations.INTEGRATIONS}
    assert list(table) == ["pandas", "scikit-learn", "numpy", "faiss"]
    assert table["faiss"].target == "vector._alias"  # lives in vector, named, never imported
    assert not table["faiss"].on_cpu  # vector is not even imported for the CPU pass-through
    for entry in _integrations.INTEGRATIONS:
        if entry.library != "faiss":
            module = _integrations.load(entry.target)
            assert module is not None
            assert callable(module.install)
            assert callable(module.uninstall)
    assert _integrations.load("surely_not_a_package_xyz.integration") is None


def test_cpu_install_imports_no_integration_library(run_python) -> None:
    proc = run_python(
        "import sys, accel; accel.install(device='cpu');"
        " print(sorted(m for m in ('vector', 'pandas', 'numpy', 'sklearn', 'faiss')"
        " if m in sys.modules))"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_install_strict_applies_to_accels_libraries_through_the_ledger(run_python) -> None:
    proc = run_python(
        "import accel; from accel import core; accel.install(device='cpu', strict=True);"
        " print(core.ledger.is_strict('pandas'), core.ledger.is_strict('numpy'),"
        " core.ledger.is_strict('spark')); accel.uninstall(); print(core.ledger.is_strict('pandas'))"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "False", "False"]
