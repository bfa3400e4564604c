"""``python -m accel doctor``: what this machine has, and what that means for each package."""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from importlib import metadata

from accel import _config, _device, _stacks

_STACK = _stacks.DISTRIBUTIONS


def _ready(stack: str, found: dict[str, str | None]) -> bool:
    """Whether every module ``stack``'s GPU path needs is installed (the resolver's table)."""
    return all(found.get(module) for module in _stacks.stack(stack).needs)


def _version(module: str) -> str | None:
    """The installed version of ``module``, read from package metadata (nothing is imported)."""
    if not _device.has_module(module):
        return None
    for dist in _STACK.get(module, (module,)):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "installed"


def _java() -> str | None:
    java = shutil.which("java")
    if java is None:
        return None
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{java} (did not answer: {exc})"
    first = (out.stderr or out.stdout).strip().splitlines()
    return first[0] if first else java


def _meaning(gpu: bool, found: dict[str, str | None], java: str | None) -> list[str]:
    lines = []
    if gpu and _ready("pandas", found):
        lines.append("pandas        GPU: cudf.pandas, per-call fallback to pandas")
    elif gpu:
        lines.append(
            f"pandas        CPU: install cuDF to use the GPU: {_device.install_hint('cu12')}"
        )
    else:
        lines.append("pandas        CPU: unchanged pandas (no GPU)")
    if gpu and _ready("numpy", found):
        lines.append("numpy         GPU: accel.numpy on CuPy, per-call fallback to NumPy")
    else:
        lines.append(
            "numpy         CPU: " + ("install CuPy for the GPU" if gpu else "unchanged (no GPU)")
        )
    if gpu and _ready("sklearn", found):
        lines.append("scikit-learn  GPU: cuml.accel")
    else:
        lines.append(
            "scikit-learn  CPU: " + ("install cuML for the GPU" if gpu else "unchanged (no GPU)")
        )
    engine = (
        "GPU: cudf-polars"
        if gpu and _ready("spark", found)
        else ("CPU: Polars engine" if found["polars"] else "off: Polars not installed")
    )
    if not found["pyspark"]:
        lines.append(f"spark_plugin  off: pyspark not installed: {_device.install_hint('spark')}")
    elif java is None:
        lines.append("spark_plugin  off: Java not found (Spark needs a JDK 17 or 21)")
    else:
        lines.append(f"spark_plugin  stage engine {engine}")
    if gpu and _ready("vector", found):
        lines.append("vector        GPU: cuVS")
    elif found["faiss"]:
        missing = [m for m in _stacks.stack("vector").needs if not found.get(m)]
        why = f" (the GPU path needs {', '.join(missing)})" if gpu and missing else ""
        lines.append(f"vector        CPU: faiss-cpu{why}")
    else:
        lines.append(
            f"vector        off: faiss-cpu not installed: {_device.install_hint('vector')}"
        )
    return lines


def doctor() -> str:
    """A readable account of the GPU, the driver, the libraries, and what they mean."""
    probe = _device.probe_gpu()
    config = _config.config()
    out = [
        f"accel doctor — Python {platform.python_version()} on {platform.system()} {platform.machine()}",
        "",
    ]
    if probe.available:
        out.append(f"GPU           {probe.count} found: {', '.join(probe.names)}")
        out.append(f"driver        supports CUDA {probe.driver_cuda_version or '?'}")
    else:
        out.append(f"GPU           none usable: {probe.reason}")
    found = {module: _version(module) for module in _STACK}
    for module, version in found.items():
        out.append(f"{module:<13} {version or 'not installed'}")
    java = _java()
    out.append(f"{'java':<13} {java or 'not found'}")
    out.append("")
    out.append(f"ACCEL_DEVICE  {config.device}   ACCEL_STRICT {int(config.strict)}")
    for problem in config.problems:
        out.append(f"  warning: {problem}")
    try:
        resolution = _device.resolve_stack("pandas")
        out.append(f"resolved      {resolution.device.value}: {resolution.reason}")
    except _device.GPUUnavailableError as exc:
        out.append(f"resolved      error: {exc}")
    out.append("")
    out.append("what this means")
    gpu = probe.available and config.device in ("auto", "gpu")
    out.extend("  " + line for line in _meaning(gpu, found, java))
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(doctor())
