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

__all__ = ["ISSUES_KEPT", "ShardOutcome", "grade_source", "outcome_of"]

#: Issue messages kept per shard in the manifest (the counts are always complete; the whole
#: list is what ``crswatch validate`` on the input gives).
ISSUES_KEPT = 20


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
    tables = grade_shard(
        read.patients, read.events, scales=scales, params=params, shard=source.shard
    )
    write_shard(out, source.shard, tables)
    return outcome_of(source.shard, read.report, tables)
