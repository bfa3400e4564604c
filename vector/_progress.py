"""A progress line for index builds expected to take over a second (tqdm, terminals only).

faiss builds run in C++ with the GIL released and report no progress, so the bar shows the
elapsed time from a helper thread instead of a percentage; the build itself is untouched, so
results are the same with or without a terminal.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from accel import _device

__all__ = ["building", "estimate_seconds"]

#: Rough single-machine rates (elements of n*d per second) used only to decide on showing a bar.
_RATES = {"hnsw": 2e6, "ivf_train": 5e8, "ivf_add": 2e8, "flat": float("inf")}
SHOW_AFTER_SECONDS = 1.0


def _is_terminal() -> bool:
    return sys.stderr.isatty() and not _device.current_config().quiet


def estimate_seconds(kind: str, n: int, d: int, nlist: int = 1) -> float:
    rate = _RATES.get(kind, float("inf"))
    work = n * d * (nlist if kind.startswith("ivf") else 1)
    return work / rate


@contextmanager
def building(what: str, expected_seconds: float) -> Iterator[None]:
    """Show ``what`` with a running clock while the body runs, if it is worth it."""
    if expected_seconds < SHOW_AFTER_SECONDS or not _is_terminal():
        yield
        return
    try:
        from tqdm import tqdm
    except ImportError:
        yield
        return
    done = threading.Event()
    bar = tqdm(total=None, desc=what, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False)

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
