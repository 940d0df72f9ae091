"""The HLH screens' inputs as computed before decision 0073 (kept verbatim, for the identity test).

``screen_inputs`` of ``crswatch.hlh._inputs`` at 27588a4: one join, sort and group-by per
input.  ``tests/hlh/test_inputs_identity.py`` compares the new one-query plan with it.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from crswatch.hlh._inputs import INPUTS, SUPPLEMENTARY, InputSpec
from crswatch.hlh._params import HLHParameters, SupplementaryFindings
from crswatch.state import ANTI_CYTOKINE, StateParameters
from crswatch.state._common import KEYS, event_ref, in_memory
from crswatch.state._organ import ORGAN_ITEMS, organ_state

__all__ = ["reference_screen_inputs"]

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


def _chosen(
    keyed: pl.LazyFrame,
    events: pl.LazyFrame,
    spec: InputSpec,
    params: HLHParameters,
    limits: tuple[pl.Expr, pl.Expr],
) -> pl.LazyFrame:
    """The event chosen for ``spec`` at each T, as ``{name}*`` columns."""
    selected = events.filter(pl.col("item") == spec.item)
    if spec.only_unit is not None:
        selected = selected.filter(pl.col("unit") == spec.only_unit)
    value = pl.col("value_bool") if spec.how == "latest" else pl.col("value_num")
    limit, limit_source = limits
    source = selected.filter(value.is_not_null()).select(
        "patient_id",
        "time",
        value.alias("_v"),
        event_ref().alias("_ref"),
        pl.col("censored").alias("_censored"),
        limit.alias("_limit"),
        limit_source.alias("_limit_source"),
    )
    joined = keyed.join(source, on="patient_id", how="inner").filter(pl.col("time") <= pl.col("at"))
    start = pl.col("therapy_start")
    if spec.how in ("max", "min"):
        joined = joined.filter(pl.col("time") >= pl.col("at") - params.window)
        order, descending = ["_v", "time"], [spec.how == "max", True]
    elif spec.how == "crs_phase_max":
        joined = joined.filter(
            (pl.col("time") >= start) & (pl.col("time") <= start + params.carhlh_crs_phase)
        )
        order, descending = ["_v", "time"], [True, True]
    elif spec.how == "baseline":
        joined = joined.filter(
            (pl.col("time") <= start) & (pl.col("time") >= start - params.baseline_window)
        )
        order, descending = ["time"], [True]
    else:
        order, descending = ["time"], [True]
    name = spec.name
    aggs = [
        pl.col("_v").first().alias(name),
        pl.col("time").first().alias(f"{name}_time"),
        pl.col("_ref").first().alias(f"{name}_ref"),
        pl.col("_censored").first().alias(f"{name}_censored"),
    ]
    if spec.limit is not None:
        aggs += [
            pl.col("_limit").first().alias(f"{name}_{spec.limit}"),
            pl.col("_limit_source").first().alias(f"{name}_{spec.limit}_source"),
        ]
    chosen = joined.sort(order, descending=descending).group_by(KEYS).agg(aggs)
    return keyed.select(KEYS).join(chosen, on=KEYS, how="left")


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


def reference_screen_inputs(
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
    read = {spec.item for spec in INPUTS} | {*ANTI_CYTOKINE, *ORGAN_ITEMS, "dialysis"}
    events_lf = events.filter(pl.col("item").is_in(sorted(read))).lazy()
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
    limits = _limit(params)
    for spec in INPUTS:
        chosen = _chosen(keyed, events_lf, spec, params, limits)
        state = state.join(chosen, on=KEYS, how="left")
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
