"""``crswatch blinatumomab plan`` and ``status``: label regimens and the record's state machine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail
from crswatch.cli._options import JsonOption, option_time
from crswatch.cli._render import render_report
from crswatch.errors import InputError

if TYPE_CHECKING:
    from crswatch.regimens import AdverseEvent

__all__ = ["blinatumomab_app"]

#: The label's regimen names and label versions, for the options' help; written out so that
#: ``--help`` does not load the regimens (tests/cli/test_startup.py checks them against
#: ``crswatch.regimens.REGIMENS`` and ``LABEL_VERSIONS``).
REGIMEN_NAMES = ("rr", "mrd", "nct01209286_flat15", "nct01209286_5_15", "nct01209286_5_15_30")
LABEL_VERSION_NAMES = ("current", "2015")

blinatumomab_app = typer.Typer(
    rich_markup_mode=None,
    name="blinatumomab",
    help="Blinatumomab (BLINCYTO): plan cycles and premedication; status from the record.",
    no_args_is_help=True,
)
app.add_typer(blinatumomab_app, name="blinatumomab")


@blinatumomab_app.command()
def plan(
    weight_kg: Annotated[float, typer.Option("--weight-kg", help="Body weight (kg).")],
    bsa_m2: Annotated[
        float | None, typer.Option("--bsa-m2", help="Body-surface area (m2).")
    ] = None,
    height_cm: Annotated[
        float | None, typer.Option("--height-cm", help="Height (cm): BSA by Mosteller.")
    ] = None,
    setting: Annotated[str, typer.Option(help="rr (relapsed/refractory) or mrd.")] = "rr",
    regimen: Annotated[
        str | None,
        typer.Option(help=f"A named regimen instead of the setting's: {', '.join(REGIMEN_NAMES)}."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="First dose, ISO 8601 with offset: adds times.")
    ] = None,
    age_years: Annotated[
        float | None, typer.Option("--age-years", help="Age (children: premedication per m2).")
    ] = None,
    region: Annotated[str, typer.Option(help="Premedication text for children: us or eu.")] = "us",
    cycles: Annotated[int | None, typer.Option(help="Plan only the first N cycles.")] = None,
    marrow_blasts_pct: Annotated[
        float | None, typer.Option("--marrow-blasts-pct", help="Bone-marrow blasts (%).")
    ] = None,
    blood_blasts_per_ul: Annotated[
        float | None, typer.Option("--blood-blasts-per-ul", help="Blood blasts (/uL).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Plan blinatumomab cycles, doses, premedication and hospital stays."""
    from crswatch.regimens import plan_blinatumomab

    if bsa_m2 is not None and height_cm is not None:
        raise fail("give --bsa-m2 or --height-cm, not both")
    if region not in ("us", "eu"):
        raise fail(f"--region={region!r} is not us or eu")
    if regimen is None and setting not in ("rr", "mrd"):
        raise fail(f"--setting={setting!r} is not rr or mrd")
    try:
        result = plan_blinatumomab(
            weight_kg,
            bsa_m2=bsa_m2,
            height_cm=height_cm,
            setting=setting,
            regimen=regimen,
            start=option_time(start, "--start"),
            age_years=age_years,
            region="eu" if region == "eu" else "us",
            max_cycles=cycles,
            marrow_blasts_pct=marrow_blasts_pct,
            blood_blasts_per_ul=blood_blasts_per_ul,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    payload = result.to_dict()
    if as_json:
        emit_json(payload)
        return
    _render_plan(payload)


def _render_plan(payload: dict[str, Any]) -> None:
    regimen = payload["regimen"]
    console.print(f"[bold]{escape(regimen['name'])}[/] ({payload['dosing_basis']} dosing)")
    table = Table("cycle", "days", "ug/day", "premedication", "hospital days")
    for cycle in payload["cycles"]:
        days = ", ".join(f"{s['start_day']}-{s['end_day']}" for s in cycle["segments"])
        doses = ", ".join(f"{s['dose_ug_per_day']:g}" for s in cycle["segments"])
        premeds = "; ".join(
            f"day {p['day']}: {p['drug']} {p['dose_mg']:g} mg" for p in cycle["premedications"]
        )
        first = cycle["hospitalization"]["first_days"]
        table.add_row(str(cycle["cycle"]), days, doses, premeds or "-", str(first or "-"))
    console.print(table)
    for warning in payload["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def _adverse_event(text: str) -> AdverseEvent:
    from crswatch.regimens import AdverseEvent
    from crswatch.timeline import parse_time

    parts = text.split("@")
    if len(parts) not in (3, 4):
        raise fail(f"--adverse-event={text!r}: use NAME@GRADE@ONSET[@RESOLVED]")
    try:
        grade = int(parts[1])
        onset = parse_time(parts[2], "--adverse-event onset")
        resolved = parse_time(parts[3], "--adverse-event resolved") if len(parts) == 4 else None
    except (ValueError, InputError) as exc:
        raise fail(f"--adverse-event={text!r}: {exc}") from None
    return AdverseEvent(parts[0], grade, onset, resolved)


@blinatumomab_app.command()
def status(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    at: Annotated[
        str | None,
        typer.Option(help="Evaluation time, ISO 8601 with offset (default: last event)."),
    ] = None,
    label_version: Annotated[
        str, typer.Option(help=f"Label version: {', '.join(LABEL_VERSION_NAMES)}.")
    ] = "current",
    crs_scale: Annotated[
        str, typer.Option(help="CRS scale for the CRS rules (the label's scale is unverified).")
    ] = "astct2019",
    setting: Annotated[str, typer.Option(help="rr or mrd.")] = "rr",
    regimen: Annotated[str | None, typer.Option(help="A named regimen instead.")] = None,
    adverse_event: Annotated[
        list[str] | None,
        typer.Option(
            "--adverse-event",
            help="Other adverse reaction NAME@GRADE@ONSET[@RESOLVED] (repeatable).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Where each patient is in the course, the dose due, premedication and deviations."""
    from crswatch.io import read_path
    from crswatch.regimens import (
        LABEL_VERSIONS,
        StatusParameters,
        blinatumomab_not_applicable,
        blinatumomab_status,
    )

    moment = option_time(at, "--at")
    if label_version not in LABEL_VERSIONS:
        raise fail(f"--label-version={label_version!r} is not one of {', '.join(LABEL_VERSIONS)}")
    events = [_adverse_event(text) for text in adverse_event or []]
    try:
        result = read_path(path)
    except InputError as exc:
        raise fail(str(exc)) from None
    if not result.report.ok:
        render_report(result.report, err_console)
        raise fail("records were rejected; fix them first (see crswatch validate)", 1)
    params = StatusParameters(
        label_version=label_version, crs_scale=crs_scale, setting=setting, regimen=regimen
    )
    payload = []
    for timeline in result.timelines:
        not_applicable = blinatumomab_not_applicable(timeline, moment)
        if not_applicable is not None:
            payload.append(not_applicable)
            continue
        try:
            found = blinatumomab_status(timeline, moment, params=params, adverse_events=events)
        except (ValueError, LookupError) as exc:
            raise fail(f"patient {timeline.patient.id!r}: {exc}") from None
        payload.append(found.to_dict())
    if as_json:
        emit_json(payload[0] if len(payload) == 1 else payload)
        return
    for item in payload:
        _render_status(item)


def _clock(text: object) -> str:
    """An ISO time from the JSON as the bedside reads it (``2024-01-02 09:00 UTC``)."""
    from crswatch.management._model import format_clock
    from crswatch.timeline import parse_time

    return format_clock(parse_time(str(text), "at"))


def _citation(rule_id: object) -> str:
    """The citation of a label rule, by its id (empty for an id the table does not hold)."""
    from crswatch.regimens import RULES, SOURCES

    entry = next((r for r in RULES if r.id == rule_id), None)
    if entry is None:
        return ""
    tag = "" if entry.verified else ", not verified"
    return f"{SOURCES[entry.source]}{tag}"


def _render_status(item: dict[str, Any]) -> None:
    if item.get("state") == "not_applicable":
        console.print(f"[bold]{escape(item['patient_id'])}[/]: {escape(item['text'])}")
        return
    dose = item["dose_due"]
    state = str(item["state"]).replace("_", " ")
    where = f", cycle {item['cycle']} day {item['cycle_day']}" if item["cycle"] else ""
    console.print(
        f"[bold]{escape(item['patient_id'])}[/] at {_clock(item['at'])}:"
        f" {state}{where}; dose due {dose['dose_ug_per_day']:g} µg/day "
        f"({escape(str(dose['reason']))})"
    )
    if dose.get("rule"):
        console.print(f"  [dim]source: {escape(_citation(dose['rule']))}[/]")
    if item["next_premedication"]:
        premed = item["next_premedication"]
        drugs = ", ".join(f"{p['drug']} {p['dose_mg']:g} mg" for p in premed["items"])
        due = premed["due"] or "before the start of the infusion"
        console.print(f"  next premedication: {escape(drugs)} (due {escape(str(due))})")
    for action in item["actions"]:
        console.print(
            f"  [bold]{escape(str(action['action']))}[/] {_clock(action['at'])}: "
            f"{escape(str(action['detail']))}"
        )
    for deviation in item["deviations"]:
        kind = str(deviation["kind"]).replace("_", " ")
        text = f"{kind} at {_clock(deviation['at'])}: {deviation['detail']}"
        console.print(f"  [red]deviation[/] {escape(text)}")
    for note in (*item["ambiguous"], *item["warnings"]):
        console.print(f"  [yellow]note:[/] {escape(str(note))}")
