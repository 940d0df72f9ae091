"""Hypotension, fluid boluses and vasopressors at T.

- ``sbp_min``: the lowest attributable SBP in ``[T - hypotension_window, T]``;
  ``hypotension`` is ``sbp_min < sbp_threshold`` (False when every SBP in the window was charted
  with another cause: measured, not missing).  Threshold by age at T: < 90 mm Hg above
  10 years; < 70 + 2 x age (completed years) for ages 1-10 (Mahadeo 2019, paediatric CARTOX
  definitions, shared/spec/clinical-criteria.md §1.8); < 70 mm Hg under 1 year (PALS infant
  definition; an interpretation, labelled as such).  Age unknown: the adult threshold, flagged
  in ``age_unknown``.
- Vasopressor rates running at T (``start <= T < end``; a rate holds until the next event of the
  same drug; 0 stops it).  Interventions are recorded when given, so no record means not running.
- ``ne_equivalent_ug_min``: the VASST equation *as printed* in Lee 2014 Table 3 (seed
  003_f311ac7ac5f2c496.txt): norepinephrine (ug/min) + dopamine (ug/kg/min) / 2 + epinephrine
  (ug/min) + phenylephrine (ug/min) / 10 — mixed units on purpose; vasopressin is not in it.
- ``high_dose_now``: Lee 2014 Table 3 — monotherapy norepinephrine >= 20 ug/min, dopamine
  >= 10 ug/kg/min, phenylephrine >= 200 ug/min, epinephrine >= 10 ug/min; on vasopressin:
  norepinephrine equivalent >= 10 ug/min; combination without vasopressin: norepinephrine
  equivalent >= 20 ug/min.  ``high_dose_sustained``: high dose held without a break for at least
  ``high_dose_duration`` up to T ("all doses are required for >= 3 hours"); judged at T from
  what has happened, never from what comes later.
- ``pressor_hours``: cumulative hours with any vasopressor running from therapy start to T
  (MSKCC, Park 2018: "< 24 h" / ">= 24 h").
- ``refractory_hypotension`` (MSKCC, Park 2018: "hypotension refractory to high-dose
  vasopressors"; docs/decisions/0030): while a high dose is sustained at T, an attributable SBP
  below the age threshold measured once the high dose had been held ``high_dose_duration`` and
  within the hypotension window, ``[max(high_dose_since + high_dose_duration, T -
  hypotension_window), T]``: True if any SBP of that period is below the threshold, False if
  SBPs were measured in it and none is, null if none was measured; False without a sustained
  high dose.  ``sbp_on_high_dose`` (and its ``_ref``) is the SBP that decided it: the latest one
  below the threshold, else the latest one of the period.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from crswatch.state._common import KEYS, latest_at, latest_of, window_any, window_extreme
from crswatch.state._parameters import StateParameters

__all__ = [
    "PRESSORS",
    "PRESSOR_HOURS_THRESHOLDS",
    "RATE_COLUMNS",
    "age_years_at",
    "hemodynamic_state",
    "pressor_hours_crossings",
]

PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
RATE_COLUMNS = {
    "norepinephrine": "norepinephrine_ug_min",
    "epinephrine": "epinephrine_ug_min",
    "phenylephrine": "phenylephrine_ug_min",
    "dopamine": "dopamine_ug_kg_min",
    "vasopressin": "vasopressin_u_min",
}
#: Cumulative vasopressor hours a scale grades by (MSKCC, Park 2018: "< 24 h" / ">= 24 h"): the
#: moments ``pressor_hours`` reaches them are change points of a trajectory.
PRESSOR_HOURS_THRESHOLDS = (24.0,)
_NON_VASOPRESSIN = tuple(RATE_COLUMNS[p] for p in PRESSORS if p != "vasopressin")


def age_years_at() -> pl.Expr:
    """Age in years at ``at``: from ``birth_date`` when given, else ``age_years``."""
    from_birth = (pl.col("at").dt.date() - pl.col("birth_date")).dt.total_days() / 365.25
    return pl.coalesce(from_birth, pl.col("age_years"))


def sbp_threshold(age: pl.Expr) -> pl.Expr:
    """SBP below which a patient of this age is hypotensive (mm Hg)."""
    years = age.floor()
    return (
        pl.when(age.is_null())
        .then(90.0)
        .when(age < 1)
        .then(70.0)
        .when(years <= 10)
        .then(70.0 + 2.0 * years)
        .otherwise(90.0)
    )


def pressor_rates(times: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """Each vasopressor's rate running at T (0 when not running), with its event ref."""
    out = times
    running, counts, combined = _rate_steps()
    # The vasopressor records, found once among all the events rather than once per drug.
    pressors = events.filter(pl.col("item").is_in(PRESSORS))
    for drug in PRESSORS:
        column = RATE_COLUMNS[drug]
        latest = latest_at(times.select(KEYS), pressors, (drug,), "value_num", column)
        latest = latest.with_columns(running[drug]).select([*KEYS, column, f"{column}_ref"])
        out = out.join(latest, on=KEYS, how="left")
    return out.with_columns(counts).with_columns(combined)


@cache
def _rate_steps() -> tuple[dict[str, list[pl.Expr]], list[pl.Expr], list[pl.Expr]]:
    """The column steps of :func:`pressor_rates`, built once (they depend on nothing else)."""
    running: dict[str, list[pl.Expr]] = {}
    for drug in PRESSORS:
        column = RATE_COLUMNS[drug]
        on = (pl.col(f"{column}_end").is_null()) | (pl.col(f"{column}_end") > pl.col("at"))
        running[drug] = [
            pl.when(on).then(pl.col(column).fill_null(0.0)).otherwise(0.0).alias(column),
            pl.when(on & (pl.col(column) > 0)).then(pl.col(f"{column}_ref")).alias(f"{column}_ref"),
        ]
    count_excl = pl.sum_horizontal([(pl.col(c) > 0).cast(pl.Int32) for c in _NON_VASOPRESSIN])
    ne_eq = (
        pl.col("norepinephrine_ug_min")
        + pl.col("dopamine_ug_kg_min") / 2
        + pl.col("epinephrine_ug_min")
        + pl.col("phenylephrine_ug_min") / 10
    )
    vasopressin = pl.col("vasopressin_u_min") > 0
    monotherapy_high = (
        (pl.col("norepinephrine_ug_min") >= 20)
        | (pl.col("dopamine_ug_kg_min") >= 10)
        | (pl.col("phenylephrine_ug_min") >= 200)
        | (pl.col("epinephrine_ug_min") >= 10)
    )
    counts = [
        count_excl.alias("pressors_excl_vasopressin"),
        vasopressin.alias("vasopressin_running"),
        ne_eq.alias("ne_equivalent_ug_min"),
    ]
    combined = [
        (pl.col("pressors_excl_vasopressin") + vasopressin.cast(pl.Int32)).alias(
            "pressors_running"
        ),
        pl.when(vasopressin)
        .then(pl.col("ne_equivalent_ug_min") >= 10)
        .when(pl.col("pressors_excl_vasopressin") == 1)
        .then(monotherapy_high)
        .when(pl.col("pressors_excl_vasopressin") >= 2)
        .then(pl.col("ne_equivalent_ug_min") >= 20)
        .otherwise(False)
        .alias("high_dose_now"),
    ]
    return running, counts, combined


def _pressor_course(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """The pressor state at every change point: high-dose run start and cumulative hours."""
    pressor_events = events.filter(pl.col("item").is_in(PRESSORS) & pl.col("attributable"))
    points = (
        pl.concat(
            [
                pressor_events.select("patient_id", pl.col("time").alias("at")),
                pressor_events.filter(pl.col("end").is_not_null()).select(
                    "patient_id", pl.col("end").alias("at")
                ),
            ]
        )
        .unique()
        .sort("patient_id", "at")
    )
    state = (
        pressor_rates(points, events)
        .join(patients.select("patient_id", "therapy_start"), on="patient_id", how="left")
        .sort("patient_id", "at")
        .with_columns(
            _next=pl.col("at").shift(-1).over("patient_id"),
            _run=(pl.col("high_dose_now") != pl.col("high_dose_now").shift(1))
            .fill_null(True)
            .cum_sum()
            .over("patient_id"),
        )
        .with_columns(
            _segment_h=pl.when((pl.col("pressors_running") > 0) & pl.col("_next").is_not_null())
            .then((pl.col("_next") - pl.col("at")).dt.total_seconds() / 3600)
            .otherwise(0.0),
            high_dose_since=pl.when(pl.col("high_dose_now")).then(
                pl.col("at").first().over(["patient_id", "_run"])
            ),
        )
        .with_columns(
            _hours_before=pl.col("_segment_h").cum_sum().over("patient_id") - pl.col("_segment_h")
        )
    )
    return state.select(
        "patient_id",
        pl.col("at").alias("_point"),
        pl.col("high_dose_since"),
        pl.col("_hours_before"),
        (pl.col("pressors_running") > 0).alias("_running_at_point"),
    )


def pressor_hours_crossings(
    events: pl.DataFrame, patients: pl.DataFrame, params: StateParameters
) -> pl.DataFrame:
    """``(patient_id, at)``: when ``pressor_hours`` reaches each of ``PRESSOR_HOURS_THRESHOLDS``.

    Found on the vasopressor course (the segment with a vasopressor running in which the
    cumulative hours pass the threshold), so a trajectory changes when the duration is reached,
    not at the next charted event.
    """
    course = (
        _pressor_course(events.lazy(), patients.lazy(), params)
        .sort("patient_id", "_point")
        .with_columns(_next=pl.col("_point").shift(-1).over("patient_id"))
        .with_columns(
            _segment_h=pl.when(pl.col("_running_at_point") & pl.col("_next").is_not_null())
            .then((pl.col("_next") - pl.col("_point")).dt.total_seconds() / 3600)
            .otherwise(0.0)
        )
    )
    crossings = []
    for hours in PRESSOR_HOURS_THRESHOLDS:
        reached = (
            pl.col("_running_at_point")
            & (pl.col("_hours_before") < hours)
            & (
                pl.col("_next").is_null()
                | (pl.col("_hours_before") + pl.col("_segment_h") >= hours)
            )
        )
        crossings.append(
            course.filter(reached).select(
                "patient_id",
                (
                    pl.col("_point")
                    + pl.duration(
                        microseconds=((hours - pl.col("_hours_before")) * 3.6e9)
                        .round()
                        .cast(pl.Int64)
                    )
                ).alias("at"),
            )
        )
    return pl.concat(crossings).collect()


def _latest_sbp(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, prefix: str, *, low: bool
) -> pl.LazyFrame:
    """The last attributable SBP at or before T (``low``: the last one below its age threshold).

    Columns ``{prefix}``, ``{prefix}_time``, ``{prefix}_ref``; the threshold is the one of the
    patient's age when the SBP was measured.
    """
    readings = (
        events.filter((pl.col("item") == "sbp") & pl.col("attributable"))
        .join(patients.select("patient_id", "age_years", "birth_date"), on="patient_id")
        .with_columns(pl.col("time").alias("at"))
        .with_columns(_below=pl.col("value_num") < sbp_threshold(age_years_at()))
    )
    if low:
        readings = readings.filter(pl.col("_below"))
    source = readings.select(
        "patient_id",
        pl.col("time").alias(f"{prefix}_time"),
        pl.col("value_num").alias(prefix),
        "item",
        "event_id",
    )
    return latest_of(times, source, prefix)


def _refractory(params: StateParameters) -> dict[str, pl.Expr]:
    """``refractory_hypotension`` and the SBP that decided it (see the module docstring)."""
    since = pl.max_horizontal(
        pl.col("high_dose_since") + params.high_dose_duration,
        pl.col("at") - params.hypotension_window,
    )
    sustained = pl.col("high_dose_sustained")
    low_in = sustained & (pl.col("_sbp_low_time") >= since).fill_null(False)
    any_in = sustained & (pl.col("_sbp_last_time") >= since).fill_null(False)
    return {
        "refractory_hypotension": pl.when(~sustained)
        .then(pl.lit(False))
        .when(low_in)
        .then(pl.lit(True))
        .when(any_in)
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean)),
        "sbp_on_high_dose": pl.when(low_in)
        .then(pl.col("_sbp_low"))
        .when(any_in)
        .then(pl.col("_sbp_last")),
        "sbp_on_high_dose_ref": pl.when(low_in)
        .then(pl.col("_sbp_low_ref"))
        .when(any_in)
        .then(pl.col("_sbp_last_ref")),
    }


def hemodynamic_state(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    keyed = times.select(KEYS)
    last_sbp = _latest_sbp(keyed, events, patients, "_sbp_last", low=False)
    low_sbp = _latest_sbp(keyed, events, patients, "_sbp_low", low=True)
    sbp = window_extreme(keyed, events, ("sbp",), params.hypotension_window, "sbp_min", "min")
    fluids = window_any(keyed, events, ("fluid_bolus",), params.fluid_window, "fluid_boluses")
    rates = pressor_rates(keyed, events)
    course = _pressor_course(events, patients, params).sort("_point")
    age = age_years_at()
    return (
        keyed.join(
            patients.select("patient_id", "age_years", "birth_date"), on="patient_id", how="left"
        )
        .with_columns(age_at=age)
        .with_columns(
            sbp_threshold=sbp_threshold(pl.col("age_at")), age_unknown=pl.col("age_at").is_null()
        )
        .join(sbp, on=KEYS, how="left")
        .with_columns(
            # Only readings charted with another cause: measured, and not CRS hypotension.
            hypotension=pl.when(pl.col("sbp_min").is_null() & (pl.col("sbp_min_other_n") > 0))
            .then(False)
            .otherwise(pl.col("sbp_min") < pl.col("sbp_threshold"))
        )
        .join(fluids, on=KEYS, how="left")
        .join(rates, on=KEYS, how="left")
        .sort("at")
        .join_asof(
            course,
            left_on="at",
            right_on="_point",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(
            high_dose_sustained=pl.col("high_dose_now")
            & ((pl.col("at") - pl.col("high_dose_since")) >= params.high_dose_duration).fill_null(
                False
            ),
            pressor_hours=(
                pl.col("_hours_before").fill_null(0.0)
                + pl.when(pl.col("_running_at_point").fill_null(False))
                .then((pl.col("at") - pl.col("_point")).dt.total_seconds() / 3600)
                .otherwise(0.0)
            ),
            high_dose_since=pl.when(pl.col("high_dose_now")).then(pl.col("high_dose_since")),
        )
        .join(last_sbp, on=KEYS, how="left")
        .join(low_sbp, on=KEYS, how="left")
        .with_columns(**_refractory(params))
        .drop(
            "_point",
            "_hours_before",
            "_running_at_point",
            "age_years",
            "birth_date",
            *(f"{p}{s}" for p in ("_sbp_last", "_sbp_low") for s in ("", "_time", "_ref")),
        )
    )
