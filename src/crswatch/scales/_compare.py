"""The one place thresholds are compared: operators as the papers write them.

Values reaching here are canonical and rounded to 12 significant digits at reading; derived
ratios are rounded to 9 decimals before comparison, so float noise (``1.2 - 0.9 >= 0.3``) never
decides a boundary.  Comparisons are Kleene-logical Polars expressions: a missing value gives
null ("cannot tell"), never False.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

__all__ = ["Operator", "compare", "compared_thresholds", "describe", "excluding_other_causes"]

Operator = Literal[">=", ">", "<=", "<", "=="]
_DECIMALS = 9
#: Every threshold a state column is compared with, as the scales are built: change-point
#: evaluation (crswatch.state._changes) must tell apart readings on either side of each.
_COMPARED: dict[str, set[float]] = {}


def compared_thresholds(column: str) -> tuple[float, ...]:
    """The thresholds the scales compare ``column`` with (sorted)."""
    return tuple(sorted(_COMPARED.get(column, ())))


def compare(column: str | pl.Expr, op: Operator, threshold: float) -> pl.Expr:
    """``column op threshold`` as a Polars expression (null when the column is null)."""
    if isinstance(column, str):
        _COMPARED.setdefault(column, set()).add(float(threshold))
    value = pl.col(column) if isinstance(column, str) else column
    value = value.cast(pl.Float64).round(_DECIMALS)
    if op == ">=":
        return value >= threshold
    if op == ">":
        return value > threshold
    if op == "<=":
        return value <= threshold
    if op == "<":
        return value < threshold
    return value == threshold


def describe(name: str, op: Operator, threshold: float, unit: str = "") -> str:
    """``temp_max_c >= 38 Cel``: the comparison as shown in evidence."""
    suffix = f" {unit}" if unit else ""
    return f"{name} {op} {threshold:g}{suffix}"


def excluding_other_causes(column: str, test: pl.Expr) -> pl.Expr:
    """``test`` over an attributable-only ``column``; False when only other causes were charted.

    The state's window columns keep only readings attributable to CRS and count the others in
    ``{column}_other_n``: a reading charted with another cause was measured, so with nothing
    attributable the criterion is not met (False), not undecided (null).
    """
    excluded = pl.col(column).is_null() & (pl.col(f"{column}_other_n") > 0)
    return pl.when(excluded).then(pl.lit(False)).otherwise(test)
