"""Every ACCEL_* environment variable, parsed once into a frozen dataclass."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = ["Config", "ConfigWarning", "config", "load", "reload_config"]

DEVICE_CHOICES: Final = ("auto", "cpu", "gpu", "simulated")
RMM_MODES: Final = ("pool", "async", "cuda", "managed", "managed_pool")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


class ConfigWarning(UserWarning):
    """An ACCEL_* variable had a value we could not use; a safe default was taken instead."""


@dataclass(frozen=True, slots=True)
class Config:
    """What the environment asked for. Built by :func:`load`; never mutated."""

    device: str = "auto"
    strict: bool = False
    quiet: bool = False
    rmm_mode: str = "pool"
    #: Arrays with fewer elements than this stay on NumPy (see accel's NumPy placement policy).
    min_gpu_elements: int = 100_000
    #: Whether ACCEL_DEVICE was set (the resolver says where a device choice came from).
    device_from_env: bool = field(default=False, compare=False)
    #: Every problem met while parsing, as one-line messages (already warned once).
    problems: tuple[str, ...] = field(default=(), compare=False)


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        problems.append(f"{name}={env[name]!r} is not a yes/no value (use 1 or 0); taking 0")
    return False


def load(env: Mapping[str, str] | None = None, *, warn: bool = True) -> Config:
    """Parse the ACCEL_* variables of ``env`` (default: ``os.environ``).

    Bad values never raise: each one produces a one-line :class:`ConfigWarning` and the
    safe default (for the device that is the CPU, so nothing runs on a device nobody chose).
    """
    env = os.environ if env is None else env
    problems: list[str] = []

    device = env.get("ACCEL_DEVICE", "auto").strip().lower() or "auto"
    if device not in DEVICE_CHOICES:
        problems.append(
            f"ACCEL_DEVICE={env['ACCEL_DEVICE']!r} is not one of {', '.join(DEVICE_CHOICES)}; "
            "running on the CPU"
        )
        device = "cpu"

    rmm_mode = env.get("ACCEL_RMM_MODE", "pool").strip().lower() or "pool"
    if rmm_mode not in RMM_MODES:
        problems.append(
            f"ACCEL_RMM_MODE={env['ACCEL_RMM_MODE']!r} is not one of {', '.join(RMM_MODES)}; "
            "using 'pool'"
        )
        rmm_mode = "pool"

    min_gpu_elements = 100_000
    raw_min = env.get("ACCEL_MIN_GPU_ELEMENTS", "").strip()
    if raw_min:
        try:
            min_gpu_elements = int(raw_min.replace("_", ""))
            if min_gpu_elements < 0:
                raise ValueError(raw_min)
        except ValueError:
            problems.append(
                f"ACCEL_MIN_GPU_ELEMENTS={raw_min!r} is not a non-negative integer; using 100000"
            )
            min_gpu_elements = 100_000

    config = Config(
        device=device,
        device_from_env="ACCEL_DEVICE" in env,
        strict=_flag(env, "ACCEL_STRICT", problems),
        quiet=_flag(env, "ACCEL_QUIET", problems),
        rmm_mode=rmm_mode,
        min_gpu_elements=min_gpu_elements,
        problems=tuple(problems),
    )
    if warn:
        for problem in problems:
            warnings.warn(problem, ConfigWarning, stacklevel=2)
    return config


_SNAPSHOT: list[Config] = []
_SNAPSHOT_LOCK = threading.Lock()


def config() -> Config:
    """The process's configuration: ``os.environ`` parsed on first use, then never again.

    Everything that reads an ACCEL_* setting reads it here, so one process sees one answer
    however late it asks. :func:`reload_config` re-reads the environment (tests do).
    """
    if not _SNAPSHOT:
        with _SNAPSHOT_LOCK:
            if not _SNAPSHOT:
                _SNAPSHOT.append(load(warn=True))
    return _SNAPSHOT[0]


def reload_config() -> Config:
    """Parse ``os.environ`` again (for tests, and for programs that change ACCEL_* on purpose)."""
    with _SNAPSHOT_LOCK:
        _SNAPSHOT[:] = [load(warn=True)]
        return _SNAPSHOT[0]


def invalidate() -> None:
    """Forget the snapshot; the next :func:`config` call parses the environment again."""
    with _SNAPSHOT_LOCK:
        _SNAPSHOT.clear()
