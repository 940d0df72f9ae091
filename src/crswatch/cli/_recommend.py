"""``crswatch recommend`` and ``crswatch dose``: management actions at T, and label dosing."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail, say
from crswatch.cli._options import FeverWaiverChoice, FeverWaiverOption, state_parameters
from crswatch.cli._render import render_report
from crswatch.errors import InputError, UnknownCodeError
from crswatch.io import read_path
from crswatch.management import RULESETS, Recommendation, recommend, tocilizumab_dose
from crswatch.timeline import format_time, parse_time

__all__ = ["dose", "recommend_command"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Drug(StrEnum):
    tocilizumab = "tocilizumab"


def _table(result: Recommendation) -> Table:
    f = result.facts
    title = (
        f"{result.patient_id} at {format_time(result.at)}: {result.ruleset.id} "
        f"v{result.ruleset.version} (CRS {f.crs_scale} {f.crs_grade}, ICANS {f.icans_grade})"
    )
    table = Table(title=escape(title))
    for column in ("prio", "category", "action", "dose", "source"):
        table.add_column(column, overflow="fold")
    for action in result.actions:
        dose = ""
        if action.dose is not None:
            dose = f"{action.dose.drug} {action.dose.dose_mg:g} mg {action.dose.timing}"
            if not action.dose.allowed:
                dose += " [REFUSED: " + "; ".join(action.dose.reasons) + "]"
        source = f"{action.source.reference} [{action.source.verification}]"
        table.add_row(
            str(action.priority), action.category, escape(action.text), escape(dose),
            escape(source),
        )  # fmt: skip
    return table


@app.command("recommend")
def recommend_command(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    ruleset: Annotated[
        str | None,
        typer.Option(help=f"Rule set ({', '.join(RULESETS)}); default by therapy kind."),
    ] = None,
    crs_scale: Annotated[
        str | None, typer.Option(help="Read CRS grades from this scale instead.")
    ] = None,
    as_json: JsonOption = False,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """What to do now: every action of a rule set, with dose, rationale and source."""
    try:
        moment = parse_time(at, "--at") if at is not None else None
        read = read_path(path)
    except InputError as exc:
        raise fail(str(exc)) from None
    if not read.report.ok:
        render_report(read.report, err_console)
        raise fail("records were rejected; fix them before recommending (see validate)", 1)
    try:
        params = state_parameters(fever_waiver)
        results = [
            recommend(timeline, moment, ruleset, crs_scale=crs_scale, params=params)
            for timeline in read.timelines
        ]
    except (UnknownCodeError, InputError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        payload = [result.to_dict() for result in results]
        emit_json(payload[0] if len(payload) == 1 else payload)
        return
    for result in results:
        console.print(_table(result))
        for warning in result.warnings:
            console.print(f"[yellow]warning:[/] {escape(warning)}")


@app.command()
def dose(
    drug: Annotated[Drug, typer.Argument(help="The drug (tocilizumab).")],
    weight_kg: Annotated[float, typer.Option("--weight-kg", help="Body weight (kg).")],
    given_at: Annotated[
        list[str] | None,
        typer.Option("--given-at", help="Time of a dose already given (repeatable, ISO 8601)."),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="When the dose would be given (default: now, UTC).")
    ] = None,
    dose_mg: Annotated[
        float | None, typer.Option("--dose-mg", help="A requested dose to check (mg).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The label dose, and whether a dose now is allowed (refusals name the rule broken)."""
    try:
        moment = parse_time(at, "--at") if at is not None else datetime.now(UTC)
        given = [parse_time(text, "--given-at") for text in given_at or []]
        check = tocilizumab_dose(weight_kg, at=moment, given=given, requested_mg=dose_mg)
    except InputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(check.to_dict())
        return
    verdict = "[green]allowed[/]" if check.allowed else "[bold red]refused[/]"
    say(
        f"{drug.value} {check.dose_mg:g} mg ({check.mg_per_kg:g} mg/kg x {weight_kg:g} kg"
        f"{', 800 mg cap' if check.cap_applied else ''}) IV over 60 min: {verdict}"
    )
    for reason in check.reasons:
        console.print(f"  - {escape(reason)}")
