"""One shard, start to finish: read it, grade it with the kernel, write its part files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crswatch.cohort._kernel import TABLE_ORDER, grade_shard
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
#: events of the batch: a worker grading the issue's shards (1.4 million events, 5-minute vitals;
#: the reader's own peak ~390 MB) peaked at ~600 MB in batches of a million, 534 MB of 500,000,
#: 517 MB of 400,000 and 490 MB of 300,000 (decision 0066).  Each call also has a fixed cost
#: (~0.1 s of CPU to plan and run a few hundred small Polars steps, decision 0069): on a loaded
#: machine one such shard took 1.1 s of CPU to grade in batches of a million and 1.3-1.4 s in
#: batches of 300,000 (bench/bench_shard_memory.py --batches 3e5,4e5,6e5,1e6).  The smaller
#: batch keeps a worker under the 512 MB of issue 16 for about a fifth more grading CPU.
BATCH_EVENTS = 300_000


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
        return grade_shard(patients, events.rechunk(), scales=scales, params=params, shard=shard)
    parts: dict[str, list[pl.DataFrame]] = {}
    for batch_patients, batch_events_frame in _batches(patients, events, batch_events):
        graded = grade_shard(
            batch_patients, batch_events_frame, scales=scales, params=params, shard=shard
        )
        for name, frame in graded.items():
            parts.setdefault(name, []).append(frame)
    # A patient without events may be graded in any batch: the tables are put back in order.
    return {
        name: pl.concat(frames).sort(TABLE_ORDER[name], maintain_order=True)
        for name, frames in parts.items()
    }


def _batches(
    patients: pl.DataFrame, events: pl.DataFrame, batch_events: int
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Batches of whole patients of at most ``batch_events`` events (one patient may exceed it).

    The readers give events grouped by patient, so a batch is a slice of the event frame (no
    copy); patients without events go with the first batch.  Events not grouped by patient are
    partitioned instead.
    """
    runs = events.group_by("patient_id", maintain_order=True).len()
    grouped = events.select(pl.col("patient_id").rle_id().max()).item() == runs.height - 1
    if not grouped:
        events = events.sort("patient_id", "time", maintain_order=True)
        runs = events.group_by("patient_id", maintain_order=True).len()
    # A new batch starts where the running total of events passes a multiple of the limit.
    runs = runs.with_columns(
        _batch=(pl.col("len").cum_sum() - pl.col("len")) // batch_events,
        _offset=pl.col("len").cum_sum() - pl.col("len"),
    )
    without = patients.join(runs, on="patient_id", how="anti")
    for number, batch in enumerate(runs.partition_by("_batch", maintain_order=True)):
        offset = int(batch["_offset"][0])
        length = int(batch["len"].sum())
        ids = batch["patient_id"]
        chosen = patients.filter(pl.col("patient_id").is_in(ids.implode()))
        if number == 0:
            chosen = pl.concat([chosen, without])
        # One contiguous batch: the reader gives a shard in chunks (docs/decisions/0066), and
        # the kernel costs about a quarter more CPU on chunked columns; the copy is one batch
        # (a slice of one chunk is not copied).
        yield chosen, events.slice(offset, length).rechunk()
