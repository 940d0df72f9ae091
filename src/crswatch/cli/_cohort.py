"""``crswatch cohort``: re-grade, report on and export whole cohorts.

The sub-commands live in their own modules and register on ``cohort_app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from crswatch._runtime import use_cohort_runtime
from crswatch.cli._app import app, err_console, fail, say
from crswatch.cli._options import FeverWaiverChoice, FeverWaiverOption, state_parameters
from crswatch.errors import CohortOutputError, InputError

if TYPE_CHECKING:
    from crswatch.cohort import ShardOutcome

__all__ = ["cohort_app", "grade"]

cohort_app = typer.Typer(
    rich_markup_mode=None,
    name="cohort",
    help="Cohorts at scale: grade every patient on every scale, report, export to registries.",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")


@cohort_app.command("grade")
def grade(
    path: Annotated[
        Path,
        typer.Argument(help="Cohort: patient-sharded Parquet/CSV, a table pair, JSON file(s)."),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Output directory, e.g. graded.parquet.")
    ],
    engine: Annotated[
        str, typer.Option(help="local, or spark (PySpark: the 'spark' extra of crswatch).")
    ] = ("local"),
    workers: Annotated[
        int, typer.Option(min=1, help="Shards graded at once (processes, or Spark's local[N]).")
    ] = 1,
    scale: Annotated[
        list[str] | None,
        typer.Option(
            "--scale",
            help="Scale (repeat): a CRS id, or icans.<id>; default: every CRS and ICANS scale.",
        ),
    ] = None,
    shard_size: Annotated[
        int | None,
        typer.Option(min=1, help="Patients per pseudo-shard of JSON input (default 250)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an output made from another source, scales or params.")
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Exit 1 if any record was rejected (the rest is still graded).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    fever_waiver: FeverWaiverOption = FeverWaiverChoice.antipyretic_or_anticytokine,
) -> None:
    """Grade every patient on every CRS and ICANS scale: trajectory, episodes, peaks (resumable)."""
    # Imported here: the cohort engines pull in the whole grading stack, which other commands
    # (and `crswatch --help`) do not need; and Polars' allocator takes its options when it
    # loads, so this process, which grades as one of the workers, gets theirs (decisions 0075,
    # 0077).
    use_cohort_runtime(workers)
    from crswatch.cohort import DEFAULT_SHARD_SIZE, ENGINES, SparkUnavailableError, grade_cohort

    if engine not in ENGINES:
        raise fail(f"--engine {engine!r} must be one of {', '.join(ENGINES)}")
    with Progress(
        TextColumn("grading shards"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[patients]} patients"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
    ) as progress:
        task = progress.add_task("shards", total=None, patients=0)
        patients = 0

        def planned(total: int, pending: int) -> None:
            progress.update(task, total=total, completed=total - pending)

        def graded(outcome: ShardOutcome) -> None:
            nonlocal patients
            patients += outcome.patients
            progress.update(task, advance=1, patients=patients)

        try:
            summary = grade_cohort(
                path,
                output,
                scales=scale,
                params=state_parameters(fever_waiver),
                engine=engine,  # type: ignore[arg-type]  # checked against ENGINES above
                workers=workers,
                overwrite=overwrite,
                shard_size=shard_size or DEFAULT_SHARD_SIZE,
                on_plan=planned,
                on_shard=graded,
            )
        except (InputError, CohortOutputError, SparkUnavailableError) as exc:
            raise fail(str(exc)) from None
        except LookupError as exc:
            raise fail(str(exc)) from None
    for outcome in summary.rejected:
        say(
            f"shard {outcome.shard:05d}: {outcome.patients_rejected} patient(s) and "
            f"{outcome.events_rejected} event(s) rejected; the valid records were graded",
            stderr=True,
        )
        for message in outcome.issues[:3]:
            say(f"  - {message}", stderr=True)
    skipped = f", {summary.skipped} done before (resumed)" if summary.skipped else ""
    say(
        f"graded {summary.patients} patient(s), {summary.events} event(s) in "
        f"{len(summary.graded)} shard(s){skipped} -> {summary.out} ({summary.engine})",
        stderr=True,
    )
    if strict and summary.rejected:
        raise typer.Exit(1)
