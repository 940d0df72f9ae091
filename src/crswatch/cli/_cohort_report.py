"""``crswatch cohort report`` and ``crswatch cohort export``: read a graded cohort
(``crswatch.cohort/1``), write the safety report (HTML + PDF) or a registry-shaped CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crswatch.cli._app import err_console, fail, say
from crswatch.cli._cohort import cohort_app
from crswatch.errors import CRSWatchError

__all__ = ["export", "report"]


@cohort_app.command("report")
def report(
    graded: Annotated[
        Path, typer.Argument(help="Output of `crswatch cohort grade` (a directory).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the report as PDF.")] = None,
    pair: Annotated[
        list[str] | None,
        typer.Option(
            "--pair",
            help="Re-grading pair SOURCE:TARGET (repeat); default penn2018:astct2019, "
            "penn2018:lee2014, lee2014:astct2019.",
        ),
    ] = None,
) -> None:
    """Incidence, onset, time to tocilizumab, cross-scale agreement, re-grading, PD summaries."""
    # Imported here: matplotlib, reportlab and scikit-learn are not needed by other commands.
    from crswatch.cohort import read_cohort
    from crswatch.cohort._report import write_report
    from crswatch.cohort._report_data import DEFAULT_PAIRS, parse_pair

    try:
        pairs = [parse_pair(text) for text in pair] if pair else list(DEFAULT_PAIRS)
        result = read_cohort(graded)
        write_report(result, output, pdf=pdf, pairs=pairs)
    except (CRSWatchError, LookupError) as exc:
        raise fail(str(exc)) from None
    if not result.complete:
        err_console.print(
            "warning: the graded run is incomplete; the report says so", style="yellow"
        )
    written = f"{output}" + (f" and {pdf}" if pdf else "")
    say(f"report written to {written}", stderr=True)


@cohort_app.command("export")
def export(
    graded: Annotated[
        Path, typer.Argument(help="Output of `crswatch cohort grade` (a directory).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
    format: Annotated[str, typer.Option("--format", help="Registry: cibmtr or ebmt.")] = "cibmtr",
) -> None:
    """Registry fields per patient and reporting period: CRS / ICANS onset, maximum ASTCT grade,
    resolution, therapies given. A field-level mapping for data managers, not a submission file."""
    from crswatch.cohort import read_cohort
    from crswatch.cohort._export import registry_rows, write_registry_csv

    try:
        result = read_cohort(graded)
        frame = registry_rows(
            result.patients.collect(),
            result.trajectory.collect(),
            result.episodes.collect(),
            result.treatments.collect(),
            format=format,
        )
        write_registry_csv(
            frame,
            output,
            format=format,
            header=[
                f"source: {result.manifest.get('source')}; crswatch "
                f"{result.manifest.get('crswatch_version')}"
            ],
        )
    except CRSWatchError as exc:
        raise fail(str(exc)) from None
    say(f"{frame.height} row(s) written to {output} ({format})", stderr=True)
