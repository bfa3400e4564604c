"""Our IR → Polars lazy queries, with Spark's semantics spelled out where Polars differs.

``semantics`` (failing checks, decimals, integer widths, floats) · ``exprs`` (expressions, and
``OPS``: the families kept in their own modules, ``strings``, ``dates``, which register there as
they are imported) · ``aggregates`` (group-bys and their states) · ``plans`` (operators, the
entry point). Each imports only the ones before it; this ``__init__`` imports the family
modules, so that every operator is registered before a stage is compiled.
"""

from __future__ import annotations

from spark_plugin._compile import bitwise, casts, dates, strings, timestamps  # noqa: F401
from spark_plugin._compile.plans import Compiler
from spark_plugin._compile.semantics import AnsiError

__all__ = ["AnsiError", "Compiler"]
