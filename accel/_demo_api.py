"""The contract between ``python -m accel demo`` and the packages that add steps to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One row of the demo table: the same work done plainly and through our package.

    ``plain`` is the baseline the user has today (pandas, plain Spark, faiss-cpu); ``accelerated``
    is the same work through our package. ``same(plain_result, accelerated_result)`` says whether
    the answers agree; ``device()`` is asked after ``accelerated`` ran and names where it ran
    (for example ``"gpu (cuVS)"`` or ``"cpu: no GPU found"``).

    ``setup`` (data, sessions) runs once before the step's first call and ``cleanup`` once after
    the whole demo, both untimed; steps sharing one callable share one call.
    ``engine_differs_on_cpu``: with no GPU the accelerated side still runs another engine
    (spark_plugin: Polars instead of Spark's JVM), so its ratio means something on a CPU too.
    """

    name: str
    plain: Callable[[], Any]
    accelerated: Callable[[], Any]
    same: Callable[[Any, Any], bool]
    device: Callable[[], str]
    setup: Callable[[], None] | None = None
    cleanup: Callable[[], None] | None = None
    engine_differs_on_cpu: bool = False
