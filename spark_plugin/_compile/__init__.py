"""Our IR → Polars lazy queries, with Spark's semantics spelled out where Polars differs.

``semantics`` (failing checks, decimals, integer widths, floats) · ``exprs`` (expressions) ·
``aggregates`` (group-bys and their states) · ``plans`` (operators, the entry point). Each
imports only the ones before it.
"""

from __future__ import annotations

from spark_plugin._compile.plans import Compiler
from spark_plugin._compile.semantics import AnsiError

__all__ = ["AnsiError", "Compiler"]
