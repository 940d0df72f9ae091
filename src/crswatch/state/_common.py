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
    was measured in the window.  Ties are broken by the latest time.  With
    ``attributable_only``, ``{prefix}_other_n`` counts the readings in the window charted with
    another cause: they are excluded from the value but were measured, so a null value with
    other readings is "nothing attributable", not "not measured".

    Why a rolling window rather than joining every T to every reading and filtering: with vital
    signs every 5 minutes that pairing is quadratic in the record's length (a 30-day record pairs
    ~10^4 times with ~10^4 readings) and dominated cohort grading (docs/benchmarks.md).  The
    readings and the evaluation times are stacked and one time-based rolling aggregation, closed
    at both ends like every window here, runs over them; Polars' rolling windows are bounded by
    time values, so rows at the same time share one window whatever their order.
    """
    readings = _items(events, items, attributable_only=False).select(
        "patient_id",
        "time",
        pl.col("value_num").alias("_v"),
        pl.col("ref").alias("_ref"),
        (pl.col("attributable") | pl.lit(not attributable_only)).alias("_counts"),
    )
    source = readings.filter(pl.col("_counts"))
    keyed = times.select(KEYS)
    stacked = pl.concat(
        [
            readings.select(
                "patient_id",
                "time",
                pl.when(pl.col("_counts")).then(pl.col("_v")).alias("_v"),
                pl.col("_counts").cast(pl.UInt32).alias("_reading"),
                (~pl.col("_counts")).cast(pl.UInt32).alias("_other"),
            ),
            keyed.select(
                "patient_id",
                pl.col("at").alias("time"),
                pl.lit(None, dtype=pl.Float64).alias("_v"),
                pl.lit(0, dtype=pl.UInt32).alias("_reading"),
                pl.lit(0, dtype=pl.UInt32).alias("_other"),
            ),
        ]
    ).sort("patient_id", "time")
    extreme = pl.col("_v").max() if how == "max" else pl.col("_v").min()
    rolled = (
        stacked.rolling("time", period=window, closed="both", group_by="patient_id")
        .agg(
            extreme.alias(prefix),
            pl.col("_reading").sum().alias(f"{prefix}_n"),
            pl.col("_other").sum().alias(f"{prefix}_other_n"),
        )
        .unique(["patient_id", "time"])
        .rename({"time": "at"})
    )
    # The reading that gave the extreme: the latest one of that value at or before T (it lies in
    # the window, since one of that value does), so ties go to the latest time as documented.
    counts = (f"{prefix}_n", f"{prefix}_other_n")
    refs = (
        keyed.unique()
        .join(rolled, on=KEYS, how="inner")
        .filter(pl.col(prefix).is_not_null() | (pl.col(f"{prefix}_other_n") > 0))
        .sort("at")
        .join_asof(
            source.select("patient_id", "time", pl.col("_v").alias(prefix), "_ref").sort("time"),
            left_on="at",
            right_on="time",
            by=["patient_id", prefix],
            strategy="backward",
            check_sortedness=False,
        )
        .select(*KEYS, prefix, pl.col("_ref").alias(f"{prefix}_ref"), *counts)
    )
    return times.join(refs, on=KEYS, how="left").with_columns(
        pl.col(column).fill_null(0) for column in counts
    )


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
