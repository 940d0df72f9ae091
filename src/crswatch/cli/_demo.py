"""``crswatch demo``: the main job on the embedded default.

Until the dashboard lands this simulates a small synthetic ward, validates it, grades it and
prints the ward: CRS now and at its peak.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crswatch.cli._app import app, console, fail
from crswatch.cli._render import render_report
from crswatch.episodes import peak_grades, trajectory
from crswatch.io import read_path
from crswatch.scales import grade_timelines
from crswatch.state import PRESSORS, RATE_COLUMNS, state_of
from crswatch.timeline import Timeline

__all__ = ["demo"]

DEMO_PATIENTS = 24
DEMO_SEED = 20241121
_SHOWN = ("astct2019", "lee2014")


def _data_dir() -> Path:
    return Path(os.environ.get("CRSWATCH_DATA_DIR", "crswatch-data"))


def _ward_table(timelines: list[Timeline]) -> Table:
    graded = {g.patient_id: g for g in grade_timelines(timelines, scales=list(_SHOWN))}
    peaks = peak_grades(trajectory(timelines, scales=list(_SHOWN)))
    peak = {(row["patient_id"], row["scale"]): row["peak_grade"] for row in peaks.to_dicts()}
    table = Table(title="Synthetic ward: CRS now and at its peak (ASTCT 2019 and Lee 2014)")
    for column in (
        "patient",
        "therapy",
        "day",
        "ASTCT now",
        "ASTCT peak",
        "Lee peak",
        "pressors now",
        "O2 now",
    ):
        table.add_column(column)
    # What is running at each patient's last event, as the state engine sees it.
    state = {row["patient_id"]: row for row in state_of(timelines).to_dicts()}
    for timeline in timelines:
        patient = timeline.patient
        now = graded[patient.id].crs["astct2019"]
        shown = str(now.grade) if now.grade is not None else f"{now.bounds[0]}-{now.bounds[1]}?"
        day = (now.at - patient.therapy.start).days
        table.add_row(
            patient.id[-6:],
            patient.therapy.kind,
            str(day),
            shown,
            str(peak.get((patient.id, "astct2019"), "-")),
            str(peak.get((patient.id, "lee2014"), "-")),
            ", ".join(d for d in PRESSORS if state[patient.id][RATE_COLUMNS[d]]) or "-",
            str(state[patient.id]["o2_device"]),
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
        f"Data: {ward}\nTry: crswatch grade {ward}   crswatch episodes {ward}   "
        f"crswatch convert {ward} -o {directory / 'demo-ward.fhir.json'}",
        highlight=False,
    )
