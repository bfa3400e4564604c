"""Spark's optimized logical plan (JSON) → our IR, after cudf_polars' ``dsl/translate.py``.

``nodes`` (the JSON tree, explain nodes) · ``traversal`` (walks over IR expressions) ·
``exprs`` (expression rules, and ``RULES``: the families kept in their own modules, ``strings``,
``dates``, which register there as they are imported) · ``aggregates`` (aggregate calls and
operators) · ``plans`` (operators, the entry point). Each imports only the ones before it; this
``__init__`` imports the family modules, so that every rule is registered before a plan is read.
"""

from __future__ import annotations

from spark_plugin._translate import bitwise, casts, dates, strings, timestamps  # noqa: F401
from spark_plugin._translate.nodes import ExplainNode, internal_name, short_class, tree
from spark_plugin._translate.plans import Translator
from spark_plugin._translate.traversal import refs

__all__ = ["ExplainNode", "Translator", "internal_name", "refs", "short_class", "tree"]
