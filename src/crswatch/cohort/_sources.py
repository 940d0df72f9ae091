"""The shards of a cohort input, and reading one of them into frames with its ingest report.

- A patient-sharded table set (``patients/part-NNNNN`` + ``events/part-NNNNN``, Parquet or CSV)
  is graded shard by shard: each shard is read only when it is graded, so memory is bounded by
  the shards in flight.  Shard numbers are positions in the sorted listing.
- One CSV/Parquet pair is one shard.
- A JSON file (a timeline, a list of timelines, a FHIR Bundle) or a directory of them is read
  whole (JSON is parsed in memory anyway) and cut into pseudo-shards of ``shard_size`` patients;
  each file's ingest report is attached to its first pseudo-shard, so every rejection is counted
  exactly once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from crswatch.errors import TimelineFormatError
from crswatch.io import FrameResult, TablePair, find_table_pairs, iter_read, read_table_frames
from crswatch.timeline import IngestIssue, IngestReport, Timeline, to_frames

__all__ = ["DEFAULT_SHARD_SIZE", "ShardSource", "plan_shards", "read_shard"]

#: Patients per pseudo-shard of JSON input: large enough that the per-shard overhead (one state
#: evaluation, six small part files) is small, small enough that a shard of 30-day, 5-minute
#: timelines (~9,000 events a patient) stays far below a gigabyte.
DEFAULT_SHARD_SIZE = 250


@dataclass(frozen=True, slots=True)
class ShardSource:
    """One shard to grade: a table pair read on demand, or frames already read from JSON."""

    shard: int
    pair: TablePair | None = None
    patients: pl.DataFrame | None = None
    events: pl.DataFrame | None = None
    report: IngestReport | None = None


def plan_shards(path: Path, *, shard_size: int = DEFAULT_SHARD_SIZE) -> list[ShardSource]:
    """The shards of the input at ``path`` (tables are listed, not read)."""
    if not path.exists():
        raise TimelineFormatError("no such file or directory", path=str(path))
    if shard_size < 1:
        raise ValueError(f"shard_size={shard_size!r} must be a positive integer")
    json_files = _json_files(path)
    if json_files is None:
        return [
            ShardSource(number, pair=pair) for number, pair in enumerate(find_table_pairs(path))
        ]
    return list(_json_shards(json_files, shard_size))


def read_shard(source: ShardSource, *, unread_items: Collection[str] = ()) -> FrameResult:
    """The frames and ingest report of one shard (``unread_items``: see
    :func:`crswatch.io.read_table_frames`; frames read from JSON hold every event)."""
    if source.pair is not None:
        return read_table_frames(source.pair, unread_items=unread_items)
    assert source.patients is not None and source.events is not None
    return FrameResult(source.patients, source.events, source.report or IngestReport())


def _json_files(path: Path) -> list[Path] | None:
    """The JSON files to read, or ``None`` when the input is a table set."""
    if path.is_file():
        return [path] if path.suffix == ".json" else None
    files = sorted(child for child in path.glob("*.json") if child.is_file())
    tables = (path / "patients").is_dir() or any(path.glob("patients.*"))
    return files if files and not tables else None


def _json_shards(files: list[Path], shard_size: int) -> Iterator[ShardSource]:
    number = 0
    seen: set[str] = set()
    for file in files:
        timelines: list[Timeline] = []
        report = IngestReport(source=str(file))
        for part in iter_read(file):
            report.merge(part.report)
            timelines.extend(part.timelines)
        # A patient id already read from an earlier file is rejected, as a reader rejects a
        # duplicate within one file: grading both would mix two records under one id.
        kept = []
        for timeline in timelines:
            patient_id = timeline.patient.id
            if patient_id in seen:
                report.patients_rejected += 1
                report.events_rejected += len(timeline.events)
                report.events_accepted -= len(timeline.events)
                report.issues.append(
                    IngestIssue(
                        "bad_patient",
                        patient_id,
                        "id",
                        patient_id,
                        "duplicate patient: already read from an earlier file of the directory",
                    )
                )
                continue
            seen.add(patient_id)
            kept.append(timeline)
        chunks = [kept[start : start + shard_size] for start in range(0, len(kept), shard_size)]
        for position, chunk in enumerate(chunks or [[]]):
            patients, events = to_frames(chunk)
            yield ShardSource(
                number,
                patients=patients,
                events=events,
                report=report if position == 0 else IngestReport(source=str(file)),
            )
            number += 1
