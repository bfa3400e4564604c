"""Spark SQL type names and the result-type rules Spark applies (decimal precision above all)."""

from __future__ import annotations

import re

from spark_plugin._ir import SparkType

MAX_PRECISION = 38
# Spark keeps at least this many fraction digits when a decimal result would exceed 38 digits
# (spark.sql.decimalOperations.allowPrecisionLoss=true, the default).
MINIMUM_ADJUSTED_SCALE = 6

INTEGRAL = frozenset({"byte", "short", "integer", "long"})
FLOATING = frozenset({"float", "double"})
#: Types a stage can carry; anything else is a reason not to offload.
SUPPORTED = INTEGRAL | FLOATING | {"string", "boolean", "date", "timestamp"}

_DECIMAL = re.compile(r"decimal\((\d+),\s*(-?\d+)\)")

INT_BITS = {"byte": 8, "short": 16, "integer": 32, "long": 64}


def is_decimal(dtype: SparkType) -> bool:
    return dtype.startswith("decimal(")


def decimal_ps(dtype: SparkType) -> tuple[int, int]:
    match = _DECIMAL.fullmatch(dtype)
    if match is None:
        raise ValueError(f"not a decimal type: {dtype}")
    return int(match.group(1)), int(match.group(2))


def decimal(precision: int, scale: int) -> SparkType:
    return f"decimal({precision},{scale})"


def is_supported(dtype: SparkType) -> bool:
    if is_decimal(dtype):
        _, scale = decimal_ps(dtype)
        return scale >= 0
    return dtype in SUPPORTED


def is_numeric(dtype: SparkType) -> bool:
    return dtype in INTEGRAL or dtype in FLOATING or is_decimal(dtype)


def _bounded(precision: int, scale: int) -> SparkType:
    return decimal(min(precision, MAX_PRECISION), min(scale, MAX_PRECISION))


def _adjusted(precision: int, scale: int) -> SparkType:
    """``DecimalType.adjustPrecisionScale`` with precision loss allowed (Spark's default)."""
    if precision <= MAX_PRECISION:
        return decimal(precision, scale)
    int_digits = precision - scale
    min_scale = min(scale, MINIMUM_ADJUSTED_SCALE)
    adjusted_scale = max(MAX_PRECISION - int_digits, min_scale)
    return decimal(MAX_PRECISION, adjusted_scale)


def decimal_result(op: str, left: SparkType, right: SparkType) -> SparkType:
    """Result type of ``left op right`` for two decimals (Spark's DecimalPrecision rules)."""
    p1, s1 = decimal_ps(left)
    p2, s2 = decimal_ps(right)
    if op in ("add", "sub"):
        scale = max(s1, s2)
        return _adjusted(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if op == "mul":
        return _adjusted(p1 + p2 + 1, s1 + s2)
    if op == "div":
        scale = max(MINIMUM_ADJUSTED_SCALE, s1 + p2 + 1)
        return _adjusted(p1 - s1 + s2 + scale, scale)
    raise ValueError(op)


def sum_type(dtype: SparkType) -> SparkType:
    if is_decimal(dtype):
        precision, scale = decimal_ps(dtype)
        return _bounded(precision + 10, scale)
    if dtype in INTEGRAL:
        return "long"
    return "double"


def avg_type(dtype: SparkType) -> SparkType:
    if is_decimal(dtype):
        precision, scale = decimal_ps(dtype)
        return _bounded(precision + 4, scale + 4)
    return "double"


def avg_loses_digits(dtype: SparkType) -> bool:
    """Whether avg's result scale (s + 4) passes the scale of the division we compute it with
    (sum / count at Spark's adjusted division type): Spark keeps the digits we would pad with
    zeros (the fuzzer found an avg of a decimal(38,3) sum off in its last places)."""
    _, s_div = decimal_ps(decimal_result("div", sum_type(dtype), "decimal(20,0)"))
    _, s_out = decimal_ps(avg_type(dtype))
    return s_out > s_div
