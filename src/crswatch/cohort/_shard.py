"""One shard, start to finish: read it, grade it with the kernel, write its part files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crswatch.cohort._kernel import TABLE_ORDER, KernelEvents, grade_shard, kernel_events
from crswatch.cohort._output import write_shard
from crswatch.cohort._sources import ShardSource, read_shard
from crswatch.state import UNREAD_ITEMS, StateParameters
from crswatch.timeline import IngestReport

__all__ = [
    "BATCH_EVENTS",
    "ISSUES_KEPT",
    "ShardOutcome",
    "grade_in_batches",
    "grade_source",
    "outcome_of",
    "read_for_kernel",
]

#: Issue messages kept per shard in the manifest (the counts are always complete; the whole
#: list is what ``crswatch validate`` on the input gives).
ISSUES_KEPT = 20
#: The kernel's events (``kernel_events``: the vital signs no state column reads left out, about
#: two thirds of a monitored record) given to the kernel at once.  Each call has a fixed cost
#: (~0.15 s of CPU to plan and run several hundred small Polars steps, decisions 0069, 0071),
#: and a batch's grading memory follows its events.  Before decision 0075 a batch counted every
#: event, and a worker grading the issue's shards (1.4 million events, 5-minute vitals) in
#: batches of 300,000 made five calls a shard; now such a shard is one call of ~420,000 events,
#: with the same peak (the reader's, and its freed memory reused with one allocator arena):
#: 449-462 MB in batches of 100,000 to 1,000,000, against 471-481 MB before, for half the
#: grading CPU (bench/bench_shard_memory.py --batches 1e5,3e5,5e5,1e6).
BATCH_EVENTS = 500_000


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
    report, patients, kept = read_for_kernel(source)
    tables = grade_in_batches(patients, kept, scales=scales, params=params, shard=source.shard)
    write_shard(out, source.shard, tables)
    return outcome_of(source.shard, report, tables)


def read_for_kernel(source: ShardSource) -> tuple[IngestReport, pl.DataFrame, KernelEvents]:
    """One shard's ingest report, patients, and the events the kernel reads.

    The reader leaves out what the kernel does not read (decision 0083): of the vital signs no
    state column reads, only the rows at each record's first and last instants.  Only these
    events are kept while the shard is graded.
    """
    read = read_shard(source, unread_items=UNREAD_ITEMS)
    return read.report, read.patients, kernel_events(read.events, counts=read.event_counts)


def grade_in_batches(
    patients: pl.DataFrame,
    events: pl.DataFrame | KernelEvents,
    *,
    scales: Sequence[str] | None,
    params: StateParameters,
    shard: int,
    batch_events: int = BATCH_EVENTS,
) -> dict[str, pl.DataFrame]:
    """:func:`grade_shard` over batches of whole patients of at most ``batch_events`` events.

    The kernel is given only the events it reads (:func:`kernel_events`, unless ``events`` are
    already those), with every event counted.  Patients are graded independently, and every
    table is sorted by patient first, so the concatenated batches (in patient order) are
    exactly the tables of one call on the shard.
    """
    kept = events if isinstance(events, KernelEvents) else kernel_events(events)
    events, counts = kept.events, kept.counts
    if events.height <= batch_events:
        return grade_shard(
            patients, events, scales=scales, params=params, shard=shard, event_counts=counts
        )
    parts: dict[str, list[pl.DataFrame]] = {}
    for batch_patients, batch_events_frame in _batches(patients, events, batch_events):
        graded = grade_shard(
            batch_patients,
            batch_events_frame,
            scales=scales,
            params=params,
            shard=shard,
            event_counts=counts,
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
