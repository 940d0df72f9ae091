"""``crswatch simulate``: synthetic CRS cohorts, streamed to Parquet shards or written as JSON."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from crswatch.cli._app import app, err_console, fail, say

__all__ = ["parse_duration", "simulate"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``30m``, ``4h`` or ``1d`` as a timedelta."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration such as 30m, 4h or 1d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise typer.BadParameter(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


@app.command()
def simulate(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="A .json file, or a directory of Parquet shards.")
    ],
    patients: Annotated[int, typer.Option("--patients", min=1, help="Number of patients.")] = 100,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same cohort.")
    ] = 1,
    therapy: Annotated[
        str, typer.Option(help="car_t, blinatumomab, bispecific or mixed.")
    ] = "mixed",
    vitals_every: Annotated[
        str, typer.Option("--vitals-every", help="Vital-sign interval, e.g. 4h or 30m.")
    ] = "4h",
    shard_size: Annotated[int, typer.Option(min=1, help="Patients per Parquet shard.")] = 1000,
) -> None:
    """Write a synthetic cohort of CAR T and blinatumomab patients with CRS courses."""
    from crswatch.simulate import TherapyChoice, write_cohort

    if therapy not in ("car_t", "blinatumomab", "bispecific", "mixed"):
        raise fail(f"--therapy {therapy!r} must be car_t, blinatumomab, bispecific or mixed")
    kind: TherapyChoice = therapy  # type: ignore[assignment]
    interval = parse_duration(vitals_every)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
    ) as progress:
        task = progress.add_task("patients", total=patients)
        manifest = write_cohort(
            output,
            patients,
            seed=seed,
            therapy=kind,
            vitals_every=interval,
            shard_size=shard_size,
            progress=lambda done: progress.advance(task, done),
        )
    say(f"wrote {patients} patient(s) to {output} (seed {seed}, therapy {therapy})", stderr=True)
    del manifest
