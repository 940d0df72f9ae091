"""``crswatch validate`` and ``crswatch convert``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crswatch.cli._app import app, console, emit_json, err_console, fail, say
from crswatch.cli._render import render_report
from crswatch.errors import InputError

if TYPE_CHECKING:
    from crswatch.timeline import Timeline

__all__ = ["convert", "validate"]


def _part_count(path: Path) -> int | None:
    """How many parts ``iter_frames`` will yield (shards), when that can be known up front."""
    from crswatch.io import find_table_pairs

    if path.is_dir():
        try:
            return len(find_table_pairs(path))
        except InputError:
            return None
    return 1


def _write_results(timelines: list[Timeline], output: Path) -> Path:
    from crswatch.io.fhir import results_to_bundle  # grading is heavy; import on use

    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        json.dump(results_to_bundle(timelines), handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    return output


@app.command()
def validate(
    path: Annotated[
        Path, typer.Argument(help="A timeline: .json, FHIR .json, or a CSV/Parquet pair.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Read PATH, convert every unit, check every record; exit 1 if anything was rejected."""
    # Tables are validated column-wise, shard by shard (crswatch.io.iter_frames): the same
    # report as the per-event reader, fast enough for cohorts of 10^5 patients.
    from crswatch.io import iter_frames
    from crswatch.timeline import IngestReport

    report = IngestReport(source=str(path))
    try:
        with Progress(
            TextColumn("validating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("parts", total=_part_count(path))
            for part in iter_frames(path):
                report.merge(part.report)
                progress.advance(task)
    except InputError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json(report.to_dict())
    else:
        render_report(report, console)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def convert(
    source: Annotated[
        Path, typer.Argument(help="Input timeline(s): JSON, FHIR JSON, CSV/Parquet.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="Output file (json, fhir), or for csv and parquet a folder of two tables: "
            "-o out.parquet writes out/patients.parquet and out/events.parquet.",
        ),
    ],
    to: Annotated[
        str | None,
        typer.Option(help="json, csv, parquet or fhir (default: from the output name)."),
    ] = None,
    keep_valid: Annotated[
        bool,
        typer.Option(help="Write the valid records even when some were rejected (still exits 1)."),
    ] = False,
    results: Annotated[
        bool,
        typer.Option(
            "--results",
            help="FHIR output only: add each grade (Observation) and HLH/MAS alert "
            "(DetectedIssue) at each patient's last event.",
        ),
    ] = False,
) -> None:
    """Convert timelines between JSON, CSV/Parquet tables and FHIR R4 Bundles.

    Nothing is written when any record was rejected, unless --keep-valid is given, so a
    conversion never drops data silently.
    """
    from crswatch.io import detect_output_format, read_path, write_path

    try:
        if results and detect_output_format(output, to) != "fhir":
            raise fail("--results writes FHIR: name the output .fhir.json or give --to fhir")
        result = read_path(source)
        if not result.report.ok and not keep_valid:
            render_report(result.report, err_console)
            raise fail("records were rejected; nothing was written (see --keep-valid)", 1)
        if results:
            written = _write_results(result.timelines, output)
        else:
            written = write_path(result.timelines, output, to=to)
    except InputError as exc:
        raise fail(str(exc)) from None
    events = sum(len(timeline.events) for timeline in result.timelines)
    target = str(written)
    if written.is_dir():
        # A table pair is a folder: say so, as "-o out.parquet" writes out/, not a file.
        suffix = f".{detect_output_format(output, to)}"
        tables = " and ".join(str(written / f"{name}{suffix}") for name in ("patients", "events"))
        target = f"the folder {written}/ ({tables})"
    say(
        f"wrote {len(result.timelines)} patient(s), {events} event(s) to {target}",
        stderr=True,
    )
    if not result.report.ok:
        render_report(result.report, err_console)
        raise typer.Exit(1)
