"""``crswatch demo``: the main job on the embedded default.

Until the dashboard lands this simulates a small synthetic ward, validates it and prints it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crswatch.cli._app import app, console, fail
from crswatch.cli._render import render_report
from crswatch.io import read_path
from crswatch.timeline import Timeline

__all__ = ["demo"]

DEMO_PATIENTS = 24
DEMO_SEED = 20241121


def _data_dir() -> Path:
    return Path(os.environ.get("CRSWATCH_DATA_DIR", "crswatch-data"))


def _max(timeline: Timeline, item: str) -> float | None:
    values = [e.value for e in timeline.events if e.item == item and isinstance(e.value, float)]
    return max(values) if values else None


def _min(timeline: Timeline, item: str) -> float | None:
    values = [e.value for e in timeline.events if e.item == item and isinstance(e.value, float)]
    return min(values) if values else None


def _ward_table(timelines: list[Timeline]) -> Table:
    table = Table(title="Synthetic ward (raw data; grading arrives with the grading engine)")
    for column in (
        "patient",
        "therapy",
        "age",
        "events",
        "max °C",
        "min SBP",
        "pressors",
        "max O2",
        "toci",
    ):
        table.add_column(column)
    pressors = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
    o2_rank = (
        "room_air",
        "blow_by",
        "nasal_cannula",
        "face_mask",
        "venturi_mask",
        "non_rebreather_mask",
        "high_flow_nasal_cannula",
        "cpap",
        "bipap",
        "mechanical_ventilation",
    )
    for timeline in timelines:
        patient = timeline.patient
        running = sorted({e.item for e in timeline.events if e.item in pressors and e.value != 0.0})
        devices = [str(e.value) for e in timeline.events if e.item == "o2_device"]
        top_device = max(devices, key=o2_rank.index) if devices else "-"
        max_temp, min_sbp = _max(timeline, "temperature"), _min(timeline, "sbp")
        table.add_row(
            patient.id,
            f"{patient.therapy.kind} {patient.therapy.product or ''}".strip(),
            f"{patient.age_years:g}" if patient.age_years is not None else "-",
            str(len(timeline.events)),
            f"{max_temp:.1f}" if max_temp is not None else "-",
            f"{min_sbp:.0f}" if min_sbp is not None else "-",
            ", ".join(running) or "-",
            top_device,
            str(len(timeline.of("tocilizumab"))),
        )
    return table


@app.command()
def demo(
    patients: Annotated[
        int, typer.Option(min=1, help="Patients on the demo ward.")
    ] = DEMO_PATIENTS,
) -> None:
    """Create the demo data directory with a synthetic ward, validate it and show it."""
    from crswatch.simulate import write_cohort

    directory = _data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    ward = directory / "demo-ward.json"
    write_cohort(ward, patients, seed=DEMO_SEED, therapy="mixed")
    result = read_path(ward)
    render_report(result.report, console)
    if not result.report.ok:
        raise fail("the synthetic ward did not validate", 1)
    console.print(_ward_table(result.timelines))
    console.print(
        f"Data: {ward}\nNext: crswatch validate {ward} --json | crswatch convert {ward} "
        f"-o {directory / 'demo-ward.fhir.json'}",
        highlight=False,
    )
