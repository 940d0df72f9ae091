"""``crswatch trajectory`` and ``crswatch episodes``: the whole course, per syndrome and scale."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, err_console, fail, print_legend
from crswatch.cli._options import FeverWaiverChoice, FeverWaiverOption, state_parameters
from crswatch.cli._render import render_report
from crswatch.cli._simulate import parse_duration
from crswatch.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from crswatch.episodes import Episode
    from crswatch.timeline import Timeline

__all__ = ["episodes", "trajectory_command"]

_AT_HELP = (
    "The last time evaluated, ISO 8601 with offset (default: each record's last event; "
    "nothing after it is evaluated)."
)


def _read(path: Path) -> list[Timeline]:
    from crswatch.io import read_path

    result = read_path(path)
    if not result.report.ok:
        render_report(result.report, err_console)
        raise fail("records were rejected; fix them first (see crswatch validate)", 1)
    return result.timelines


@app.command("trajectory")
def trajectory_command(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    every: Annotated[
        str | None, typer.Option(help="A regular grid, e.g. 1h (default: every state change).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    scale: Annotated[
        list[str] | None, typer.Option("--scale", help="Scale (repeat): CRS id or icans.<id>.")
    ] = None,
    all_rows: Annotated[
        bool, typer.Option("--all-rows", help="Every evaluation time, not only changes.")
    ] = False,
    at: Annotated[str | None, typer.Option(help=_AT_HELP)] = None,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """Grade over time for every CRS and ICANS scale: one row per change (or grid point)."""
    import polars as pl

    from crswatch.episodes import trajectory
    from crswatch.timeline import format_time, parse_time

    if output_format not in ("csv", "json"):
        raise fail(f"--format {output_format!r} must be csv or json")
    try:
        grid = parse_duration(every) if every else None
        until = parse_time(at, "--at") if at is not None else None
        table = trajectory(
            _read(path),
            scales=scale,
            every=grid,
            changes_only=not all_rows,
            params=state_parameters(fever_waiver),
            until=until,
        )
    except (InputError, LookupError) as exc:
        raise fail(str(exc)) from None
    table = table.with_columns(pl.col("at").map_elements(format_time, return_dtype=pl.String))
    if output_format == "json":
        # The same rows as the API's trajectory (grade, status, lower, upper).
        emit_json(table.to_dicts())
        return
    buffer = io.StringIO()
    # The table a person reads: the grade in the shared notation in a last column, ``shown``.
    _notation(table).write_csv(buffer)
    typer.echo(buffer.getvalue(), nl=False)


def _peak(grade: int, upper: int | None) -> str:
    """An episode's peak in the shared notation: the grade certain on the documented findings,
    provisional when what is not documented could have taken it higher."""
    from crswatch.scales import grade_notation

    top = grade if upper is None else upper
    return grade_notation(grade, "graded" if top <= grade else "provisional", grade, top)


def _notation(table: pl.DataFrame) -> pl.DataFrame:
    """The trajectory with its grade in the shared notation (column ``shown``)."""
    import polars as pl

    from crswatch.scales import grade_notation

    shown = [
        grade_notation(grade, status, lower, upper)
        for grade, status, lower, upper in table.select("grade", "status", "lower", "upper").rows()
    ]
    return table.with_columns(pl.Series("shown", shown, dtype=pl.String))


def _block(
    episodes_found: list[Episode], peaks: pl.DataFrame, patient_id: str, kind: str
) -> dict[str, Any]:
    import polars as pl

    rows = peaks.filter((pl.col("patient_id") == patient_id) & (pl.col("kind") == kind))
    return {
        "peak": {row["scale"]: row["peak_grade"] for row in rows.to_dicts()},
        "peak_upper": {row["scale"]: row["peak_upper"] for row in rows.to_dicts()},
        "episodes": [
            e.to_dict() for e in episodes_found if e.patient_id == patient_id and e.kind == kind
        ],
    }


@app.command()
def episodes(
    path: Annotated[Path, typer.Argument(help="Timeline(s): JSON, FHIR JSON, CSV/Parquet.")],
    scale: Annotated[
        list[str] | None, typer.Option("--scale", help="Scale (repeat): CRS id or icans.<id>.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    at: Annotated[str | None, typer.Option(help=_AT_HELP)] = None,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """CRS and ICANS episodes per scale: onset, peak grade and when, resolution, duration.

    ICANS also lists the assessment gaps: no ICE or CAPD for longer than the interval (12 h)
    while CRS was active.
    """
    from crswatch.episodes import (
        assessment_gaps,
        episodes_from_trajectory,
        peak_grades,
        trajectory,
    )
    from crswatch.scales import select_scales
    from crswatch.timeline import parse_time

    try:
        timelines = _read(path)
        until = parse_time(at, "--at") if at is not None else None
        table = trajectory(
            timelines, scales=scale, params=state_parameters(fever_waiver), until=until
        )
        with_icans = any(s.kind == "icans" for s in select_scales(scale))
        gaps = assessment_gaps(timelines) if with_icans else []
    except (InputError, LookupError) as exc:
        raise fail(str(exc)) from None
    found = episodes_from_trajectory(table)
    peaks = peak_grades(table)
    payload = []
    for timeline in timelines:
        patient_id = timeline.patient.id
        icans = _block(found, peaks, patient_id, "icans")
        icans["assessment_gaps"] = [g.to_dict() for g in gaps if g.patient_id == patient_id]
        payload.append(
            {"patient_id": patient_id, **_block(found, peaks, patient_id, "crs"), "icans": icans}
        )
    if as_json:
        emit_json(payload[0] if len(payload) == 1 else payload)
        return
    view = Table(title="CRS and ICANS episodes")
    for column in (
        "patient",
        "syndrome",
        "scale",
        "onset",
        "peak",
        "peak at",
        "resolution",
        "hours",
    ):
        view.add_column(column)
    for entry in payload:
        for syndrome, block in (("CRS", entry), ("ICANS", entry["icans"])):
            for episode in block["episodes"]:
                hours = episode["duration_hours"]
                view.add_row(
                    escape(str(entry["patient_id"])),
                    syndrome,
                    episode["scale"],
                    episode["onset"],
                    escape(_peak(episode["peak_grade"], episode["peak_upper"])),
                    episode["peak_at"],
                    episode["resolution"] or "not resolved",
                    f"{hours:.1f}" if hours is not None else "-",
                )
    console.print(view)
    print_legend()
    for entry in payload:
        for gap in entry["icans"]["assessment_gaps"]:
            console.print(
                f"[yellow]warning:[/] {escape(str(entry['patient_id']))}: no ICE or CAPD for "
                f"{gap['hours_without']:.1f} h while CRS was active (overdue from "
                f"{gap['overdue_from']} to {gap['until']})",
                highlight=False,
            )
