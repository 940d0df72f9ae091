"""``crswatch regimen plan DRUG`` and ``regimen status PATH``: the step-up bispecific engagers.

``blinatumomab`` is accepted as DRUG too and hands over to ``crswatch blinatumomab plan``'s
engine (its regimens need more options: BSA, setting, region).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail
from crswatch.cli._options import JsonOption, option_time
from crswatch.cli._render import render_report
from crswatch.errors import InputError

__all__ = ["regimen_app"]

regimen_app = typer.Typer(
    name="regimen",
    help=(
        "Step-up bispecific T-cell engagers (teclistamab, elranatamab, talquetamab, "
        "epcoritamab, glofitamab, mosunetuzumab, tarlatamab): plan from the label; status "
        "from the record."
    ),
    no_args_is_help=True,
)
app.add_typer(regimen_app, name="regimen")

#: The products' names, for the argument's help; written out so that ``--help`` does not load the
#: regimens (tests/cli/test_startup.py checks them against ``crswatch.regimens.PRODUCTS``).
PRODUCT_NAMES = (
    "teclistamab",
    "elranatamab",
    "talquetamab",
    "epcoritamab",
    "glofitamab",
    "mosunetuzumab",
    "tarlatamab",
)
_DRUGS = ", ".join([*PRODUCT_NAMES, "blinatumomab"])


@regimen_app.command()
def plan(
    drug: Annotated[str, typer.Argument(help=f"The product: {_DRUGS}.")],
    weight_kg: Annotated[
        float | None, typer.Option("--weight-kg", help="Body weight (kg), for mg/kg doses.")
    ] = None,
    indication: Annotated[
        str | None,
        typer.Option(help="The label schedule, e.g. dlbcl or fl (epcoritamab), biweekly."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Day 1, ISO 8601 with offset: adds dates and times.")
    ] = None,
    periods: Annotated[
        int | None, typer.Option(help="Plan this many weeks or cycles (open-ended schedules).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan a step-up bispecific course: doses, stays, premedication, label actions."""
    from crswatch.regimens import plan_blinatumomab, plan_regimen

    moment = option_time(start, "--start")
    if drug.strip().lower() == "blinatumomab":
        if weight_kg is None:
            raise fail("--weight-kg is needed for blinatumomab")
        try:
            blin = plan_blinatumomab(weight_kg, start=moment, max_cycles=periods)
        except ValueError as exc:
            raise fail(str(exc)) from None
        if as_json:
            emit_json(blin.to_dict())
        else:
            console.print_json(data=blin.to_dict())
        return
    try:
        result = plan_regimen(
            drug, weight_kg=weight_kg, indication=indication, start=moment, periods=periods
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    payload = result.to_dict()
    if as_json:
        emit_json(payload)
        return
    _render_plan(payload)


def _dose_text(dose: dict[str, Any]) -> str:
    text = f"{dose['dose']:g} {dose['unit']}"
    if dose["unit"] == "mg/kg" and dose["dose_mg"] is not None:
        text += f" = {dose['dose_mg']:g} mg"
    if not dose["dose_verified"]:
        text += " (unverified)"
    return text


def _render_plan(payload: dict[str, Any]) -> None:
    schedule = payload["schedule"]
    period = schedule["period"]
    console.print(f"[bold]{escape(payload['product'])}[/]: {escape(schedule['name'])}")
    console.print(f"label: {escape(payload['label']['citation'])}")
    table = Table(period, "day", "course day", "drug", "dose", "name", "stay after", "premed")
    for dose in payload["doses"]:
        stay = dose["monitoring"]
        table.add_row(
            str(dose[period]),
            str(dose["day"]),
            str(dose["course_day"]),
            dose["drug"],
            _dose_text(dose),
            escape(dose["name"]),
            "-" if stay is None else f"{stay['hours']:g} h",
            ", ".join(dose["premedications"]) or "-",
        )
    console.print(table)
    if payload["continues_after_plan"]:
        note = schedule["max_periods_note"]
        console.print(
            f"the course continues after the planned {period}s"
            + (f": {escape(note)}" if note else "")
        )
    for switch in schedule["switches"]:
        console.print(f"switch: {escape(switch['text'])}")
    for item in payload["unverified"]:
        console.print(f"[yellow]not verified:[/] {escape(item['topic'])}: {escape(item['note'])}")
    for warning in payload["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


@regimen_app.command()
def status(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    drug: Annotated[
        str | None, typer.Option(help="The product (default: the therapy's product).")
    ] = None,
    indication: Annotated[str | None, typer.Option(help="The label schedule.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Dose due, next step-up, premedication, the monitoring window and the label's actions."""
    from crswatch.io import read_path
    from crswatch.regimens import regimen_status

    moment = option_time(at, "--at")
    try:
        result = read_path(path)
    except InputError as exc:
        raise fail(str(exc)) from None
    if not result.report.ok:
        render_report(result.report, err_console)
        raise fail("records were rejected; fix them first (see crswatch validate)", 1)
    payload = []
    for timeline in result.timelines:
        try:
            found = regimen_status(timeline, moment, drug=drug, indication=indication)
        except (ValueError, LookupError) as exc:
            raise fail(str(exc)) from None
        payload.append(found.to_dict())
    if as_json:
        emit_json(payload[0] if len(payload) == 1 else payload)
        return
    for item in payload:
        _render_status(item)


def _render_status(item: dict[str, Any]) -> None:
    console.print(
        f"[bold]{escape(item['patient_id'])}[/] at {item['at']}: {escape(item['product'])}, "
        f"{item['state'].replace('_', ' ')}, {len(item['doses_given'])} dose(s) given"
    )
    nxt = item["next_dose"]
    if nxt is not None:
        due = nxt["due"] or "not dated"
        console.print(f"  next dose: {escape(nxt['name'])} {_dose_text(nxt)}, due {due}")
        if "hold" in nxt:
            console.print(f"  [bold]hold:[/] {escape(nxt['hold'])}")
    monitoring = item["monitoring"]
    if monitoring["now"]:
        console.print(
            f"  in monitoring window until {monitoring['until']} "
            f"({escape(monitoring['setting'])}, after {escape(monitoring['after'])})"
        )
    grades = item["grades"]
    if "crs" in grades:
        console.print(
            f"  CRS {grades['crs']['notation']}, ICANS {grades['icans']['notation']} (ASTCT 2019)"
        )
    reading = grades.get("label_reading")
    if reading and reading["differs"]:
        console.print(
            f"  label reading: CRS grade {reading['grade']}: {escape(reading['evidence'])}"
        )
    for action in item["label_actions"]:
        name = "CRS" if action["syndrome"] == "crs" else "ICANS"
        head = f"  label, {name} grade {action['grade']}: "
        text = " ".join(action["actions"]) if action["verified"] else action["note"]
        console.print(head + escape(text))
    for deviation in item["deviations"]:
        console.print(f"  [red]deviation[/] {deviation['kind']}: {escape(deviation['detail'])}")
    for note in (*item["notes"], *item["warnings"]):
        console.print(f"  [yellow]note:[/] {escape(note)}")


@regimen_app.command()
def docs(
    directory: Annotated[Path, typer.Argument(help="Where to write one page per product.")],
) -> None:
    """Write the docs page of every product (label, version, what is verified)."""
    from crswatch.regimens import PRODUCTS, write_product_docs

    for path in write_product_docs(PRODUCTS.values(), directory):
        console.print(str(path))
