"""One shard, start to finish: read it, grade it with the kernel, write its part files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crswatch.cohort._kernel import grade_shard
from crswatch.cohort._output import write_shard
from crswatch.cohort._sources import ShardSource, read_shard
from crswatch.state import StateParameters
from crswatch.timeline import IngestReport

__all__ = [
    "BATCH_EVENTS",
    "ISSUES_KEPT",
    "ShardOutcome",
    "grade_in_batches",
    "grade_source",
    "outcome_of",
]

#: Issue messages kept per shard in the manifest (the counts are always complete; the whole
#: list is what ``crswatch validate`` on the input gives).
ISSUES_KEPT = 20
#: Events given to the kernel at once.  With change-point evaluation (docs/decisions/0065) the
#: state has tens of rows per patient-day, not one per event, so the kernel's memory follows the
#: events themselves; each call also has a fixed cost (~0.2 s of CPU to plan and run a few
#: hundred small Polars steps), which batches of 250,000 events paid seven times on a shard of
#: 60 patients with 5-minute vitals (1.65 million events: 4.4 s of CPU in batches of 250,000,
#: 2.2 s in batches of a million, at about the same peak memory; bench/ and docs/benchmarks.md).
BATCH_EVENTS = 1_000_000


@dataclass(frozen=True, slots=True)
class ShardOutcome:
    """What one graded shard read, rejected and wrote (recorded in the manifest)."""

    shard: int
    patients: int
    events: int
    patients_read: int
    patients_rejected: int
    events_read: int
    events_rejected: int
    issues: tuple[str, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return bool(self.patients_rejected or self.events_rejected or self.issues)

    def to_manifest(self) -> dict[str, Any]:
        entry = asdict(self)
        del entry["shard"]
        entry["issues"] = list(self.issues)
        entry["done"] = True
        return entry


def outcome_of(
    shard: int, report: IngestReport, tables: Mapping[str, pl.DataFrame]
) -> ShardOutcome:
    return ShardOutcome(
        shard=shard,
        patients=tables["patients"].height,
        events=int(tables["patients"]["events"].sum()),
        patients_read=report.patients_read,
        patients_rejected=report.patients_rejected,
        events_read=report.events_read,
        events_rejected=report.events_rejected,
        issues=tuple(issue.message for issue in report.issues[:ISSUES_KEPT]),
    )


def grade_source(
    source: ShardSource,
    out: Path,
    scales: Sequence[str] | None,
    params: StateParameters,
) -> ShardOutcome:
    """Read, grade and write one shard; the valid records of a shard with rejections are graded."""
    read = read_shard(source)
    tables = grade_in_batches(
        read.patients, read.events, scales=scales, params=params, shard=source.shard
    )
    write_shard(out, source.shard, tables)
    return outcome_of(source.shard, read.report, tables)


def grade_in_batches(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    *,
    scales: Sequence[str] | None,
    params: StateParameters,
    shard: int,
    batch_events: int = BATCH_EVENTS,
) -> dict[str, pl.DataFrame]:
    """:func:`grade_shard` over batches of whole patients of at most ``batch_events`` events.

    Patients are graded independently, and every table is sorted by patient first, so the
    concatenated batches (in patient order) are exactly the tables of one call on the shard.
    """
    if events.height <= batch_events:
        return grade_shard(patients, events, scales=scales, params=params, shard=shard)
    counts = events.group_by("patient_id").len()
    batches = (
        patients.select("patient_id")
        .join(counts, on="patient_id", how="left")
        .sort("patient_id")
        .with_columns(
            # A new batch starts where the running total of events passes a multiple of the
            # limit, so a batch exceeds it by less than one patient's events.
            (pl.col("len").fill_null(0).cum_sum() // batch_events).alias("batch")
        )
        .select("patient_id", "batch")
    )
    events_of = events.join(batches, on="patient_id").partition_by("batch", as_dict=True)
    patients_of = patients.join(batches, on="patient_id").partition_by("batch", as_dict=True)
    parts: dict[str, list[pl.DataFrame]] = {}
    for key in sorted(patients_of):
        graded = grade_shard(
            patients_of[key].drop("batch"),
            events_of[key].drop("batch") if key in events_of else events.clear(),
            scales=scales,
            params=params,
            shard=shard,
        )
        for name, frame in graded.items():
            parts.setdefault(name, []).append(frame)
    return {name: pl.concat(frames) for name, frames in parts.items()}
