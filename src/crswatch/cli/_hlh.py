"""``crswatch hlh``, ``biomarkers`` and ``risk``: HLH/MAS screens, biomarker kinetics and
cytokine profiles, pre-treatment risk."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail
from crswatch.cli._options import JsonOption
from crswatch.cli._render import render_report
from crswatch.errors import InputError

if TYPE_CHECKING:
    from crswatch.timeline import Timeline

__all__ = ["biomarkers", "hlh", "risk"]

PathArgument = Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")]


def _read(path: Path, at: str | None, what: str) -> tuple[list[Timeline], datetime | None]:
    from crswatch.io import read_path
    from crswatch.timeline import parse_time

    try:
        moment = parse_time(at, "--at") if at is not None else None
        result = read_path(path)
    except InputError as exc:
        raise fail(str(exc)) from None
    if not result.report.ok:
        render_report(result.report, err_console)
        raise fail(f"records were rejected; fix them before {what} (see crswatch validate)", 1)
    return list(result.timelines), moment


def _emit(payload: list[dict[str, Any]]) -> None:
    emit_json(payload[0] if len(payload) == 1 else payload)


def _status(status: str) -> str:
    colour = {"met": "bold red", "not_met": "green", "not_assessable": "yellow"}.get(status, "")
    return f"[{colour}]{status}[/]" if colour else status


@app.command()
def hlh(
    path: PathArgument,
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    as_json: JsonOption = False,
    window_hours: Annotated[
        float, typer.Option(help="Worst value in [T - window, T] (hours).")
    ] = 72.0,
    fever_c: Annotated[
        float,
        typer.Option(
            help="HLH-2004 fever threshold, >= (the original criterion says 'Fever' without a "
            "threshold)."
        ),
    ] = 38.5,
    molecular_diagnosis: Annotated[
        bool | None,
        typer.Option(
            "--molecular-diagnosis/--no-molecular-diagnosis",
            help="HLH-2004 route 1: a molecular diagnosis consistent with HLH (tested).",
        ),
    ] = None,
    nk_low: Annotated[
        bool | None,
        typer.Option("--nk-low/--nk-normal", help="HLH-2004: low or absent NK-cell activity."),
    ] = None,
    pulmonary_edema: Annotated[
        bool | None,
        typer.Option(
            "--pulmonary-edema-g3/--no-pulmonary-edema-g3",
            help="carHLH: grade >= 3 pulmonary oedema.",
        ),
    ] = None,
    oliguria: Annotated[
        bool | None,
        typer.Option("--oliguria-g3/--no-oliguria-g3", help="carHLH: grade >= 3 oliguria."),
    ] = None,
    iechs_timing: Annotated[
        bool | None,
        typer.Option(
            "--iechs-timing/--no-iechs-timing",
            help="IEC-HS: onset with resolving CRS or worsening after initial improvement.",
        ),
    ] = None,
    iechs_proxy: Annotated[
        bool,
        typer.Option(
            "--iechs-proxy",
            help="IEC-HS timing proxy (labelled rule): anti-cytokine drug before the ferritin.",
        ),
    ] = False,
) -> None:
    """Screen for HLH/MAS: HLH-2004, HScore, carHLH and IEC-HS (labelled, unverified)."""
    from crswatch.hlh import HLHParameters, SupplementaryFindings, screen_course, screen_timelines

    timelines, moment = _read(path, at, "screening")
    params = HLHParameters(
        window=timedelta(hours=window_hours),
        hlh2004_fever_c=fever_c,
        iechs_temporal_rule="after_crs_therapy" if iechs_proxy else "clinician",
    )
    findings = SupplementaryFindings(
        hlh_molecular_diagnosis=molecular_diagnosis,
        nk_activity_low=nk_low,
        pulmonary_edema_grade3=pulmonary_edema,
        oliguria_grade3=oliguria,
        iechs_timing=iechs_timing,
    )
    try:
        screened = screen_timelines(timelines, moment, params, findings)
        courses = {t.patient.id: screen_course(t, moment, params, findings) for t in timelines}
    except InputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        payload = []
        for screens in screened:
            document = screens.to_dict()
            document["course"] = courses[screens.patient_id].to_dict()
            document["supplementary_findings"] = findings.to_dict()
            payload.append(document)
        _emit(payload)
        return
    table = Table(title="HLH/MAS screens")
    for column in ("patient", "at", "screen", "status", "score", "met", "not assessable"):
        table.add_column(column, overflow="fold")
    for screens in screened:
        for result in screens.results.values():
            score = ""
            if result.score_bounds is not None:
                low, high = result.score_bounds
                score = str(low) if low == high else f"{low}-{high}"
            # Clinical names, not ids (issue 15): "IEC-HS (…) (not verified)", criteria labels.
            label = result.title if result.verified else f"{result.title} (not verified)"
            table.add_row(
                escape(screens.patient_id),
                screens.at.strftime("%Y-%m-%d %H:%M"),
                label,
                _status(result.status),
                score,
                escape(", ".join(c.label for c in result.criteria if c.met)),
                escape(", ".join(c.label for c in result.criteria if c.met is None)),
            )
    console.print(table)


@app.command()
def biomarkers(
    path: PathArgument,
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Biomarker kinetics (CRP, ferritin, fibrinogen, IL-6, ...) and cytokine profiles."""
    from crswatch.biomarkers import BiomarkerParameters, cytokine_profile, kinetics

    timelines, moment = _read(path, at, "analysing")
    params = BiomarkerParameters()
    payload = []
    for timeline in timelines:
        course = kinetics(timeline, moment, params)
        profile = cytokine_profile(timeline, course.at, params)
        payload.append(
            {
                "schema": "crswatch.biomarker-report/1",
                "patient_id": timeline.patient.id,
                "at": course.to_dict()["at"],
                "kinetics": course.to_dict(),
                "cytokines": profile.to_dict(),
            }
        )
    if as_json:
        _emit(payload)
        return
    table = Table(title="Biomarker kinetics")
    for column in ("patient", "analyte", "baseline", "peak (h)", "fold", "doubling h", "flags"):
        table.add_column(column, overflow="fold")
    for document in payload:
        for row in document["kinetics"]["analytes"]:
            if not row["n"]:
                continue
            baseline = row["baseline"]["value"] if row["baseline"] else "-"
            peak = row["peak"]
            shown = f"{peak['value']:g} ({peak['hours_from_start']:g})" if peak else "-"
            table.add_row(
                escape(document["patient_id"]),
                f"{row['item']} [{row['unit']}]",
                str(baseline),
                shown,
                "-" if row["fold_change"] is None else f"{row['fold_change']:.3g}",
                "-"
                if row["fastest_doubling_time_hours"] is None
                else f"{row['fastest_doubling_time_hours']:.3g}",
                escape(", ".join(f["id"] for f in row["flags"])),
            )
    console.print(table)
    for document in payload:
        pattern = document["cytokines"]["hlh_pattern"]
        crp = document["kinetics"]["crp_peak"]["passed"]
        crp_text = "no CRP" if crp is None else ("yes" if crp else "no")
        console.print(
            f"{escape(document['patient_id'])}: HLH cytokine pattern {pattern['shown_as']}; "
            f"CRP peak passed: {crp_text}"
        )


@app.command()
def risk(
    path: PathArgument,
    at: Annotated[
        str | None,
        typer.Option(help="Reference time, ISO 8601 with offset (default: the therapy start)."),
    ] = None,
    as_json: JsonOption = False,
    window_days: Annotated[
        float, typer.Option(help="Latest value in [reference - window, reference] (days).")
    ] = 7.0,
    unverified: Annotated[
        bool,
        typer.Option(
            "--unverified",
            help="Also compute CAR-HEMATOTOX, whose point table is unverified (labelled).",
        ),
    ] = False,
) -> None:
    """Pre-treatment risk: EASIX, s-EASIX, m-EASIX, disease burden (CAR-HEMATOTOX on request)."""
    from crswatch.biomarkers import BiomarkerParameters, pretreatment_risk

    timelines, moment = _read(path, at, "scoring")
    params = BiomarkerParameters(
        pretreatment_window=timedelta(days=window_days), include_unverified=unverified
    )
    results = [pretreatment_risk(t, moment, params) for t in timelines]
    if as_json:
        _emit([r.to_dict() for r in results])
        return
    table = Table(title="Pre-treatment risk")
    for column in ("patient", "score", "value", "category", "missing"):
        table.add_column(column, overflow="fold")
    for result in results:
        for score in result.scores:
            value = "-" if score.value is None else f"{score.value:.4g}"
            if score.bounds is not None and score.value is None:
                value = f"{score.bounds[0]}-{score.bounds[1]}"
            label = score.id if score.verified else f"{score.id} (unverified)"
            table.add_row(
                escape(result.patient_id),
                label,
                value,
                score.category or "-",
                escape(", ".join(score.missing)),
            )
        burden = result.disease_burden
        table.add_row(
            escape(result.patient_id),
            "disease burden (cytoreduction)",
            _status(burden.status),
            "",
            escape(", ".join(burden.missing)),
        )
    console.print(table)
