"""The content of the cohort report: every table and figure series, computed once.

The HTML (:mod:`crswatch.cohort._report_html`) and PDF (:mod:`crswatch.cohort._report_pdf`)
renderings draw from the same :class:`CohortReport`, so the two never disagree.  Definitions and
sources are stated beside each section (``notes``) and in docs/decisions/0020.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from crswatch.cohort._agreement import (
    Agreement,
    Regrade,
    cross_scale_agreement,
    follow_up_peaks,
    incidence,
    onset_and_duration,
    regrade,
    same_grade_everywhere,
    scales_in,
    summary_stats,
    time_to_tocilizumab,
)
from crswatch.cohort._pd import (
    NOMINAL_GRID,
    ULN_ITEMS,
    cmax_by_regimen,
    cmax_per_dose_step,
    nominal_summary,
    nominal_values,
    regimen_cmax,
    step_cmax,
)
from crswatch.cohort._read import CohortResult
from crswatch.errors import InputError
from crswatch.scales import get_scale
from crswatch.timeline import response_codes

__all__ = [
    "DEFAULT_PAIRS",
    "CohortReport",
    "build_report",
    "parse_pair",
]

#: Re-grading pairs shown by default: the JULIET re-grade's (Penn → Lee, Penn → ASTCT; Schuster
#: et al., Blood Adv 2020;4(7):1432) and Lee 2014 → ASTCT 2019.
DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (
    ("penn2018", "astct2019"),
    ("penn2018", "lee2014"),
    ("lee2014", "astct2019"),
)
#: Labs summarised as raw values (no ULN) at the nominal points.
RAW_ITEMS: tuple[str, ...] = ("ferritin", "fibrinogen", "il6", "ifng", "il10")
#: Cytokines for dose-step and regimen comparisons (seed 004 measured IL-2, IL-4, IL-6, IL-10,
#: TNF-α and IFN-γ).
STEP_CYTOKINES: tuple[str, ...] = ("il6", "il10", "ifng", "tnfa", "il2", "il4")
#: Responder strata use the cell counts seed 004 stratified (Fig. 2: neutrophils, platelets).
RESPONDER_ITEMS: tuple[str, ...] = ("anc", "platelets", "alc")


@dataclass(frozen=True, slots=True)
class CohortReport:
    """Everything the report shows; ``series`` holds the per-patient values behind figures."""

    header: dict[str, Any]
    cohort: dict[str, Any]
    incidence: list[dict[str, Any]]
    onset: list[dict[str, Any]]
    tocilizumab: dict[str, Any]
    same_grade: dict[str, Any]
    agreement: list[Agreement]
    regrades: list[Regrade]
    pd: dict[str, Any]
    series: dict[str, Any] = field(repr=False)


def _responder_stratum() -> pl.Expr:
    """Seed 004's strata: responders (CR/CRh and the other remission codes) against the rest.

    Which code is a responder is data (``timeline/responses.csv``); not evaluable and not
    given stay apart rather than being counted as non-responders.
    """
    responders = [code for code, entry in response_codes().items() if entry.responder]
    non_responders = [code for code, entry in response_codes().items() if entry.responder is False]
    return (
        pl.when(pl.col("response").is_in(responders))
        .then(pl.lit("responder"))
        .when(pl.col("response").is_in(non_responders))
        .then(pl.lit("non-responder"))
        .when(pl.col("response").is_null())
        .then(pl.lit("not given"))
        .otherwise(pl.lit("not evaluable"))
        .alias("responder")
    )


def parse_pair(text: str) -> tuple[str, str]:
    """``source:target`` (e.g. ``penn2018:astct2019``) into two known CRS scale ids."""
    source, colon, target = text.partition(":")
    if not colon or not source or not target:
        raise InputError(f"pair={text!r} must be SOURCE:TARGET, e.g. penn2018:astct2019")
    for scale in (source, target):
        get_scale(scale)  # UnknownCodeError listing the known ids
    return source, target


def _manifest_header(result: CohortResult, patients: pl.DataFrame) -> dict[str, Any]:
    manifest = result.manifest
    shards = manifest.get("shards", {})
    return {
        "format": manifest.get("format"),
        "source": manifest.get("source"),
        "output": str(result.path),
        "crswatch_version": manifest.get("crswatch_version"),
        "engine": manifest.get("engine"),
        "scales": list(manifest.get("scales", [])),
        "params": manifest.get("params", {}),
        "shards_done": sum(1 for entry in shards.values() if entry.get("done")),
        "shards_total": len(shards),
        "complete": result.complete,
        "patients": patients.height,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cohort_table(patients: pl.DataFrame) -> dict[str, Any]:
    def counts(column: str) -> list[dict[str, Any]]:
        table = (
            patients.with_columns(pl.col(column).fill_null("not given"))
            .group_by(column)
            .len()
            .sort("len", column, descending=[True, False])
        )
        total = patients.height
        return [
            {"value": row[column], "n": row["len"], "pct": round(100 * row["len"] / total, 1)}
            for row in table.iter_rows(named=True)
        ]

    response_given = patients["response"].drop_nulls().len() > 0
    return {
        "therapy_kind": counts("therapy_kind"),
        "product": counts("product"),
        "regimen": counts("regimen"),
        "response_given": response_given,
        "response": counts("response"),
        "age": summary_stats(patients["age_years"].to_list()),
    }


def _tocilizumab(toci: pl.DataFrame, patients: int) -> dict[str, Any]:
    from_onset = toci["hours_from_onset"].drop_nulls()
    return {
        "patients": toci.height,
        "pct": round(100 * toci.height / patients, 1) if patients else None,
        "from_start": summary_stats(toci["hours_from_start"].to_list()),
        "from_onset": summary_stats(from_onset.to_list()),
        "before_onset": int((from_onset < 0).sum()),
        "without_episode": int(toci["hours_from_onset"].is_null().sum()),
    }


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def _whole_record_uncertain(peaks: pl.DataFrame) -> dict[str, int]:
    """Per ``kind.scale``: patients whose whole-record peak (the ``peaks`` table) is a range."""
    ranged = peaks.filter(
        pl.col("peak_grade").is_null() | (pl.col("peak_grade") != pl.col("peak_upper"))
    )
    return {
        f"{row['kind']}.{row['scale']}": int(row["len"])
        for row in ranged.group_by("kind", "scale").len().iter_rows(named=True)
    }


def build_report(
    result: CohortResult, pairs: Sequence[tuple[str, str]] = DEFAULT_PAIRS
) -> CohortReport:
    """Compute every section of the report from a graded cohort."""
    patients = result.patients.collect()
    trajectory = result.trajectory.collect()
    episodes = result.episodes.collect()
    treatments = result.treatments.collect()
    # Only the items the report summarises: a large cohort's labs table is mostly other analytes.
    needed = {*ULN_ITEMS, *RAW_ITEMS, *STEP_CYTOKINES, *RESPONDER_ITEMS}
    labs = result.labs.filter(pl.col("item").is_in(sorted(needed))).collect()
    peaks = follow_up_peaks(trajectory, patients)
    record_uncertain = _whole_record_uncertain(result.peaks.collect())

    inc = _records(incidence(peaks))
    for row in inc:
        row["record_uncertain"] = record_uncertain.get(f"{row['kind']}.{row['scale']}", 0)
    crs_scales = scales_in(peaks, "crs")
    chosen_pairs = [(a, b) for a, b in pairs if a in crs_scales and b in crs_scales]

    pd_tables: dict[str, Any] = {
        "grid": [
            {"label": p.label, "hours": p.hours, "before": p.before, "after": p.after}
            for p in NOMINAL_GRID
        ],
        "uln": _records(
            nominal_summary(
                labs, patients, ULN_ITEMS, relative_to_uln=True, stratify_by="therapy_kind"
            )
        ),
        "raw": _records(nominal_summary(labs, patients, RAW_ITEMS, stratify_by="therapy_kind")),
        "steps": _records(cmax_per_dose_step(labs, treatments, STEP_CYTOKINES)),
        "regimen": _records(cmax_by_regimen(labs, patients, (*STEP_CYTOKINES, "crp"))),
        "responders": (
            _records(
                nominal_summary(
                    labs,
                    patients.with_columns(_responder_stratum()),
                    RESPONDER_ITEMS,
                    stratify_by="responder",
                )
            )
            if patients["response"].drop_nulls().len()
            else None
        ),
    }
    toci = time_to_tocilizumab(treatments, episodes, patients)
    onset_rows = _records(onset_and_duration(episodes, patients))
    starts = patients.select("patient_id", "therapy_start")
    first_onsets = (
        episodes.filter(pl.col("kind") == "crs")
        .group_by("patient_id", "scale")
        .agg(pl.col("onset").min())
        .join(starts, on="patient_id")
        .with_columns(h=(pl.col("onset") - pl.col("therapy_start")).dt.total_seconds() / 3600)
    )
    series: dict[str, Any] = {
        "onset_by_scale": {
            scale: first_onsets.filter(pl.col("scale") == scale)["h"].to_list()
            for scale in crs_scales
        },
        "duration_by_scale": {
            scale: episodes.filter((pl.col("kind") == "crs") & (pl.col("scale") == scale))[
                "duration_hours"
            ]
            .drop_nulls()
            .to_list()
            for scale in crs_scales
        },
        "uln_boxes": {
            item: nominal_values(labs, patients, item, relative_to_uln=True)
            for item in ("alt", "ast", "crp", "d_dimer")
        },
        "step_cmax": _records(step_cmax(labs, treatments, ("il6", "ifng", "il10"))),
        "regimen_cmax": _records(regimen_cmax(labs, patients, ("il6", "ifng", "crp"))),
    }
    return CohortReport(
        header=_manifest_header(result, patients),
        cohort=_cohort_table(patients),
        incidence=inc,
        onset=onset_rows,
        tocilizumab=_tocilizumab(toci, patients.height),
        same_grade=same_grade_everywhere(peaks, "crs"),
        agreement=cross_scale_agreement(peaks, "crs"),
        regrades=[regrade(peaks, a, b) for a, b in chosen_pairs],
        pd=pd_tables,
        series=series,
    )
