"""Pharmacodynamic summaries in the manner of seed 004 (Nägele et al. 2017, blinatumomab phase II).

Over the ``labs``, ``treatments`` and ``patients`` tables of a ``crswatch.cohort/1`` output:

- **Nominal time points** (seed 004, "Serum chemistry": baseline [day 1] and days 2, 3, 8, 15,
  22, 29): each patient contributes, per point, the sample nearest the nominal time within the
  point's window (:data:`NOMINAL_GRID`); statistics are "median with 25th and 75th percentile"
  (seed 004, "Statistical analysis").
- **× ULN** (seed 004, Fig. 1): a result over the record's ``ref_high`` when the timeline carries
  it, else over :data:`DEFAULT_ULN` — the normal ranges seed 004 quotes (its ref. [19]).
- **Cytokine Cmax per dose step** (seed 004, "Cytokines and granzyme B"): each sample falls in
  the dose step of the last T-cell-engager dose at or before it; per patient and step the
  maximum, then median / IQR (and the mean, which seed 004 reports) over patients.
- **Step versus flat dosing** (seed 004: step dosing "was associated with lower cytokine
  release"): per-patient Cmax in the first treatment week by ``regimen``.
- Values below the LOD count as LOD/2 (seed 004; decision 0012 §1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from crswatch.cohort._agreement import summary_stats
from crswatch.timeline import vocabulary

__all__ = [
    "CYTOKINES",
    "DEFAULT_ULN",
    "NOMINAL_GRID",
    "ULN_ITEMS",
    "NominalPoint",
    "cmax_by_regimen",
    "cmax_per_dose_step",
    "dose_steps",
    "lab_values",
    "nominal_summary",
    "nominal_values",
    "regimen_cmax",
    "step_cmax",
]


@dataclass(frozen=True, slots=True)
class NominalPoint:
    """A nominal time point and its window, in hours from therapy start."""

    label: str
    hours: float
    before: float
    after: float


#: Seed 004's serum-chemistry schedule (baseline day 1, days 2, 3, 8, 15, 22, 29).  Baseline is
#: the last sample in the 24 h before the start (seed 004: "before treatment start").  Days 2
#: and 3 take ± 12 h (the windows touch but do not overlap); the weekly points ± 24 h, as daily
#: ward sampling rarely falls on the hour.
NOMINAL_GRID: tuple[NominalPoint, ...] = (
    NominalPoint("D1 (baseline)", 0.0, 24.0, 0.0),
    NominalPoint("D2", 24.0, 12.0, 12.0),
    NominalPoint("D3", 48.0, 12.0, 12.0),
    NominalPoint("D8", 168.0, 24.0, 24.0),
    NominalPoint("D15", 336.0, 24.0, 24.0),
    NominalPoint("D22", 504.0, 24.0, 24.0),
    NominalPoint("D29", 672.0, 24.0, 24.0),
)

#: Upper limits of normal, in the canonical unit, when a result carries no ``ref_high``: the
#: normal ranges seed 004 quotes (Results, "Transient blinatumomab-induced changes", ref. [19]):
#: AST and ALT 0–35 U/L, GGT 9–85 U/L, AP 41–133 U/L, bilirubin 0.1–1.2 mg/dL, CRP < 1.0 mg/dL
#: (= 10 mg/L), D-dimer < 500 ng/mL (= 0.5 µg/mL FEU), LDH 88–230 U/L.  Creatinine is not in
#: seed 004: 1.2 mg/dL as ``StateParameters.default_uln``.
DEFAULT_ULN: dict[str, float] = {
    "ast": 35.0,
    "alt": 35.0,
    "ggt": 85.0,
    "alp": 133.0,
    "bilirubin": 1.2,
    "crp": 10.0,
    "d_dimer": 0.5,
    "ldh": 230.0,
    "creatinine": 1.2,
}

#: The items reported as × ULN (liver enzymes, bilirubin, LDH, creatinine, CRP, D-dimer).
ULN_ITEMS: tuple[str, ...] = tuple(DEFAULT_ULN)

#: Every cytokine and marker of the timeline vocabulary (group ``cytokine``).
CYTOKINES: tuple[str, ...] = tuple(
    sorted(name for name, spec in vocabulary().items() if spec.group == "cytokine")
)

_HOURS = 3_600_000_000


def lab_values(labs: pl.DataFrame, *, relative_to_uln: bool = False) -> pl.DataFrame:
    """Labs with the value used for statistics (``v``): LOD/2 below the LOD, else the value;
    with ``relative_to_uln`` only :data:`ULN_ITEMS`, ``v`` as × ULN and ``uln_source``
    (``record`` or ``default``)."""
    value = pl.col("value").cast(pl.Float64)
    below = pl.lit(False)
    if "censored" in labs.columns:
        below = below | (pl.col("censored") == "below_lod").fill_null(False)
    if "below_lod" in labs.columns:
        below = below | pl.col("below_lod").fill_null(False)
    value = pl.when(below).then(value / 2).otherwise(value)
    frame = labs.with_columns(v=value).filter(pl.col("v").is_not_null())
    if not relative_to_uln:
        return frame.with_columns(uln_source=pl.lit(None, pl.String))
    default = pl.col("item").replace_strict(DEFAULT_ULN, default=None, return_dtype=pl.Float64)
    record = pl.col("ref_high").cast(pl.Float64) if "ref_high" in frame.columns else None
    uln = default if record is None else pl.coalesce(record, default)
    source = (
        pl.lit("default")
        if record is None
        else pl.when(record.is_not_null()).then(pl.lit("record")).otherwise(pl.lit("default"))
    )
    return (
        frame.filter(pl.col("item").is_in(ULN_ITEMS))
        .with_columns(uln=uln, uln_source=source)
        .filter(pl.col("uln") > 0)
        .with_columns(v=pl.col("v") / pl.col("uln"))
    )


def _hours_from_start(frame: pl.DataFrame, patients: pl.DataFrame) -> pl.DataFrame:
    if "hours_from_start" in frame.columns:
        return frame
    starts = patients.select("patient_id", "therapy_start")
    return frame.join(starts, on="patient_id", how="left").with_columns(
        hours_from_start=(pl.col("time") - pl.col("therapy_start")).dt.total_microseconds() / _HOURS
    )


def _nominal_samples(values: pl.DataFrame, grid: Sequence[NominalPoint]) -> pl.DataFrame:
    """Per patient, item and point: the sample nearest the nominal time inside the window
    (ties: the earlier, so baseline stays pre-dose)."""
    parts: list[pl.DataFrame] = []
    h = pl.col("hours_from_start")
    for point in grid:
        inside = values.filter(
            (h >= point.hours - point.before) & (h <= point.hours + point.after)
        ).with_columns(distance=(h - point.hours).abs(), point=pl.lit(point.label))
        parts.append(
            inside.sort("distance", "hours_from_start")
            .group_by("patient_id", "item", maintain_order=True)
            .first()
        )
    return pl.concat(parts, how="diagonal_relaxed") if parts else values.clear()


def nominal_summary(
    labs: pl.DataFrame,
    patients: pl.DataFrame,
    items: Sequence[str],
    *,
    relative_to_uln: bool = False,
    stratify_by: str | None = None,
    grid: Sequence[NominalPoint] = NOMINAL_GRID,
) -> pl.DataFrame:
    """Median and IQR per item, nominal point (and stratum): columns ``item``, ``stratum``,
    ``point``, ``hours``, ``n``, ``median``, ``q1``, ``q3``, ``min``, ``max`` and, × ULN,
    ``uln_from_record`` (samples whose ULN came from the record)."""
    values = lab_values(
        _hours_from_start(labs.filter(pl.col("item").is_in(list(items))), patients),
        relative_to_uln=relative_to_uln,
    )
    if stratify_by is not None:
        strata = patients.select("patient_id", pl.col(stratify_by).cast(pl.String))
        values = values.join(strata, on="patient_id", how="left").with_columns(
            stratum=pl.col(stratify_by).fill_null("not given")
        )
    else:
        values = values.with_columns(stratum=pl.lit("all"))
    samples = _nominal_samples(values, grid)
    rows: list[dict[str, Any]] = []
    for item in items:
        for stratum in sorted(set(samples.filter(pl.col("item") == item)["stratum"].to_list())):
            for point in grid:
                cell = samples.filter(
                    (pl.col("item") == item)
                    & (pl.col("stratum") == stratum)
                    & (pl.col("point") == point.label)
                )
                row: dict[str, Any] = {
                    "item": item,
                    "stratum": stratum,
                    "point": point.label,
                    "hours": point.hours,
                    **summary_stats(cell["v"].to_list()),
                }
                if relative_to_uln:
                    row["uln_from_record"] = int((cell["uln_source"] == "record").sum())
                rows.append(row)
    schema = {"item": pl.String, "stratum": pl.String, "point": pl.String, "hours": pl.Float64}
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame(schema=schema)


def nominal_values(
    labs: pl.DataFrame,
    patients: pl.DataFrame,
    item: str,
    *,
    relative_to_uln: bool = False,
    grid: Sequence[NominalPoint] = NOMINAL_GRID,
) -> dict[str, list[float]]:
    """The per-patient values at each nominal point (for box plots): ``{point label: values}``."""
    values = lab_values(
        _hours_from_start(labs.filter(pl.col("item") == item), patients),
        relative_to_uln=relative_to_uln,
    )
    samples = _nominal_samples(values, grid)
    return {
        point.label: samples.filter(pl.col("point") == point.label)["v"].to_list() for point in grid
    }


def dose_steps(treatments: pl.DataFrame) -> pl.DataFrame:
    """T-cell-engager dose steps per patient: ``patient_id``, ``time``, ``dose``, ``unit``,
    ``step`` (1 = the first dose level; a new step at every change to another non-zero dose;
    an interruption (dose 0) is ``step`` null, and a restart at the same dose keeps its step).
    CAR T infusions (one cell dose) have no steps."""
    doses = (
        treatments.filter(
            (pl.col("category") == "t_cell_engager") & (pl.col("item") != "car_t_infusion")
        )
        .select("patient_id", "time", "item", dose=pl.col("value").cast(pl.Float64), unit="unit")
        .filter(pl.col("dose").is_not_null())
        .sort("patient_id", "time")
    )
    rows: list[dict[str, Any]] = []
    for (patient_id,), part in doses.group_by("patient_id", maintain_order=True):
        step, level = 0, None
        for row in part.iter_rows(named=True):
            dose = float(row["dose"])
            if dose > 0 and dose != level:
                step, level = step + 1, dose
            rows.append(
                {
                    "patient_id": patient_id,
                    "time": row["time"],
                    "item": row["item"],
                    "dose": dose,
                    "unit": row["unit"],
                    "step": step if dose > 0 else None,
                }
            )
    schema: dict[str, Any] = {
        "patient_id": pl.String,
        "time": pl.Datetime("us", "UTC"),
        "item": pl.String,
        "dose": pl.Float64,
        "unit": pl.String,
        "step": pl.Int32,
    }
    return pl.DataFrame(rows, schema=schema)


def _float(value: Any) -> float:
    return 0.0 if value is None else float(value)


def step_cmax(
    labs: pl.DataFrame, treatments: pl.DataFrame, items: Sequence[str] = CYTOKINES
) -> pl.DataFrame:
    """Per patient, item and dose step: ``cmax``, the step's ``dose`` and ``dose_unit``.

    A sample belongs to the step of the last dose at or before it; samples before the first
    dose or during an interruption belong to none."""
    steps = dose_steps(treatments)
    values = lab_values(labs.filter(pl.col("item").is_in(list(items)))).sort("time")
    schema: dict[str, Any] = {
        "patient_id": pl.String,
        "item": pl.String,
        "step": pl.Int32,
        "cmax": pl.Float64,
        "dose": pl.Float64,
        "dose_unit": pl.String,
    }
    if steps.is_empty() or values.is_empty():
        return pl.DataFrame(schema=schema)
    joined = values.join_asof(
        steps.sort("time")
        .select("patient_id", "time", "dose", "unit", "step")
        .rename({"unit": "dose_unit"}),
        on="time",
        by="patient_id",
        strategy="backward",
        # Both sides are sorted by time; Polars cannot verify it with ``by`` groups.
        check_sortedness=False,
    ).filter(pl.col("step").is_not_null())
    return (
        joined.group_by("patient_id", "item", "step")
        .agg(pl.col("v").max().alias("cmax"), pl.col("dose").max(), pl.col("dose_unit").first())
        .sort("item", "step", "patient_id")
        .select(list(schema))
    )


def cmax_per_dose_step(
    labs: pl.DataFrame, treatments: pl.DataFrame, items: Sequence[str] = CYTOKINES
) -> pl.DataFrame:
    """Per cytokine and dose step: n patients, median / IQR and mean of the per-patient Cmax
    (:func:`step_cmax`).  ``dose`` is the step's median dose (a BSA-based regimen gives each
    patient a different µg/day)."""
    cmax = step_cmax(labs, treatments, items)
    if cmax.is_empty():
        return pl.DataFrame(schema={"item": pl.String, "step": pl.Int32})
    rows: list[dict[str, Any]] = []
    for (item, step), part in cmax.group_by("item", "step", maintain_order=True):
        stats = summary_stats(part["cmax"].to_list())
        rows.append(
            {
                "item": item,
                "step": step,
                "dose": round(_float(part["dose"].median()), 2),
                "dose_unit": part["dose_unit"][0],
                **stats,
                "mean": round(_float(part["cmax"].mean()), 3),
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def regimen_cmax(
    labs: pl.DataFrame,
    patients: pl.DataFrame,
    items: Sequence[str],
    *,
    within_hours: float = 168.0,
) -> pl.DataFrame:
    """Per patient with a ``regimen`` and item: the maximum in the first ``within_hours``."""
    regimens = patients.filter(pl.col("regimen").is_not_null()).select("patient_id", "regimen")
    values = lab_values(
        _hours_from_start(labs.filter(pl.col("item").is_in(list(items))), patients)
    ).filter((pl.col("hours_from_start") >= 0) & (pl.col("hours_from_start") <= within_hours))
    return (
        values.join(regimens, on="patient_id", how="inner")
        .group_by("patient_id", "item", "regimen")
        .agg(pl.col("v").max().alias("cmax"))
        .sort("item", "regimen", "patient_id")
    )


def cmax_by_regimen(
    labs: pl.DataFrame,
    patients: pl.DataFrame,
    items: Sequence[str],
    *,
    within_hours: float = 168.0,
) -> pl.DataFrame:
    """Per item and ``regimen`` (step / flat): per-patient maximum in the first ``within_hours``
    (default: treatment week 1, as seed 004 compares the starting doses), median / IQR."""
    peaks = regimen_cmax(labs, patients, items, within_hours=within_hours)
    rows: list[dict[str, Any]] = []
    for item in items:
        for regimen in sorted(set(peaks["regimen"].to_list())):
            part = peaks.filter((pl.col("item") == item) & (pl.col("regimen") == regimen))
            if part.is_empty():
                continue
            rows.append({"item": item, "regimen": regimen, **summary_stats(part["cmax"].to_list())})
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
