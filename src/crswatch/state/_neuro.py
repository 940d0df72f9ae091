"""The neurological state at T for ICANS: ICE, CAPD, consciousness, findings, the age path.

Time semantics and rules (docs/decisions/0010-icans.md; shared/spec/clinical-criteria.md §2):

- **ICE** is the latest assessment in ``[T - neuro_window, T]``: every ICE event (``ice_score``
  and the five items) with that time.  A total that was given is used as written; otherwise the
  items are added up.  An item that is ``not_assessed`` (or absent from an itemised assessment)
  is never counted as 0 or as full marks: the total becomes a range, ``ice_low`` (item at 0) to
  ``ice_high`` (item at its maximum), ``ice_score`` is null and ``ice_score_missing`` names the
  items.  ``ice_score`` given as ``not_assessed`` without items is the range 0-10.
- **CAPD** is the latest ``capd_score`` in the window (``not_assessed`` keeps ``capd_status``).
- **Consciousness** is the latest record in the window.  ``consciousness_basis`` says how it may
  be used: ``recorded``; ``other_cause`` (``cause: other``) or ``sedation`` (a ``sedation`` event
  true and not ended at the record's time): excluded, ASTCT 2019 footnote † ("attributable to no
  other cause (eg, no sedating medication)"); ``assumed_not_depressed``: none charted but an ICE
  with at least 1 point or a scored CAPD was completed in the window, and
  ``consciousness_from_assessment`` is set (the result warns).  ICE or CAPD recorded under
  sedation has basis ``sedation`` (it can still rule ICANS out, never in).
- **Findings** count in ``[T - neuro_finding_window, T]``, or while running when recorded with an
  ``end``.  Seizures: the most severe attributable seizure in the window.  Motor weakness and
  cerebral oedema: the latest record of the item at or before T (a later ``none`` replaces an
  earlier finding), if still counting.  ICP signs: every attributable sign counting at T.
  Oedema and ICP signs are excluded while an intracranial haemorrhage is recorded (ASTCT 2019
  footnote §: "Intracranial hemorrhage with or without associated edema ... is excluded").
- **Age path**: ``adult`` (ICE) from 12 years, ``child`` (CAPD) under 12, by the age at T; a
  patient of 12 or more with only a CAPD in the window is graded on the CAPD path (ASTCT 2019
  allows CAPD for older patients with developmental delay).  Age unknown: the path of the only
  assessment kind recorded (``assumed_*``), else none (not assessable).
- **Assessment frequency**: hours since the last ICE or CAPD record, ``not_assessed`` included
  (a documented attempt), as ``neuro_assessment_gap_hours`` (from the therapy start if none) and
  ``neuro_assessment_overdue`` when longer than ``neuro_assessment_interval``; whether CRS is
  active is decided by the grading layer, which owns the scales.
- ``icans_onset_at``: the first attributable neurological abnormality at or after the therapy
  start (ICANS grade 5 needs an ICANS to have died of).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from crswatch.state._common import KEYS, event_ref
from crswatch.state._hemodynamics import age_years_at
from crswatch.state._parameters import StateParameters
from crswatch.timeline import NOT_ASSESSED

__all__ = [
    "CONSCIOUSNESS_LEVELS",
    "ICE_ITEM_POINTS",
    "NEURO_ASSESSMENT_ITEMS",
    "NEURO_FINDING_ITEMS",
    "SEIZURE_SEVERITY",
    "neuro_state",
]

#: ICE items and their maximum points (ASTCT 2019; clinical-criteria.md §2.1).
ICE_ITEM_POINTS = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 1,
    "ice_writing": 1,
    "ice_attention": 1,
}
_ICE_EVENTS = ("ice_score", *ICE_ITEM_POINTS)
#: Levels of consciousness, from normal to the most depressed.
CONSCIOUSNESS_LEVELS = (
    "alert",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_to_tactile",
    "unarousable",
)
#: Seizure codes by severity: 1 resolves (ASTCT grade 3), 2 prolonged or repetitive (grade 4).
SEIZURE_SEVERITY = {
    "focal_resolved": 1,
    "generalized_resolved": 1,
    "nonconvulsive_resolved": 1,
    "prolonged": 2,
    "repetitive": 2,
}
NEURO_ASSESSMENT_ITEMS = (*_ICE_EVENTS, "capd_score", "consciousness")
NEURO_FINDING_ITEMS = (
    "seizure",
    "motor_weakness",
    "cerebral_edema",
    "icp_sign",
    "tremor",
    "myoclonus",
)
_ADULT_AGE = 12.0


def _with_sedation(frame: pl.LazyFrame, events: pl.LazyFrame, time_col: str) -> pl.LazyFrame:
    """Add ``_sedated``: a ``sedation`` event true, and not ended, at ``time_col``."""
    sedation = (
        events.filter(pl.col("item") == "sedation")
        .select(
            "patient_id",
            pl.col("time").alias("_sed_time"),
            pl.col("value_bool").alias("_sed_on"),
            pl.col("end").alias("_sed_end"),
        )
        .sort("_sed_time")
    )
    return (
        frame.sort(time_col)
        .join_asof(
            sedation,
            left_on=time_col,
            right_on="_sed_time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(
            _sedated=pl.col("_sed_on").fill_null(False)
            & (pl.col("_sed_end").is_null() | (pl.col("_sed_end") > pl.col(time_col)))
        )
        .drop("_sed_time", "_sed_on", "_sed_end")
    )


def _latest_within(
    times: pl.LazyFrame, source: pl.LazyFrame, time_col: str, params: StateParameters
) -> pl.LazyFrame:
    """The latest ``source`` row at or before each T and no older than ``neuro_window``."""
    return times.sort("at").join_asof(
        source.sort(time_col),
        left_on="at",
        right_on=time_col,
        by="patient_id",
        strategy="backward",
        tolerance=params.neuro_window,
        check_sortedness=False,
    )


def _basis(attributable: str) -> pl.Expr:
    return (
        pl.when(~pl.col(attributable))
        .then(pl.lit("other_cause"))
        .when(pl.col("_sedated"))
        .then(pl.lit("sedation"))
        .otherwise(pl.lit("assessed"))
    )


def _ice_assessments(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per ICE assessment (patient, time): the total's bounds and how it was obtained."""
    aggs, bounds, missing, chosen = _ice_steps()
    ice = events.filter(pl.col("item").is_in(_ICE_EVENTS)).with_columns(ref=event_ref())
    grouped = ice.group_by("patient_id", "time").agg(aggs)
    return (
        _with_sedation(grouped, events, "time")
        .with_columns(bounds)
        .with_columns(missing)
        .select(chosen)
    )


@cache
def _ice_steps() -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr], list[str]]:
    """The steps of :func:`_ice_assessments`, built once (they depend on nothing but the ICE
    items): the aggregation per assessment, the bounds and source, what is missing, the
    columns kept."""
    aggs = [
        pl.col("value_num").filter(pl.col("item") == "ice_score").first().alias("_total"),
        *[
            pl.col("value_num").filter(pl.col("item") == name).first().alias(f"_{name}")
            for name in ICE_ITEM_POINTS
        ],
        pl.col("item").is_in(list(ICE_ITEM_POINTS)).any().alias("_has_items"),
        pl.col("attributable").all().alias("_ice_attr"),
        pl.col("ref").sort().alias("ice_score_refs"),
    ]
    items = [pl.col(f"_{name}") for name in ICE_ITEM_POINTS]
    known = pl.sum_horizontal(items)
    unknown_max = pl.sum_horizontal(
        [
            pl.when(pl.col(f"_{name}").is_null()).then(points).otherwise(0)
            for name, points in ICE_ITEM_POINTS.items()
        ]
    )
    complete = pl.all_horizontal([item.is_not_null() for item in items])
    has_total = pl.col("_total").is_not_null()
    unassessed = pl.concat_list(
        [pl.when(pl.col(f"_{name}").is_null()).then(pl.lit(name)) for name in ICE_ITEM_POINTS]
    ).list.drop_nulls()

    def shown(name: str, points: int) -> pl.Expr:
        label = name.removeprefix("ice_")
        return (
            pl.when(pl.col(f"_{name}").is_null())
            .then(pl.lit(f"{label} not assessed"))
            .otherwise(pl.format(f"{label} {{}}/{points}", pl.col(f"_{name}").cast(pl.Int64)))
        )

    bounds = dict(
        ice_time=pl.col("time"),
        ice_low=pl.when(has_total).then(pl.col("_total")).otherwise(known).cast(pl.Int64),
        ice_high=pl.when(has_total)
        .then(pl.col("_total"))
        .otherwise(known + unknown_max)
        .cast(pl.Int64),
        ice_score=pl.when(has_total)
        .then(pl.col("_total"))
        .when(complete)
        .then(known)
        .cast(pl.Int64),
        ice_source=pl.when(has_total)
        .then(pl.lit("total"))
        .when(pl.col("_has_items"))
        .then(pl.lit("items"))
        .otherwise(pl.lit(NOT_ASSESSED)),
        ice_items=pl.when(pl.col("_has_items")).then(
            pl.concat_str(
                [shown(name, points) for name, points in ICE_ITEM_POINTS.items()],
                separator=", ",
            )
        ),
        ice_items_disagree=has_total & complete & (known != pl.col("_total")),
        ice_basis=_basis("_ice_attr"),
    )
    missing = dict(
        ice_score_missing=pl.when(pl.col("ice_basis") == "sedation")
        .then(pl.lit(["ice_score (not under sedation)"]))
        .when(has_total | complete)
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .when(~pl.col("_has_items"))
        .then(pl.lit(["ice_score"]))
        .otherwise(unassessed)
    )
    chosen = [
        "patient_id",
        "ice_time",
        "ice_low",
        "ice_high",
        "ice_score",
        "ice_source",
        "ice_items",
        "ice_items_disagree",
        "ice_basis",
        "ice_score_missing",
        "ice_score_refs",
    ]
    return (
        aggs,
        [e.alias(n) for n, e in bounds.items()],
        [e.alias(n) for n, e in missing.items()],
        chosen,
    )


def _capd_assessments(events: pl.LazyFrame) -> pl.LazyFrame:
    capd = events.filter(pl.col("item") == "capd_score").with_columns(ref=event_ref())
    return (
        _with_sedation(capd, events, "time")
        .with_columns(
            capd_status=pl.when(pl.col("value_code") == NOT_ASSESSED)
            .then(pl.lit(NOT_ASSESSED))
            .otherwise(pl.lit("scored")),
            capd_basis=_basis("attributable"),
        )
        .select(
            "patient_id",
            pl.col("time").alias("capd_time"),
            pl.col("value_num").alias("capd_score"),
            "capd_status",
            "capd_basis",
            pl.when(pl.col("capd_basis") == "sedation")
            .then(pl.lit(["capd_score (not under sedation)"]))
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
            .alias("capd_score_missing"),
            pl.col("ref").alias("capd_score_ref"),
        )
    )


def _consciousness_records(events: pl.LazyFrame) -> pl.LazyFrame:
    records = events.filter(pl.col("item") == "consciousness").with_columns(ref=event_ref())
    return (
        _with_sedation(records, events, "time")
        .with_columns(_loc_basis=_basis("attributable"))
        .select(
            "patient_id",
            pl.col("time").alias("consciousness_time"),
            pl.col("value_code").alias("_loc_code"),
            pl.col("_loc_basis"),
            pl.col("ref").alias("consciousness_ref"),
        )
    )


def _counting(params: StateParameters) -> pl.Expr:
    """A finding recorded at ``time`` counts at ``at``: in the window, or running to its end."""
    return (pl.col("time") <= pl.col("at")) & (
        pl.when(pl.col("end").is_null())
        .then(pl.col("time") >= pl.col("at") - params.neuro_finding_window)
        .otherwise(pl.col("end") > pl.col("at"))
    )


def _seizures(keyed: pl.LazyFrame, events: pl.LazyFrame, params: StateParameters) -> pl.LazyFrame:
    seizures = (
        events.filter(pl.col("item") == "seizure")
        .with_columns(ref=event_ref())
        .select("patient_id", "time", "end", "attributable", "value_code", "ref")
    )
    severity = pl.col("value_code").replace_strict(SEIZURE_SEVERITY, default=0)
    joined = (
        keyed.join(seizures, on="patient_id", how="inner")
        .filter(_counting(params))
        .with_columns(_severity=pl.when(pl.col("attributable")).then(severity).otherwise(-1))
        .sort(["_severity", "time"], descending=[True, True])
        .group_by(KEYS)
        .agg(
            pl.col("value_code").filter(pl.col("attributable")).first().alias("seizure"),
            pl.col("ref").filter(pl.col("attributable")).alias("seizure_refs"),
            (~pl.col("attributable")).sum().alias("seizure_excluded_n"),
        )
    )
    return keyed.join(joined, on=KEYS, how="left").with_columns(
        seizure=pl.col("seizure").fill_null("none"),
        seizure_refs=pl.col("seizure_refs").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        seizure_excluded_n=pl.col("seizure_excluded_n").fill_null(0).cast(pl.Int64),
    )


def _latest_finding(
    keyed: pl.LazyFrame, events: pl.LazyFrame, item: str, params: StateParameters
) -> pl.LazyFrame:
    """``{item}`` (code or ``none``), ``{item}_ref``, ``{item}_excluded`` (cause other)."""
    source = (
        events.filter(pl.col("item") == item)
        .with_columns(ref=event_ref())
        .select(
            "patient_id",
            "time",
            "end",
            pl.col("value_code").alias("_code"),
            pl.col("attributable").alias("_attr"),
            "ref",
        )
        .sort("time")
    )
    latest = keyed.sort("at").join_asof(
        source,
        left_on="at",
        right_on="time",
        by="patient_id",
        strategy="backward",
        check_sortedness=False,
    )
    counts = pl.col("time").is_not_null() & _counting(params)
    present = counts & (pl.col("_code") != "none")
    return latest.select(
        *KEYS,
        pl.when(counts & pl.col("_attr"))
        .then(pl.col("_code"))
        .otherwise(pl.lit("none"))
        .alias(item),
        pl.when(counts & pl.col("_attr")).then(pl.col("ref")).alias(f"{item}_ref"),
        pl.when(present & ~pl.col("_attr")).then(pl.col("_code")).alias(f"{item}_excluded"),
    )


def _icp_signs(keyed: pl.LazyFrame, events: pl.LazyFrame, params: StateParameters) -> pl.LazyFrame:
    signs = (
        events.filter(pl.col("item") == "icp_sign")
        .with_columns(ref=event_ref())
        .select("patient_id", "time", "end", "attributable", "value_code", "ref")
    )
    joined = (
        keyed.join(signs, on="patient_id", how="inner")
        .filter(_counting(params))
        .sort("time", descending=True)
        .group_by(KEYS)
        .agg(
            pl.col("value_code")
            .filter(pl.col("attributable"))
            .unique(maintain_order=True)
            .alias("icp_sign"),
            pl.col("ref").filter(pl.col("attributable")).alias("icp_sign_refs"),
            (~pl.col("attributable")).sum().alias("icp_sign_excluded_n"),
        )
    )
    empty = pl.lit([], dtype=pl.List(pl.String))
    return keyed.join(joined, on=KEYS, how="left").with_columns(
        icp_sign=pl.col("icp_sign").fill_null(empty),
        icp_sign_refs=pl.col("icp_sign_refs").fill_null(empty),
        icp_sign_excluded_n=pl.col("icp_sign_excluded_n").fill_null(0).cast(pl.Int64),
    )


def _boolean_now(keyed: pl.LazyFrame, events: pl.LazyFrame, item: str) -> pl.LazyFrame:
    """Whether the latest ``item`` record at or before T is true and has not ended."""
    source = (
        events.filter(pl.col("item") == item)
        .select("patient_id", "time", "end", pl.col("value_bool").alias("_on"))
        .sort("time")
    )
    return (
        keyed.sort("at")
        .join_asof(
            source,
            left_on="at",
            right_on="time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .select(
            *KEYS,
            (
                pl.col("_on").fill_null(False)
                & (pl.col("end").is_null() | (pl.col("end") > pl.col("at")))
            ).alias(item),
        )
    )


def _count_in_window(
    keyed: pl.LazyFrame,
    events: pl.LazyFrame,
    items: tuple[str, ...],
    name: str,
    params: StateParameters,
) -> pl.LazyFrame:
    source = events.filter(pl.col("item").is_in(items) & pl.col("value_bool")).select(
        "patient_id", "time", "end"
    )
    joined = (
        keyed.join(source, on="patient_id", how="inner")
        .filter(_counting(params))
        .group_by(KEYS)
        .agg(pl.len().alias(name))
    )
    return keyed.join(joined, on=KEYS, how="left").with_columns(
        pl.col(name).fill_null(0).cast(pl.Int64)
    )


def _last_assessment(
    keyed: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    done = (
        events.filter(pl.col("item").is_in([*_ICE_EVENTS, "capd_score"]))
        .select("patient_id", pl.col("time").alias("neuro_last_assessment_at"))
        .unique()
        .sort("neuro_last_assessment_at")
    )
    since = pl.coalesce("neuro_last_assessment_at", "therapy_start")
    gap = (pl.col("at") - since).dt.total_seconds() / 3600
    interval = params.neuro_assessment_interval.total_seconds() / 3600
    return (
        keyed.sort("at")
        .join_asof(
            done,
            left_on="at",
            right_on="neuro_last_assessment_at",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .join(patients.select("patient_id", "therapy_start"), on="patient_id", how="left")
        .select(
            *KEYS,
            "neuro_last_assessment_at",
            gap.alias("neuro_assessment_gap_hours"),
            (gap > interval).fill_null(False).alias("neuro_assessment_overdue"),
            pl.lit(interval).alias("neuro_assessment_interval_hours"),
        )
    )


def _icans_onset(keyed: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame) -> pl.LazyFrame:
    item, num, code = pl.col("item"), pl.col("value_num"), pl.col("value_code")
    below_max = pl.lit(False)
    for name, points in ICE_ITEM_POINTS.items():
        below_max = below_max | ((item == name) & (num < points))
    abnormal = (
        ((item == "ice_score") & (num <= 9))
        | below_max
        | ((item == "capd_score") & (num >= 1))
        | ((item == "consciousness") & code.is_in(CONSCIOUSNESS_LEVELS[1:]))
        | (item == "seizure")
        | ((item == "motor_weakness") & (code == "deep_focal"))
        | ((item == "cerebral_edema") & code.is_in(["focal", "diffuse"]))
        | (item == "icp_sign")
    )
    first = (
        events.filter(abnormal & pl.col("attributable"))
        .join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .filter(pl.col("time") >= pl.col("therapy_start"))
        .group_by("patient_id")
        .agg(pl.col("time").min().alias("_first"))
    )
    return keyed.join(first, on="patient_id", how="left").select(
        *KEYS,
        pl.when(pl.col("_first") <= pl.col("at")).then(pl.col("_first")).alias("icans_onset_at"),
    )


def _path(age: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    has_ice = pl.col("ice_time").is_not_null()
    has_capd = pl.col("capd_time").is_not_null()
    path = (
        pl.when(age.is_null())
        .then(
            pl.when(has_ice & ~has_capd)
            .then(pl.lit("adult"))
            .when(has_capd & ~has_ice)
            .then(pl.lit("child"))
        )
        .when(age < _ADULT_AGE)
        .then(pl.lit("child"))
        .when(has_capd & ~has_ice)
        .then(pl.lit("child"))
        .otherwise(pl.lit("adult"))
    )
    basis = (
        pl.when(age.is_null())
        .then(
            pl.when(has_ice & ~has_capd)
            .then(pl.lit("assumed_adult_from_ice"))
            .when(has_capd & ~has_ice)
            .then(pl.lit("assumed_child_from_capd"))
            .otherwise(pl.lit("age_unknown"))
        )
        .when(age < _ADULT_AGE)
        .then(pl.lit("age_under_12"))
        .when(has_capd & ~has_ice)
        .then(pl.lit("capd_at_12_or_over"))
        .otherwise(pl.lit("age_12_or_over"))
    )
    return path, basis


def neuro_state(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    keyed = times.select(KEYS)
    ice = _latest_within(keyed, _ice_assessments(events), "ice_time", params)
    capd = _latest_within(keyed, _capd_assessments(events), "capd_time", params)
    loc = _latest_within(keyed, _consciousness_records(events), "consciousness_time", params)
    completed = ((pl.col("ice_basis") == "assessed") & (pl.col("ice_low") >= 1)).fill_null(
        False
    ) | ((pl.col("capd_basis") == "assessed") & (pl.col("capd_status") == "scored")).fill_null(
        False
    )
    loc_basis = (
        pl.when(pl.col("_loc_basis") == "assessed")
        .then(pl.lit("recorded"))
        .when(pl.col("_loc_basis").is_not_null())
        .then(pl.col("_loc_basis"))
        .when(completed & pl.lit(params.consciousness_from_assessment))
        .then(pl.lit("assumed_not_depressed"))
    )
    path, path_basis = _path(pl.col("_age"))
    state = (
        keyed.join(ice, on=KEYS, how="left")
        .join(capd, on=KEYS, how="left")
        .join(loc, on=KEYS, how="left")
        .join(patients.select("patient_id", "age_years", "birth_date"), on="patient_id", how="left")
        .with_columns(_age=age_years_at())
        .with_columns(
            consciousness=pl.col("_loc_code"),
            consciousness_basis=loc_basis,
            icans_path=path,
            icans_path_basis=path_basis,
        )
        .drop("_loc_code", "_loc_basis", "_age", "age_years", "birth_date")
    )
    edema = _latest_finding(keyed, events, "cerebral_edema", params)
    ich = _boolean_now(keyed, events, "intracranial_hemorrhage")
    parts = [
        _seizures(keyed, events, params),
        _latest_finding(keyed, events, "motor_weakness", params),
        edema,
        _icp_signs(keyed, events, params),
        ich,
        _count_in_window(keyed, events, ("tremor", "myoclonus"), "tremor_myoclonus_n", params),
        _last_assessment(keyed, events, patients, params),
        _icans_onset(keyed, events, patients),
    ]
    for part in parts:
        state = state.join(part, on=KEYS, how="left")
    return state
