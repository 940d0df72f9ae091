"""Change points: the instants at which a graded input can change, and only those.

Every scale reads the clinical state through thresholds and windows (a temperature >= 38 °C in
the last 24 h, an SBP below the age threshold in the last 24 h, a vasopressor running, a lab in
the last 48 h), so a grade can only change where one of those inputs can.  Evaluating the state
at every event instead (7 vital signs every 5 minutes: ~8,000 instants a patient-month) spends
almost all the time on instants where nothing a scale reads moves (issue #16).

The instants, each reported as in :func:`crswatch.state.evaluation_times`:

- **Dense readings** (temperature, SBP) by *window islands*.  Each reading gets a class: the
  side of every threshold it lies on (``>=`` and ``>``, raw and rounded as the scales compare),
  or "charted with another cause", or "no value".  What a window column shows at T, as far as any
  threshold can tell, is the set of classes with a reading in ``[T - window, T]``.  That set
  changes only when a class appears (a reading with no reading of its class in the window before
  it: an island's first reading) or disappears (an island's last reading leaves the window:
  ``last + window``).  Readings inside an island change values a scale never tells apart.
- **Every other item the state reads**: its times, ends and window expiries, as before.
- **Items the state never reads** (heart rate, DBP, MAP, breathing rate, SpO2): none.
- **Derived instants** the windows do not show: the CRS episode's start, onset, fever waiver and
  end, and the first fever since the therapy start (:func:`crswatch.state._fever`); the first
  SBP, and the first SBP below the age threshold, once a high vasopressor dose has been held
  ``high_dose_duration`` (MSKCC refractory hypotension); a vasopressor's ``high_dose_duration``
  mark and the cumulative vasopressor hours a scale grades by; the therapy start; the days on
  which the age in completed years changes (the SBP threshold and the ICANS age path).
- Each patient's first instant, so a trajectory starts where it always did.

Exactness is tested, not assumed: the trajectory from these instants equals the trajectory from
every event on the golden, property and conformance suites and on simulated cohorts
(tests/state/test_change_points.py).  The thresholds come from the scales (the trajectory passes
``thresholds``) and from the state's own rules (the fever threshold, the age thresholds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from functools import cache

import polars as pl

from crswatch.state._common import KEYS, in_patient_order
from crswatch.state._fever import CrsEpisodes, crs_episodes, episode_instants
from crswatch.state._hemodynamics import (
    PRESSORS,
    age_years_at,
    pressor_hours_crossings,
    sbp_threshold,
)
from crswatch.state._neuro import NEURO_ASSESSMENT_ITEMS, NEURO_FINDING_ITEMS
from crswatch.state._organ import ORGAN_ITEMS
from crswatch.state._parameters import StateParameters

__all__ = [
    "DENSE_ITEMS",
    "UNREAD_ITEMS",
    "age_instants",
    "change_points",
    "events_read",
    "state_events",
    "windowed_items",
    "within_horizon",
]

#: Vital signs no state column reads (tests/state/test_change_points.py checks the state's
#: sources never name them): their readings cannot change a grade.
UNREAD_ITEMS = ("dbp", "map", "heart_rate", "resp_rate", "spo2")


def state_events(events: pl.DataFrame) -> pl.DataFrame:
    """The events the state reads: vital signs no state column reads are left out once."""
    return events.filter(~pl.col("item").is_in(UNREAD_ITEMS))


def events_read(events: pl.DataFrame) -> pl.DataFrame:
    """What the state and its change points read of a record, in patient order: the events of
    :func:`state_events`, and each patient's first and last events whatever their item.

    The change points read the unread vital signs only through the record's bounds (its first
    event, and its last, the horizon: ``_horizon``, ``_record_bounds``), so the state, the
    change points and the trajectory of these events are those of the whole record (not the
    exhaustive evaluation, which evaluates at every event; tests/state/test_events_read.py).
    A cohort shard graded from them holds about a third of a monitored record's events
    (docs/decisions/0075).  Filtered lazily, in one chunk: Polars' eager filter of a frame in
    many chunks (the shard reader's) first copies the whole frame into one.
    """
    events = in_patient_order(events)
    # In patient order, a patient's first row has its earliest time and its last row its latest.
    patient = pl.col("patient_id")
    bounds = (patient != patient.shift(1)).fill_null(value=True) | (
        patient != patient.shift(-1)
    ).fill_null(value=True)
    read = events.lazy().filter(~pl.col("item").is_in(UNREAD_ITEMS) | bounds).collect()
    return read.rechunk()


#: Readings taken often enough that evaluating at each one dominates the cost; reduced to
#: window islands per class of value.
DENSE_ITEMS = ("temperature", "sbp")
#: Rounding the scales apply before comparing (crswatch.scales._compare): a class boundary.
_COMPARE_DECIMALS = 9
#: Classes of readings that are not compared by value.
_OTHER_CAUSE = -1
_NO_VALUE = -2

Moment = Callable[[pl.LazyFrame, pl.Expr, pl.Expr | None], pl.LazyFrame]


def windowed_items(params: StateParameters) -> dict[str, timedelta]:
    """Each windowed item and the window it is read through (``[T - window, T]``)."""
    return {
        "temperature": params.fever_window,
        "sbp": params.hypotension_window,
        "fluid_bolus": params.fluid_window,
        "transfusion": params.transfusion_window,
        **dict.fromkeys(ORGAN_ITEMS, params.lab_window),
        "dialysis": params.lab_window,
        **dict.fromkeys(NEURO_ASSESSMENT_ITEMS, params.neuro_window),
        **dict.fromkeys(NEURO_FINDING_ITEMS, params.neuro_finding_window),
    }


@cache
def _sbp_thresholds() -> tuple[float, ...]:
    """Every SBP threshold an age can have (from :func:`sbp_threshold` itself, so they agree)."""
    ages = pl.DataFrame({"age": [None, *(x / 2 for x in range(0, 2 * 130))]}, schema={"age": float})
    values = ages.select(sbp_threshold(pl.col("age")).unique().sort().alias("threshold"))
    return tuple(float(v) for v in values["threshold"])


def _value_class(thresholds: Iterable[float]) -> pl.Expr:
    """A reading's class: how many threshold comparisons it passes (monotone in the value).

    For each threshold, ``>=`` and ``>`` on the raw value and on the value rounded as the scales
    round it; ``<`` and ``<=`` are their negations.  Two readings with the same count lie on the
    same side of every comparison, since each comparison is monotone in the value.
    """
    value = pl.col("value_num")
    rounded = value.round(_COMPARE_DECIMALS)
    cuts = pl.lit(pl.Series(sorted(set(thresholds)), dtype=pl.Float64))
    # Per side: how many thresholds are <= the value (">=" holds) and < it (">" holds).
    passed = [
        cuts.search_sorted(side_value, side=side).cast(pl.Int32)
        for side_value in (value, rounded)
        for side in ("right", "left")
    ]
    return (
        pl.when(~pl.col("attributable"))
        .then(pl.lit(_OTHER_CAUSE))
        .when(value.is_null())
        .then(pl.lit(_NO_VALUE))
        .otherwise(pl.sum_horizontal(passed))
    )


def _island_instants(
    events: pl.LazyFrame,
    params: StateParameters,
    thresholds: Mapping[str, Iterable[float]],
    moment: Moment,
    tick: timedelta,
) -> list[pl.LazyFrame]:
    """First readings of each class's islands, and the instants their last readings leave."""
    windows = windowed_items(params)
    own = {"temperature": (params.fever_threshold_c,), "sbp": _sbp_thresholds()}
    out = []
    for item in DENSE_ITEMS:
        window = windows[item]
        readings = (
            events.filter(pl.col("item") == item)
            .select(
                "patient_id",
                "time",
                _value_class((*own[item], *thresholds.get(item, ()))).alias("_class"),
            )
            .sort("patient_id", "time")
        )
        # Within a patient's class, in time order (a window function keeps the frame's order).
        gap = pl.col("time") - pl.col("time").shift(1)
        after = pl.col("time").shift(-1) - pl.col("time")
        group = ("patient_id", "_class")
        islands = readings.with_columns(
            _first=(gap.over(group) > window).fill_null(True),
            _last=(after.over(group) > window).fill_null(True),
        )
        out.append(moment(islands.filter(pl.col("_first")), pl.col("time"), None))
        out.append(
            moment(
                islands.filter(pl.col("_last")),
                pl.col("time") + window + tick,
                pl.col("time") + window,
            )
        )
    return out


def _refractory_instants(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """The first SBP, and the first SBP below the age threshold, once a high dose is sustained.

    A high dose is sustained ``high_dose_duration`` after a vasopressor change; from then on
    MSKCC's refractory hypotension reads the SBPs measured since (crswatch.state hemodynamics).
    """
    pressors = events.filter(pl.col("item").is_in(PRESSORS))
    marks = (
        pl.concat(
            [
                pressors.select("patient_id", pl.col("time").alias("_mark")),
                pressors.filter(pl.col("end").is_not_null()).select(
                    "patient_id", pl.col("end").alias("_mark")
                ),
            ]
        )
        .with_columns(pl.col("_mark") + params.high_dose_duration)
        .unique()
        .sort("_mark")
    )
    sbp = (
        events.filter((pl.col("item") == "sbp") & pl.col("attributable"))
        .join(patients.select("patient_id", "age_years", "birth_date"), on="patient_id")
        .with_columns(pl.col("time").alias("at"))
        .with_columns(_below=pl.col("value_num") < sbp_threshold(age_years_at()))
        .select("patient_id", "time", "_below")
        .sort("time")
    )
    found = []
    for source in (sbp, sbp.filter(pl.col("_below"))):
        found.append(
            marks.join_asof(
                source.select("patient_id", pl.col("time").alias("at")),
                left_on="_mark",
                right_on="at",
                by="patient_id",
                strategy="forward",
                check_sortedness=False,
            ).select("patient_id", "at")
        )
    return pl.concat(found).drop_nulls()


def age_instants(
    events: pl.LazyFrame, patients: pl.LazyFrame, horizon: pl.LazyFrame
) -> pl.LazyFrame:
    """``patient_id, at``: the midnights (UTC) at which the age in completed years changes.

    Within the record (from the first event or therapy start to ``horizon``'s ``_until``).  Age
    is counted in days from the birth date (crswatch.state hemodynamics ``age_years_at``), so it
    changes with the date; the SBP threshold and the ICANS age path read it at T.  A patient with
    an age and no birth date keeps that age.
    """
    born = patients.filter(pl.col("birth_date").is_not_null())
    first = events.group_by("patient_id").agg(pl.col("time").min().alias("_first"))
    span = (
        born.select("patient_id", "birth_date", "therapy_start")
        .join(first, on="patient_id", how="left")
        .join(horizon, on="patient_id", how="inner")
        .select(
            "patient_id",
            "birth_date",
            pl.min_horizontal("_first", "therapy_start").alias("_from"),
            "_until",
        )
    )
    days = span.select(
        "patient_id",
        "birth_date",
        pl.date_ranges(pl.col("_from").dt.date(), pl.col("_until").dt.date(), interval="1d").alias(
            "_day"
        ),
    ).explode("_day")
    age = ((pl.col("_day") - pl.col("birth_date")).dt.total_days() / 365.25).floor()
    return (
        days.with_columns(_age=age)
        .sort("patient_id", "_day")
        .filter(pl.col("_age") != pl.col("_age").shift(1).over("patient_id"))
        .select("patient_id", pl.col("_day").cast(pl.Datetime("us", "UTC")).alias("at"))
    )


def change_points(
    events: pl.DataFrame,
    patients: pl.DataFrame,
    params: StateParameters,
    horizon: pl.DataFrame,
    *,
    thresholds: Mapping[str, Iterable[float]] | None = None,
    tick: timedelta,
    episodes: CrsEpisodes | None = None,
    read: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``patient_id, at, reported_at``: the instants at which a graded input can change.

    ``horizon`` has ``patient_id, _until`` (the last instant evaluated); ``thresholds`` adds the
    scales' thresholds per dense item (``{"temperature": (38.0,)}``) to the state's own;
    ``episodes`` (``crs_episodes``) and ``read`` (``state_events``): the state's events and
    their episodes, when the caller has them.
    """
    thresholds = thresholds or {}

    def moment(frame: pl.LazyFrame, at: pl.Expr, reported: pl.Expr | None = None) -> pl.LazyFrame:
        reported = at if reported is None else reported
        return frame.select("patient_id", at.alias("at"), reported.alias("reported_at"))

    # One lazy plan, collected once: the instants are many small steps over the same events,
    # which are split by item first, once.
    everything = events.lazy()
    read_frame = state_events(events) if read is None else read
    read_lf = read_frame.lazy()
    sparse = read_frame.filter(~pl.col("item").is_in(DENSE_ITEMS)).lazy()
    patients_lf = patients.lazy()
    horizon_lf = horizon.lazy()
    moments = [
        moment(sparse, pl.col("time")),
        moment(sparse.filter(pl.col("end").is_not_null()), pl.col("end")),
        *_island_instants(read_lf, params, thresholds, moment, tick),
    ]
    for item, window in windowed_items(params).items():
        if item in DENSE_ITEMS:
            continue
        expiring = sparse.filter(pl.col("item") == item)
        moments.append(moment(expiring, pl.col("time") + window + tick, pl.col("time") + window))
    pressor = sparse.filter(pl.col("item").is_in(PRESSORS))
    moments.append(moment(pressor, pl.col("time") + params.high_dose_duration))
    moments.append(moment(pressor_hours_crossings(events, patients, params).lazy(), pl.col("at")))
    moments.append(moment(_refractory_instants(read_lf, patients_lf, params), pl.col("at")))
    if episodes is None:
        episodes = crs_episodes(read_lf, patients_lf, params)
    moments.append(moment(episode_instants(episodes).lazy(), pl.col("at")))
    moments.append(moment(patients_lf, pl.col("therapy_start")))
    first = everything.group_by("patient_id").agg(pl.col("time").min().alias("_first"))
    moments.append(moment(first, pl.col("_first")))
    moments.append(moment(age_instants(everything, patients_lf, horizon_lf), pl.col("at")))
    return within_horizon(moments, horizon_lf).collect()


def within_horizon(moments: list[pl.LazyFrame], horizon: pl.LazyFrame) -> pl.LazyFrame:
    """The instants up to each patient's horizon, once each; an instant that is also an event
    time is reported as that time (the latest of its reported times)."""
    return (
        pl.concat(moments)
        .join(horizon, on="patient_id", how="left")
        .filter(pl.col("at") <= pl.col("_until"))
        .group_by(KEYS)
        .agg(pl.col("reported_at").max())
        .sort(KEYS)
    )
