"""Progress bars (``tqdm.auto``: terminals and notebooks) for work expected to take a while.

Where the total is known (GPU-path searches in batches, IVF adds in slices) the bar shows a
percentage. faiss's other builds (HNSW adds, k-means training) run in C++ with the GIL released
and report nothing, so their bar shows the elapsed time from a helper thread; the build itself
is untouched, so results are the same with or without a bar. Nothing is shown when stderr is
neither a terminal nor a notebook, or with ``ACCEL_QUIET=1``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from accel import core

__all__ = ["building", "counting", "estimate_seconds", "shows", "slices"]

#: Rough single-machine rates (elements of n*d per second) used only to decide on showing a bar.
_RATES = {"hnsw": 2e6, "ivf_train": 5e8, "ivf_add": 2e8, "flat": float("inf")}
SHOW_AFTER_SECONDS = 1.0
#: A bar with a percentage moves in about this many steps.
STEPS = 20


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")  # never imported here: only a running kernel counts
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _visible() -> bool:
    """Whether a bar would be seen: a terminal or a notebook, and not ACCEL_QUIET."""
    if core.config().quiet:
        return False
    return sys.stderr.isatty() or _in_notebook()


def _bar_class() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def estimate_seconds(kind: str, n: int, d: int, nlist: int = 1) -> float:
    rate = _RATES.get(kind, float("inf"))
    work = n * d * (nlist if kind.startswith("ivf") else 1)
    return work / rate


def shows(expected_seconds: float) -> bool:
    """Whether work of ``expected_seconds`` gets a bar here."""
    return expected_seconds >= SHOW_AFTER_SECONDS and _visible() and _bar_class() is not None


def slices(n: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` pieces of ``range(n)`` for a bar of about :data:`STEPS` steps."""
    step = max(1, -(-n // STEPS))
    for start in range(0, n, step):
        yield start, min(n, start + step)


@contextmanager
def counting(what: str, total: int, unit: str, worth_it: bool) -> Iterator[Callable[[int], None]]:
    """A bar with a percentage over ``total`` ``unit``; the body calls ``tick(done)``.

    ``worth_it`` is the caller's say (e.g. more than one batch); without a visible place to
    draw, ``tick`` does nothing.
    """
    bar_class = _bar_class() if worth_it and _visible() else None
    if bar_class is None:
        yield _no_tick
        return
    # steps are few and slow (device batches, slices of an add): draw each one
    bar = bar_class(
        total=total,
        desc=what,
        unit=f" {unit}",
        file=sys.stderr,
        leave=False,
        mininterval=0,
        miniters=1,
    )
    try:
        yield bar.update
    finally:
        bar.close()


def _no_tick(done: int) -> None:
    return None


@contextmanager
def building(what: str, expected_seconds: float) -> Iterator[None]:
    """Show ``what`` with a running clock while the body runs, if it is worth it."""
    if not shows(expected_seconds):
        yield
        return
    done = threading.Event()
    bar = _bar_class()(
        total=None, desc=what, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False
    )

    def tick() -> None:
        while not done.wait(0.25):
            bar.refresh()

    ticker = threading.Thread(target=tick, name="vector-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()
