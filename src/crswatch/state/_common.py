"""Shared Polars building blocks: latest value at T, worst value in a window, event references."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "KEYS",
    "event_ref",
    "in_memory",
    "in_patient_order",
    "integer_keys",
    "latest_at",
    "latest_of",
    "window_any",
    "window_extreme",
    "with_ids",
    "with_keys",
]

#: Every state table is keyed by patient and evaluation time.
KEYS = ["patient_id", "at"]


def in_memory() -> pl.Config:
    """A scope in which Polars runs plans on its in-memory engine.

    The engine's plans are many small steps (joins, as-of joins, group-bys) over one patient's
    or one batch's events; the in-memory engine runs them with about a fifth less CPU than the
    streaming default (1 and 20 simulated patients, 5-minute vitals: docs/decisions/0065 §5).
    The setting is restored when the scope ends.  It is Polars' process-wide setting: scopes
    that overlap in threads (the API's) may leave it at in-memory, which chooses the engine
    only and never changes a result.
    """
    return pl.Config(engine_affinity="in-memory")


def in_patient_order(events: pl.DataFrame) -> pl.DataFrame:
    """The events sorted by patient and time, as the frames' contract has them (``to_frames``,
    the readers, the store): checked in one pass, sorted (by patient, time and item, as
    ``to_frames`` sorts) only when they are not.

    The engine relies on it: each patient's readings of an item are then in time order, as
    Polars' as-of joins by patient require ("sorted by the on key within each by group"), with
    no sort of the dense vital signs.
    """
    patient, time = pl.col("patient_id"), pl.col("time")
    previous = patient.shift(1)
    ordered = (patient > previous) | ((patient == previous) & (time >= time.shift(1)))
    if events.height < 2 or events.select(ordered.fill_null(value=True).all()).item():
        return events
    return events.sort("patient_id", "time", "item", maintain_order=True)


def integer_keys(
    patients: pl.DataFrame, events: pl.DataFrame, *others: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame, pl.Series]:
    """The frames with ``patient_id`` replaced by an integer key, and the ids by key.

    The engine joins and groups by patient at every step; integers hash and compare faster
    than text ids (issue #16 point 3).  Keys follow the ids' sorted order, so frames in patient
    order stay in it.  The events' keys are looked up once per run of a patient (the events
    are grouped by patient), not once per event.  ``others``: more ids to key (those of the
    evaluation times).
    """
    runs = events["patient_id"].rle().struct.field("value")
    ids = pl.concat([patients["patient_id"], runs, *others]).unique().sort()
    run_keys = _keys(runs, ids)
    keyed_events = events.with_columns(patient_id=run_keys.gather(events["patient_id"].rle_id()))
    return with_keys(patients, ids), keyed_events, ids


def _keys(column: pl.Series, ids: pl.Series) -> pl.Series:
    keys = pl.int_range(ids.len(), dtype=pl.UInt32, eager=True)
    # Cast: with nothing to map, Polars keeps the input's type.
    return column.replace_strict(ids, keys, return_dtype=pl.UInt32).cast(pl.UInt32)


def with_keys(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """``frame`` with its ``patient_id`` ids as the integer keys of ``integer_keys``."""
    return frame.with_columns(patient_id=_keys(frame["patient_id"], ids))


def with_ids(frame: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """``frame`` with its integer ``patient_id`` keys (``integer_keys``) back as the ids."""
    return frame.with_columns(patient_id=ids.gather(frame["patient_id"]))


@cache
def event_ref(time: str = "time") -> pl.Expr:
    """A reference to an event for evidence: its id, else ``item@time`` (``time``: its column).

    Built once per column name: some thirty parts of the state ask for it at every call.
    """
    stamp = pl.col(time).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
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
    selected = events.filter(pl.col("item").is_in(items))
    if attributable_only:
        selected = selected.filter(pl.col("attributable"))
    source = selected.select(
        "patient_id",
        pl.col("time").alias(f"{prefix}_time"),
        pl.col(value).alias(prefix),
        "item",
        "event_id",
        pl.col("end").alias(f"{prefix}_end"),
    )
    return latest_of(times, source, prefix)


def latest_of(times: pl.LazyFrame, source: pl.LazyFrame, prefix: str) -> pl.LazyFrame:
    """Each T joined with the last row of ``source`` at or before it, and that row's reference.

    ``source`` has ``patient_id``, ``{prefix}_time``, ``item``, ``event_id`` and the columns to
    carry; ``{prefix}_ref`` is made after the join, for the rows found, not for every event of
    the item (a vital sign every 5 minutes).
    """
    return (
        times.sort("at")
        .join_asof(
            source.sort(f"{prefix}_time"),
            left_on="at",
            right_on=f"{prefix}_time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(event_ref(f"{prefix}_time").alias(f"{prefix}_ref"))
        .drop("item", "event_id")
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

    How: the readings of a patient in ``[T - window, T]`` are one run of the time-sorted readings,
    from the first at or after ``T - window`` to the last at or before ``T`` (two as-of joins).
    Counts are differences of running sums; the extreme is a range query on a sparse table
    (each level the extreme of runs twice as long), so each T costs the same whatever the
    window holds.  With vital signs every 5 minutes and a few dozen change points a day this is
    linear in the readings and does not aggregate a window at every reading, as a rolling
    window would (issue #16); pairing every T with every reading would be quadratic.  A few
    times within one window of each other (the bedside, a ward refresh) are paired with their
    windows' readings instead, in one lazy plan (:func:`_window_extreme_joined`, decision 0080).
    """
    import numpy as np  # imported on use: ~0.1 s that start-up without grading need not pay

    keyed = times.select(KEYS).unique().collect()
    # Only the readings some window can hold: those in [first T - window, last T].  At one time
    # (the bedside) that is a day of a month's 5-minute readings; over a whole record (a
    # trajectory) it is all of them.  The counts below are differences of running sums and the
    # extreme a range query, both over a window's own run of readings, so leaving out readings
    # outside every window changes nothing.
    # (Both null when there is no T.)
    first, last = keyed.select(pl.col("at").min().alias("first"), pl.col("at").max()).row(0)
    selected = events.filter(pl.col("item").is_in(items))
    if first is not None and last is not None:
        selected = selected.filter(pl.col("time").is_between(first - window, last))
    # The reference (a string per reading) is made only for the readings that give an extreme.
    chosen = selected.select(
        "patient_id",
        "time",
        "item",
        "event_id",
        pl.col("value_num").alias("_v"),
        (pl.col("attributable") | pl.lit(not attributable_only)).alias("_counts"),
    )
    if (
        first is not None
        and last is not None
        and _few_windows(keyed.height, last - first, window, items)
    ):
        return _window_extreme_joined(times, keyed, chosen, window, prefix, how)
    # In patient and time order already (``in_patient_order``): no sort.
    readings = chosen.collect()
    counts = (f"{prefix}_n", f"{prefix}_other_n")
    if readings.is_empty() or keyed.is_empty():
        empty = keyed.with_columns(
            pl.lit(None, dtype=pl.Float64).alias(prefix),
            pl.lit(None, dtype=pl.String).alias(f"{prefix}_ref"),
            *(pl.lit(0, dtype=pl.UInt32).alias(c) for c in counts),
        )
        return times.join(empty.lazy(), on=KEYS, how="left")
    indexed = readings.with_row_index("_i").with_columns(
        _reading=pl.col("_counts").cast(pl.UInt32).cum_sum(),
        _other=(~pl.col("_counts")).cast(pl.UInt32).cum_sum(),
    )
    by_time = indexed.select("patient_id", "time", "_i")
    bounds = (
        keyed.sort("at")
        .join_asof(
            by_time.rename({"_i": "_hi"}),
            left_on="at",
            right_on="time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .drop("time")
        .with_columns(_since=pl.col("at") - window)
        .sort("_since")
        .join_asof(
            by_time.rename({"_i": "_lo"}),
            left_on="_since",
            right_on="time",
            by="patient_id",
            strategy="forward",
            check_sortedness=False,
        )
        .drop("time", "_since")
        .with_columns(_in=(pl.col("_lo") <= pl.col("_hi")).fill_null(value=False))
    )
    inside = bounds.filter(pl.col("_in"))
    lo = inside["_lo"].to_numpy().astype(np.int64)
    hi = inside["_hi"].to_numpy().astype(np.int64)
    # Values excluded from the extreme (another cause, or none) are NaN, which fmax/fmin skip.
    values = (
        indexed.select(pl.when(pl.col("_counts")).then(pl.col("_v")).cast(pl.Float64))
        .to_series()
        .fill_null(np.nan)
        .to_numpy()
    )
    extreme = _range_extreme(values, lo, hi, np.fmax if how == "max" else np.fmin)
    cum_reading = indexed["_reading"].to_numpy().astype(np.int64)
    cum_other = indexed["_other"].to_numpy().astype(np.int64)
    prior_reading = np.where(lo > 0, cum_reading[np.maximum(lo - 1, 0)], 0)
    prior_other = np.where(lo > 0, cum_other[np.maximum(lo - 1, 0)], 0)
    found = inside.select(KEYS).with_columns(
        pl.Series(prefix, extreme, dtype=pl.Float64).fill_nan(None),
        pl.Series(counts[0], cum_reading[hi] - prior_reading).cast(pl.UInt32),
        pl.Series(counts[1], cum_other[hi] - prior_other).cast(pl.UInt32),
    )
    # The reading that gave the extreme: the latest one of that value at or before T (it lies in
    # the window, since one of that value does), so ties go to the latest time as documented.
    source = readings.filter(pl.col("_counts")).select(
        "patient_id", "time", "item", "event_id", pl.col("_v").alias(prefix)
    )
    refs = (
        found.filter(pl.col(prefix).is_not_null())
        .sort("at")
        .join_asof(
            source,
            left_on="at",
            right_on="time",
            by=["patient_id", prefix],
            strategy="backward",
            check_sortedness=False,
        )
        .select(*KEYS, event_ref().alias(f"{prefix}_ref"))
    )
    state = (
        found.join(refs, on=KEYS, how="left")
        .filter(pl.col(prefix).is_not_null() | (pl.col(counts[1]) > 0))
        .select(*KEYS, prefix, f"{prefix}_ref", *counts)
    )
    return times.join(state.lazy(), on=KEYS, how="left").with_columns(
        pl.col(column).fill_null(0) for column in counts
    )


#: At most this many evaluation times, all within one window of each other, are joined with
#: their windows' readings (:func:`_window_extreme_joined`) rather than run through the range
#: query: the bedside (one time), a ward refresh (24 patients, now and a day before).
_FEW_TIMES = 64


def _few_windows(times: int, span: timedelta, window: timedelta, items: tuple[str, ...]) -> bool:
    """The windows are few and short enough to be joined with their readings.

    Each time then meets at most the readings of two windows (its own, and the span of the
    times), so the join stays small (64 times of 5-minute readings in a 24-hour window: at most
    37,000 rows).  One item only: a patient's two readings of one item at one instant are a
    conflict the readers reject, so the latest reading of the extreme value is unique, as the
    range query's choice of it is.
    """
    return times <= _FEW_TIMES and span <= window and len(items) == 1


def _window_extreme_joined(
    times: pl.LazyFrame,
    keyed: pl.DataFrame,
    readings: pl.LazyFrame,
    window: timedelta,
    prefix: str,
    how: Literal["max", "min"],
) -> pl.LazyFrame:
    """:func:`window_extreme` for a few times: each T joined with the readings of its window.

    ``readings``: ``patient_id, time, item, event_id, _v`` (the value) and ``_counts`` (the
    reading counts: attributable, or every reading when not only attributable ones count).

    The same columns, values and references as the range query (tests/state/
    test_window_extreme.py compares the two), built as one lazy plan: the caller collects it
    with the state's other parts, in parallel, where the range query's steps run one by one
    (a month of 5-minute vital signs at one time: about 8 ms less per grade, docs/decisions/
    0080).
    """
    counts = (f"{prefix}_n", f"{prefix}_other_n")
    counted = pl.col("_counts")
    value = pl.col("_v").filter(counted)
    extreme = value.max() if how == "max" else value.min()
    # The reading that gave the extreme: the latest counted one of that value (ties go to the
    # latest time, as the range query's as-of join picks).
    gave = counted & (pl.col("_v") == extreme)
    found = (
        keyed.lazy()
        .join(readings, on="patient_id")
        .filter(pl.col("time").is_between(pl.col("at") - window, pl.col("at")))
        .group_by(KEYS)
        .agg(
            extreme.alias(prefix),
            event_ref()
            .filter(gave)
            .sort_by(pl.col("time").filter(gave))
            .last()
            .alias(f"{prefix}_ref"),
            counted.sum().cast(pl.UInt32).alias(counts[0]),
            (~counted).sum().cast(pl.UInt32).alias(counts[1]),
        )
        # As the range query: a window whose counted readings have no value, and no reading of
        # another cause, is not measured (n 0).
        .filter(pl.col(prefix).is_not_null() | (pl.col(counts[1]) > 0))
    )
    return times.join(found, on=KEYS, how="left").with_columns(
        pl.col(column).fill_null(0) for column in counts
    )


def _range_extreme(
    values: NDArray[np.float64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
    pick: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
) -> NDArray[np.float64]:
    """``pick`` (``np.fmax``/``np.fmin``) over ``values[lo:hi + 1]`` for each pair (lo <= hi).

    A sparse table: level k holds the extreme of each run of 2**k values; a run of any length is
    covered by two overlapping runs of the largest power of two within it.  Levels are built only
    as long as the longest run asks.
    """
    import numpy as np

    if lo.size == 0:
        return np.empty(0)
    length = hi - lo + 1
    top = int(np.log2(int(length.max())))
    table = [values]
    for level in range(1, top + 1):
        half = 1 << (level - 1)
        previous = table[-1]
        table.append(pick(previous[:-half], previous[half:]))
    level_of = np.log2(length).astype(np.int64)
    out = np.empty(lo.size)
    for level in np.unique(level_of):
        rows = level_of == level
        run = table[int(level)]
        out[rows] = pick(run[lo[rows]], run[hi[rows] - (1 << int(level)) + 1])
    return out


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
