"""``crswatch grade``: every CRS and ICANS scale at a time, with the deciding criterion."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import (
    app,
    console,
    emit_json,
    err_console,
    fail,
    grade_cell,
    print_legend,
)
from crswatch.cli._options import FeverWaiverChoice, FeverWaiverOption, state_parameters
from crswatch.cli._render import render_report
from crswatch.errors import InputError

if TYPE_CHECKING:
    from crswatch.scales import GradeResult, PatientGrades

__all__ = ["grade"]


def _deciding(result: GradeResult) -> str:
    """What set the grade; for a grade not decided, also what is undecided or not documented."""
    deciding = result.deciding
    if result.status == "graded":
        return deciding.rule if deciding is not None else "no criterion met"
    parts = [deciding.rule] if deciding is not None else []
    lower = result.bounds[0]
    # Undecided: a criterion that could not be evaluated, or one met whose wording spans grades
    # (its note says what the record does not tell).
    open_ = [
        e
        for e in result.evidence
        if (e.met is None and (e.grade_high or e.grade) > lower)
        or (e.met and e.grade_high is not None and e.grade_high > e.grade)
    ]
    if open_:
        top = max(open_, key=lambda e: e.grade_high or e.grade)
        if top is deciding:
            parts = []
        parts.append(f"undecided: {top.note or top.rule}")
    if result.missing:
        parts.append("not documented: " + ", ".join(result.missing))
    return "; ".join(parts) or "no criterion met"


def _table(graded: list[PatientGrades]) -> Table:
    table = Table(title="CRS and ICANS grade on every scale")
    for column in ("patient", "at", "syndrome", "scale", "grade", "deciding criterion"):
        table.add_column(column, overflow="fold")
    for patient in graded:
        for syndrome, results in (("CRS", patient.crs), ("ICANS", patient.icans)):
            for scale_id, result in results.items():
                table.add_row(
                    escape(patient.patient_id),
                    patient.at.strftime("%Y-%m-%d %H:%M"),
                    syndrome,
                    scale_id,
                    escape(grade_cell(result.grade, result.status, result.bounds)),
                    escape(_deciding(result)),
                )
    return table


def _icans_warnings(graded: list[PatientGrades]) -> list[str]:
    """ICANS assumptions and exclusions, which change how far the grade can be trusted."""
    lines = []
    for patient in graded:
        for scale_id, result in patient.icans.items():
            lines += [f"{patient.patient_id} ICANS {scale_id}: {w}" for w in result.warnings]
    return lines


@app.command()
def grade(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    scale: Annotated[
        list[str] | None,
        typer.Option(
            "--scale",
            help="Scale (repeat): a CRS id, or icans.<id>; default: every CRS and ICANS scale.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """Grade CRS and ICANS on every published scale at a time, with evidence."""
    from crswatch.io import read_frames
    from crswatch.scales import grade_patient_frames
    from crswatch.timeline import parse_time

    try:
        moment = parse_time(at, "--at") if at is not None else None
        # Frames, not Timeline objects: a table set is read column-wise (issue #16 point 4).
        read = read_frames(path)
        if not read.report.ok:
            render_report(read.report, err_console)
            raise fail("records were rejected; fix them before grading (see crswatch validate)", 1)
        graded = grade_patient_frames(
            read.patients,
            read.events,
            at=moment,
            scales=scale,
            params=state_parameters(fever_waiver),
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    except LookupError as exc:
        raise fail(str(exc)) from None
    if as_json:
        payload = [g.to_dict() for g in graded]
        emit_json(payload[0] if len(payload) == 1 else payload)
    else:
        console.print(_table(graded))
        print_legend()
        # About the time itself (before the record): once per patient, for every scale.
        for patient in graded:
            for warning in patient.warnings:
                console.print(
                    f"[yellow]warning:[/] {escape(patient.patient_id)}: {escape(warning)}",
                    highlight=False,
                )
        for line in _icans_warnings(graded):
            console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False)
