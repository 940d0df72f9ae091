"""The inputs of the HLH/MAS screens at evaluation times: one vectorized Polars computation.

``screen_inputs(patients, events, times, params, findings)`` returns one row per
``(patient_id, at)`` with, for each input, the value and the event behind it
(``{name}``, ``{name}_time``, ``{name}_ref``, ``{name}_censored``) and, for results graded
against a limit, ``{name}_uln``/``{name}_lln`` with ``_source`` (``reference_range`` or
``default``).  The same plan runs on one patient or a cohort shard (shared/design/ARCHITECTURE.md).

Time semantics (docs/decisions/0011-hlh-screens.md):

- **Worst value in a window**: the highest (or lowest) result in ``[T - window, T]`` (closed at
  both ends; ties go to the latest).  Every result counts, whatever its ``cause``: the HLH criteria
  describe the patient, not an attribution to CRS (``cause`` is about CRS/ICANS grading).
- **Findings** (splenomegaly, hepatomegaly, haemophagocytosis, immunosuppression): the latest
  record at or before T, at any time (an examination holds until the next one).  None recorded
  is unknown, never "absent".
- **Baseline**: the last result in ``[therapy_start - baseline_window, therapy_start]``, known
  only from its time on.
- **carHLH CRS phase**: the highest ferritin in
  ``[therapy_start, therapy_start + carhlh_crs_phase]`` measured at or before T.
- **Organ toxicity** (carHLH): the CTCAE grades of the state engine
  (:func:`crswatch.state._organ.organ_state`) with its lab window set to ``window``.
- Censored results (``below_lod``, ``above_uloq``) are used at their limit (a bound), and the
  result says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import polars as pl

from crswatch.hlh._params import HLHParameters, SupplementaryFindings
from crswatch.state import ANTI_CYTOKINE, StateParameters
from crswatch.state._common import KEYS, event_ref, in_memory
from crswatch.state._organ import ORGAN_ITEMS, organ_state

__all__ = [
    "INPUTS",
    "SCREEN_ITEMS",
    "SUPPLEMENTARY",
    "InputSpec",
    "screen_change_points",
    "screen_inputs",
]

How = Literal["max", "min", "latest", "baseline", "crs_phase_max"]


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input column: which item, how it is chosen, its canonical unit."""

    name: str
    item: str
    how: How
    unit: str | None
    #: Only results in this unit (il2r: pg/mL and U/mL are kept apart, never converted).
    only_unit: str | None = None
    #: Add the result's reference limit (``uln`` for increases, ``lln`` for decreases).
    limit: Literal["uln", "lln"] | None = None


INPUTS: tuple[InputSpec, ...] = (
    InputSpec("temperature_max", "temperature", "max", "Cel"),
    InputSpec("hemoglobin_min", "hemoglobin", "min", "g/dL", limit="lln"),
    InputSpec("platelets_min", "platelets", "min", "10*3/uL", limit="lln"),
    InputSpec("anc_min", "anc", "min", "10*3/uL", limit="lln"),
    InputSpec("wbc_min", "wbc", "min", "10*3/uL"),
    InputSpec("ferritin_max", "ferritin", "max", "ng/mL", limit="uln"),
    InputSpec("triglycerides_max", "triglycerides", "max", "mg/dL"),
    InputSpec("fibrinogen_min", "fibrinogen", "min", "mg/dL"),
    InputSpec("ast_max", "ast", "max", "U/L", limit="uln"),
    InputSpec("alt_max", "alt", "max", "U/L", limit="uln"),
    InputSpec("ldh_max", "ldh", "max", "U/L", limit="uln"),
    InputSpec("il2r_u_ml_max", "il2r", "max", "U/mL", only_unit="U/mL"),
    InputSpec("il2r_pg_ml_max", "il2r", "max", "pg/mL", only_unit="pg/mL"),
    InputSpec("ferritin_crs_phase_max", "ferritin", "crs_phase_max", "ng/mL"),
    InputSpec("ferritin_baseline", "ferritin", "baseline", "ng/mL"),
    InputSpec("hemoglobin_baseline", "hemoglobin", "baseline", "g/dL"),
    InputSpec("platelets_baseline", "platelets", "baseline", "10*3/uL"),
    InputSpec("anc_baseline", "anc", "baseline", "10*3/uL"),
    InputSpec("splenomegaly", "splenomegaly", "latest", None),
    InputSpec("hepatomegaly", "hepatomegaly", "latest", None),
    InputSpec("hemophagocytosis", "hemophagocytosis", "latest", None),
    InputSpec("immunosuppressed", "immunosuppressed", "latest", None),
)

#: Columns from :class:`SupplementaryFindings` (not timeline items).
SUPPLEMENTARY = (
    "hlh_molecular_diagnosis",
    "nk_activity_low",
    "pulmonary_edema_grade3",
    "oliguria_grade3",
    "iechs_timing",
)

#: Every item the screens read (the inputs, the anti-cytokine doses, the organ state's labs):
#: no other event changes a screen.
SCREEN_ITEMS: tuple[str, ...] = tuple(
    sorted({spec.item for spec in INPUTS} | {*ANTI_CYTOKINE, *ORGAN_ITEMS, "dialysis"})
)

_LIMIT_ITEMS = {spec.item: spec.limit for spec in INPUTS if spec.limit is not None}


def _limit(params: HLHParameters) -> tuple[pl.Expr, pl.Expr]:
    """Each result's own reference limit, else the default, and which it was."""
    values: list[pl.Expr] = []
    sources: list[pl.Expr] = []
    for item, kind in _LIMIT_ITEMS.items():
        own = pl.col("ref_high" if kind == "uln" else "ref_low")
        own = pl.when(own > 0).then(own)
        defaults = params.default_uln if kind == "uln" else params.default_lln
        default = pl.lit(defaults.get(item), pl.Float64)
        is_item = pl.col("item") == item
        values.append(pl.when(is_item).then(pl.coalesce(own, default)))
        sources.append(
            pl.when(is_item & own.is_not_null())
            .then(pl.lit("reference_range"))
            .when(is_item & default.is_not_null())
            .then(pl.lit("default"))
        )
    return pl.coalesce(values), pl.coalesce(sources)


#: The specs by index (the ``_spec`` column of the long frame below) and how each orders.
_MAX_LIKE = ("max", "crs_phase_max")


def _spec_table() -> pl.LazyFrame:
    """One row per input: its item, its only unit, how it is chosen (joined to the events)."""
    return pl.LazyFrame(
        {
            "item": [spec.item for spec in INPUTS],
            "_spec": list(range(len(INPUTS))),
            "_only_unit": [spec.only_unit for spec in INPUTS],
            "_how": [spec.how for spec in INPUTS],
        },
        schema={
            "item": pl.String(),
            "_spec": pl.UInt8(),
            "_only_unit": pl.String(),
            "_how": pl.String(),
        },
    )


def _chosen_all(
    keyed: pl.LazyFrame,
    events: pl.LazyFrame,
    params: HLHParameters,
    limits: tuple[pl.Expr, pl.Expr],
) -> pl.LazyFrame:
    """The event chosen for every input at each T, as ``{name}*`` columns, in one query.

    Each input (``INPUTS``) picks, among its item's results with a value at or before T and in
    its window, the highest (``max``, ``crs_phase_max``: ties to the latest), the lowest
    (``min``: ties to the latest) or the latest (``baseline``, ``latest``).  The events of
    every input are matched to their inputs by one join (an item read by several inputs, such
    as ferritin, gives a row per input), windowed, sorted and taken first per
    ``(patient_id, at, input)`` once, then spread into each input's columns by one
    aggregation: the same choice as one join, sort and group-by per input (decision 0073),
    with a few query steps instead of some 130.
    """
    how = pl.col("_how")
    latest_kind = how == "latest"
    value_present = (
        pl.when(latest_kind)
        .then(pl.col("value_bool").is_not_null())
        .otherwise(pl.col("value_num").is_not_null())
    )
    limit, limit_source = limits
    source = (
        events.join(_spec_table(), on="item", how="inner")
        .filter(
            (pl.col("_only_unit").is_null() | (pl.col("unit") == pl.col("_only_unit")))
            & value_present
        )
        .select(
            "patient_id",
            "time",
            "_spec",
            "_how",
            pl.when(~latest_kind).then(pl.col("value_num")).alias("_num"),
            pl.when(latest_kind).then(pl.col("value_bool")).alias("_bool"),
            event_ref().alias("_ref"),
            pl.col("censored").alias("_censored"),
            limit.alias("_limit"),
            limit_source.alias("_limit_source"),
        )
    )
    time, at, start = pl.col("time"), pl.col("at"), pl.col("therapy_start")
    in_window = (
        pl.when(how.is_in(("max", "min")))
        .then(time >= at - params.window)
        .when(how == "crs_phase_max")
        .then((time >= start) & (time <= start + params.carhlh_crs_phase))
        .when(how == "baseline")
        .then((time <= start) & (time >= start - params.baseline_window))
        .otherwise(pl.lit(True))
    )
    joined = (
        keyed.join(source, on="patient_id", how="inner")
        .filter(time <= at)
        .filter(in_window)
        .with_columns(
            _high=pl.when(how.is_in(_MAX_LIKE)).then(pl.col("_num")),
            _low=pl.when(how == "min").then(pl.col("_num")),
        )
    )
    first = (
        joined.sort(["_high", "_low", "time"], descending=[True, False, True], nulls_last=True)
        .group_by([*KEYS, "_spec"])
        .agg(pl.all().first())
    )
    spread: list[pl.Expr] = []
    for index, spec in enumerate(INPUTS):
        mine = pl.col("_spec") == index
        value = "_bool" if spec.how == "latest" else "_num"
        name = spec.name
        picked = [
            (value, name),
            ("time", f"{name}_time"),
            ("_ref", f"{name}_ref"),
            ("_censored", f"{name}_censored"),
        ]
        if spec.limit is not None:
            picked += [
                ("_limit", f"{name}_{spec.limit}"),
                ("_limit_source", f"{name}_{spec.limit}_source"),
            ]
        spread += [pl.col(column).filter(mine).first().alias(alias) for column, alias in picked]
    wide = first.group_by(KEYS).agg(spread)
    return keyed.select(KEYS).join(wide, on=KEYS, how="left")


def _anti_cytokine(keyed: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """The first anti-cytokine dose at or after the therapy start and at or before T."""
    doses = events.filter(pl.col("item").is_in(ANTI_CYTOKINE)).select(
        "patient_id", "time", event_ref().alias("_ref")
    )
    first = (
        keyed.join(doses, on="patient_id", how="inner")
        .filter((pl.col("time") >= pl.col("therapy_start")) & (pl.col("time") <= pl.col("at")))
        .sort("time")
        .group_by(KEYS)
        .agg(
            pl.col("time").first().alias("anti_cytokine_first_time"),
            pl.col("_ref").first().alias("anti_cytokine_first_ref"),
        )
    )
    return keyed.select(KEYS).join(first, on=KEYS, how="left")


def _supplementary(
    patient_ids: pl.LazyFrame, findings: Mapping[str, SupplementaryFindings] | None
) -> pl.LazyFrame:
    rows: dict[str, list[object]] = {"patient_id": [], **{name: [] for name in SUPPLEMENTARY}}
    for patient_id, found in (findings or {}).items():
        rows["patient_id"].append(patient_id)
        for name in SUPPLEMENTARY:
            rows[name].append(getattr(found, name))
    schema: dict[str, pl.DataType] = {"patient_id": pl.String()}
    schema.update({name: pl.Boolean() for name in SUPPLEMENTARY})
    given = pl.DataFrame(rows, schema=schema).lazy()
    return patient_ids.join(given, on="patient_id", how="left")


_ORGAN_TERMS = ("alt", "ast", "bilirubin", "creatinine", "aki")
_ORGAN_VALUES = (
    "alt_u_l",
    "alt_time",
    "alt_ref",
    "ast_u_l",
    "ast_time",
    "ast_ref",
    "bilirubin_mg_dl",
    "bilirubin_time",
    "bilirubin_ref",
    "creatinine_mg_dl",
    "creatinine_time",
    "creatinine_ref",
)


def screen_inputs(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    times: pl.DataFrame,
    params: HLHParameters | None = None,
    findings: Mapping[str, SupplementaryFindings] | None = None,
) -> pl.DataFrame:
    """Every screen input at each ``(patient_id, at)`` of ``times``, sorted by patient and time."""
    params = params or HLHParameters()
    patients_lf = patients.lazy()
    # The items the screens read, found once: each input below and the organ state would
    # otherwise scan every event (a ward's vital signs) for its own item.
    events_lf = events.filter(pl.col("item").is_in(SCREEN_ITEMS)).lazy()
    keyed = (
        times.lazy()
        .select("patient_id", pl.col("at").cast(pl.Datetime("us", "UTC")))
        .unique()
        .join(
            patients_lf.select("patient_id", "therapy_start", "therapy_kind"),
            on="patient_id",
            how="left",
        )
    )
    state = keyed.join(
        patients_lf.select("patient_id", "age_years", "birth_date"), on="patient_id", how="left"
    ).with_columns(
        age_days=pl.when(pl.col("birth_date").is_not_null())
        .then((pl.col("at").dt.date() - pl.col("birth_date")).dt.total_days().cast(pl.Float64))
        .otherwise(pl.col("age_years") * 365.25)
    )
    state = state.join(_chosen_all(keyed, events_lf, params, _limit(params)), on=KEYS, how="left")
    state = state.join(_anti_cytokine(keyed, events_lf), on=KEYS, how="left")
    organ_params = StateParameters(
        lab_window=params.window, lab_baseline_window=params.baseline_window
    )
    organ = organ_state(keyed.select(KEYS), events_lf, patients_lf, organ_params)
    suffix = "v4" if params.ctcae_version == "v4.03" else "v5"
    grades = [pl.col(f"{term}_{suffix}").alias(f"{term}_grade") for term in _ORGAN_TERMS]
    state = state.join(organ.select([*KEYS, *grades, *_ORGAN_VALUES]), on=KEYS, how="left")
    state = state.join(
        _supplementary(keyed.select("patient_id").unique(), findings), on="patient_id", how="left"
    )
    # Many small joins over one ward's or one patient's events: Polars' in-memory engine runs
    # them with about a third less CPU than the streaming default (30-day patient: 108 -> 77 ms),
    # with the same result, as the state engine does (crswatch.state, decision 0065).
    with in_memory():
        return state.sort(KEYS).collect()


def screen_change_points(events: pl.DataFrame, params: HLHParameters | None = None) -> pl.DataFrame:
    """Per patient, the instants at which an input of the screens can change (sorted, unique).

    Between two of them (and on the same UTC date: ``age_days`` counts days) every input, so
    every criterion and status, is the same as at the first (tests/hlh/test_change_points.py).
    An input depends on T only through which results lie at or before T and in its window,
    closed at both ends (worst values, the organ state's lab window: ``window``; a crs-phase
    peak, a baseline, the latest finding and the first anti-cytokine dose are bounded by event
    times, not by T).  So the inputs change when a result the screens read is recorded (its
    time) or leaves the window (``time + window`` and a microsecond, or ``end + window`` and a
    microsecond for a record with an end, such as dialysis), and nowhere else, as the organ
    state's own change points (``crswatch.state._organ``).  A function of the record alone:
    the ward keeps it per stored version and its screens per interval (decision 0073).
    """
    params = params or HLHParameters()
    after = params.window + timedelta(microseconds=1)
    read = events.lazy().filter(pl.col("item").is_in(SCREEN_ITEMS))
    points = pl.concat(
        [
            read.select("patient_id", pl.col("time").alias("at")),
            read.select("patient_id", (pl.col("time") + after).alias("at")),
            read.select("patient_id", (pl.coalesce("end", "time") + after).alias("at")),
        ]
    )
    return points.unique().sort(KEYS).collect()
