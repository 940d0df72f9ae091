"""Shared Polars building blocks: latest value at T, worst value in a window, event references."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import polars as pl

__all__ = ["KEYS", "event_ref", "latest_at", "window_any", "window_extreme"]

#: Every state table is keyed by patient and evaluation time.
KEYS = ["patient_id", "at"]


def event_ref() -> pl.Expr:
    """A reference to an event for evidence: its id, else ``item@time``."""
    stamp = pl.col("time").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return pl.coalesce(pl.col("event_id"), pl.concat_str(pl.col("item"), pl.lit("@"), stamp))


def _items(
    events: pl.LazyFrame, items: tuple[str, ...], *, attributable_only: bool
) -> pl.LazyFrame:
    selected = events.filter(pl.col("item").is_in(items))
    if attributable_only:
        selected = selected.filter(pl.col("attributable"))
    return selected.with_columns(ref=event_ref())


def latest_at(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    items: tuple[str, ...],
    value: str,
    prefix: str,
    *,
    attributable_only: bool = True,
) -> pl.LazyFrame:
    """The last event of ``items`` at or before each T: ``{prefix}``, ``_time``, ``_end``, ``_ref``.

    ``times`` must have the key columns; the result has one row per row of ``times``.
    """
    source = (
        _items(events, items, attributable_only=attributable_only)
        .select(
            "patient_id",
            pl.col("time").alias(f"{prefix}_time"),
            pl.col(value).alias(prefix),
            pl.col("end").alias(f"{prefix}_end"),
            pl.col("ref").alias(f"{prefix}_ref"),
        )
        .sort(f"{prefix}_time")
    )
    return times.sort("at").join_asof(
        source,
        left_on="at",
        right_on=f"{prefix}_time",
        by="patient_id",
        strategy="backward",
        check_sortedness=False,
    )


def window_extreme(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    items: tuple[str, ...],
    window: timedelta,
    prefix: str,
    how: Literal["max", "min"],
    *,
    attributable_only: bool = True,
) -> pl.LazyFrame:
    """The highest or lowest value of ``items`` in ``[T - window, T]``, its ref and the count.

    Columns ``{prefix}``, ``{prefix}_ref``, ``{prefix}_n``; null value (and n 0) when nothing
    was measured in the window.  Ties are broken by the latest time.
    """
    source = _items(events, items, attributable_only=attributable_only).select(
        "patient_id", "time", pl.col("value_num").alias("_v"), pl.col("ref").alias("_ref")
    )
    joined = (
        times.select(KEYS)
        .join(source, on="patient_id", how="inner")
        .filter((pl.col("time") <= pl.col("at")) & (pl.col("time") >= pl.col("at") - window))
        .sort(["_v", "time"], descending=[how == "max", True])
        .group_by(KEYS)
        .agg(
            pl.col("_v").first().alias(prefix),
            pl.col("_ref").first().alias(f"{prefix}_ref"),
            pl.len().alias(f"{prefix}_n"),
        )
    )
    return times.join(joined, on=KEYS, how="left").with_columns(pl.col(f"{prefix}_n").fill_null(0))


def window_any(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    items: tuple[str, ...],
    window: timedelta,
    prefix: str,
    *,
    codes: tuple[str, ...] | None = None,
) -> pl.LazyFrame:
    """How many attributable events of ``items`` (optionally with these codes) are in the window.

    Columns ``{prefix}_n`` (0 when none: interventions are recorded when given) and
    ``{prefix}_refs`` (a list).
    """
    source = _items(events, items, attributable_only=True)
    if codes is not None:
        source = source.filter(pl.col("value_code").is_in(codes))
    joined = (
        times.select(KEYS)
        .join(source.select("patient_id", "time", pl.col("ref").alias("_ref")), on="patient_id")
        .filter((pl.col("time") <= pl.col("at")) & (pl.col("time") >= pl.col("at") - window))
        .sort("time")
        .group_by(KEYS)
        .agg(pl.len().alias(f"{prefix}_n"), pl.col("_ref").alias(f"{prefix}_refs"))
    )
    return times.join(joined, on=KEYS, how="left").with_columns(
        pl.col(f"{prefix}_n").fill_null(0),
        pl.col(f"{prefix}_refs").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )
