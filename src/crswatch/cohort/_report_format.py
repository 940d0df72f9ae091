"""Number formats shared by the HTML and the PDF report, so both print the same figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["miqr", "num", "short"]


def num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def short(value: float | None) -> str:
    """Three significant digits, or a thousands-separated integer from 1,000 on."""
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def miqr(stats: Mapping[str, Any]) -> str:
    """``median [q1–q3] (min–max)``, or a dash when there are no values."""
    if not stats.get("n"):
        return "–"
    return (
        f"{short(stats['median'])} [{short(stats['q1'])}–{short(stats['q3'])}] "
        f"({short(stats['min'])}–{short(stats['max'])})"
    )
