"""``crswatch recommend`` and ``crswatch dose``: management actions at T, and label dosing."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail
from crswatch.cli._options import FeverWaiverChoice, FeverWaiverOption, JsonOption, state_parameters
from crswatch.cli._render import render_report
from crswatch.errors import InputError, UnknownCodeError

if TYPE_CHECKING:
    from crswatch.management import DosingOptions, Recommendation

__all__ = ["dose", "recommend_command"]

#: The rule sets' names, for the option's help; written out so that ``--help`` does not load the
#: management engine (tests/cli/test_startup.py checks them against ``crswatch.management``).
RULESET_NAMES = (
    "lee2014",
    "astct_era",
    "blinatumomab_label",
    "teclistamab_label",
    "elranatamab_label",
    "talquetamab_label",
    "epcoritamab_label",
    "glofitamab_label",
    "mosunetuzumab_label",
    "tarlatamab_label",
)

VialOption = Annotated[
    bool,
    typer.Option(
        "--vial-rounding",
        help="Site rule: round tocilizumab to whole 80/200/400 mg vials (default: whole mg).",
    ),
]


def _dosing(vial_rounding: bool) -> DosingOptions:
    from crswatch.management import TOCILIZUMAB_VIALS_MG, DosingOptions

    return DosingOptions(tocilizumab_vials=TOCILIZUMAB_VIALS_MG if vial_rounding else ())


class Drug(StrEnum):
    tocilizumab = "tocilizumab"


def _grade(result: Recommendation, kind: str) -> str:
    from crswatch.scales import get_scale

    grade = result.to_dict()["grades"][kind]
    scale = result.facts.crs_scale if kind == "crs" else f"icans.{result.ruleset.icans_scale}"
    return f"{kind.upper()} {grade['notation']} ({get_scale(scale).title})"


def _table(result: Recommendation) -> Table:
    from crswatch.management import CATEGORY_LABELS, VERIFICATION_TEXT
    from crswatch.management._model import format_clock

    title = (
        f"{result.patient_id} at {format_clock(result.at)}: {result.ruleset.title}, version "
        f"{result.ruleset.version}; {_grade(result, 'crs')}; {_grade(result, 'icans')}"
    )
    table = Table(title=escape(title))
    for column in ("Priority", "Category", "Action", "Dose", "Source"):
        table.add_column(column, overflow="fold")
    for action in result.actions:
        dose = ""
        if action.dose is not None:
            dose = action.dose.text
            if action.dose.basis:
                dose += f" ({action.dose.basis})"
        source = f"{action.source.reference} ({VERIFICATION_TEXT[action.source.verification]})"
        table.add_row(
            f"{action.priority} ({action.timing})", CATEGORY_LABELS[action.category],
            escape(action.text), escape(dose), escape(source),
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
        typer.Option(help=f"Rule set ({', '.join(RULESET_NAMES)}); default by therapy kind."),
    ] = None,
    crs_scale: Annotated[
        str | None, typer.Option(help="Read CRS grades from this scale instead.")
    ] = None,
    vial_rounding: VialOption = False,
    as_json: JsonOption = False,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """What to do now: every action of a rule set, with dose, rationale and source."""
    from crswatch.io import read_path
    from crswatch.management import recommend
    from crswatch.scales import GRADE_LEGEND
    from crswatch.timeline import parse_time

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
            recommend(
                timeline,
                moment,
                ruleset,
                crs_scale=crs_scale,
                params=params,
                dosing=_dosing(vial_rounding),
            )
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
    for line in GRADE_LEGEND:
        console.print(f"[dim]{escape(line)}[/]", highlight=False)


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
    vial_rounding: VialOption = False,
    as_json: JsonOption = False,
) -> None:
    """The label dose, and whether a dose now is allowed (refusals name the rule broken).

    Exits with status 1 when the dose is refused (the answer, JSON or text, is printed first).
    """
    from crswatch.management import tocilizumab_dose
    from crswatch.timeline import parse_time

    try:
        moment = parse_time(at, "--at") if at is not None else datetime.now(UTC)
        given = [parse_time(text, "--given-at") for text in given_at or []]
        check = tocilizumab_dose(
            weight_kg,
            at=moment,
            given=given,
            requested_mg=dose_mg,
            options=_dosing(vial_rounding),
        )
    except InputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(check.to_dict())
    else:
        verdict = "[green]allowed[/]" if check.allowed else "[bold red]refused[/]"
        console.print(f"{escape(check.summary.rstrip('.'))} ({escape(check.basis)}): {verdict}")
        for _rule, ok, detail in check.checks:
            if not ok:
                console.print(f"  - {escape(detail)}")
    if not check.allowed:
        # A refused dose is not a success: scripts and order sets must not read it as one.
        raise typer.Exit(1)
