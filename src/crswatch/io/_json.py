"""JSON timelines: one ``crswatch.timeline/1`` document, or a list of them (a small cohort)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crswatch.errors import TimelineFormatError
from crswatch.timeline import (
    IngestIssue,
    IngestReport,
    ReadResult,
    Timeline,
    TimeWindow,
    build_timeline,
    check_document,
)

__all__ = ["load_json", "read_json_document", "timelines_to_json", "write_json"]


def load_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error names the file, line and column."""
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise TimelineFormatError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", path=str(path)
        ) from None
    except UnicodeDecodeError as exc:
        raise TimelineFormatError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None


def read_json_document(
    document: Any, source: str | None = None, *, window: TimeWindow | None = None
) -> ReadResult:
    """Timelines from a parsed JSON value: one timeline object or a list of them.

    ``window`` is the contract's plausible time window (default :class:`TimeWindow`).
    """
    report = IngestReport(source=source)
    documents = document if isinstance(document, list) else [document]
    timelines: list[Timeline] = []
    for position, item in enumerate(documents):
        if not isinstance(document, list):
            check_document(item, source)
        else:
            try:
                check_document(item, f"{source or 'document'}[{position}]")
            except TimelineFormatError as exc:
                # One malformed member of a list does not cost the others.
                report.patients_read += 1
                report.patients_rejected += 1
                report.issues.append(
                    IngestIssue("bad_patient", None, "document", position, str(exc))
                )
                continue
        assert isinstance(item, Mapping)  # check_document guarantees it
        timeline = build_timeline(item["patient"], item.get("events") or [], report, window=window)
        if timeline is not None:
            timelines.append(timeline)
    _report_duplicate_patients(timelines, report)
    return ReadResult(timelines, report)


def _report_duplicate_patients(timelines: list[Timeline], report: IngestReport) -> None:
    seen: set[str] = set()
    for timeline in timelines:
        if timeline.patient.id in seen:
            report.warnings.append(
                f"patient={timeline.patient.id!r} appears more than once; "
                "the timelines are kept apart"
            )
        seen.add(timeline.patient.id)


def timelines_to_json(timelines: Iterable[Timeline]) -> Any:
    """One timeline as an object; several as a list (the shape the reader takes back)."""
    documents = [timeline.to_dict() for timeline in timelines]
    return documents[0] if len(documents) == 1 else documents


def write_json(timelines: Iterable[Timeline], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        json.dump(timelines_to_json(timelines), handle, indent=1, ensure_ascii=False)
        handle.write("\n")
