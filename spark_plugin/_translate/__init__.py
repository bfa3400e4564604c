"""Spark's optimized logical plan (JSON) → our IR, after cudf_polars' ``dsl/translate.py``.

``nodes`` (the JSON tree, explain nodes) · ``traversal`` (walks over IR expressions) ·
``exprs`` (expression rules) · ``aggregates`` (aggregate calls and operators) · ``plans``
(operators, the entry point). Each imports only the ones before it.
"""

from __future__ import annotations

from spark_plugin._translate.nodes import ExplainNode, internal_name, short_class, tree
from spark_plugin._translate.plans import Translator
from spark_plugin._translate.traversal import refs

__all__ = ["ExplainNode", "Translator", "internal_name", "refs", "short_class", "tree"]
