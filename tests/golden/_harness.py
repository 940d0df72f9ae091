"""Golden cases in YAML: timelines written compactly, expected grades per scale with a source.

A case file holds ``cases``; each case has an ``id``, a ``source`` (a paper, table or footnote;
``derived`` cases say which criteria they are derived from), ``patient`` overrides, ``events``
with times relative to the therapy start (``t: 2d10h``, ``t: -1h``) or absolute (``time``),
``at`` (relative or absolute; default: the last event) and ``expected``: per scale selector
(a CRS id such as ``astct2019``, or ``icans.astct2019``), the ``grade`` (or ``status`` and
``bounds``) and ``criteria_met`` (the exact set).  An optional ``peaks`` gives, per CRS scale id,
the peak grade (highest lower bound) of the trajectory up to ``at`` (default: the last event).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from crswatch.io import read_json_document
from crswatch.timeline import Timeline, format_time

START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
_OFFSET = re.compile(r"^(-)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def relative(text: str | int) -> datetime:
    """``2d10h``, ``-1h``, ``90m`` or ``0`` after the therapy start."""
    text = str(text).replace(" ", "")
    if text in ("0", "-0"):
        return START
    match = _OFFSET.match(text)
    if not match or text in ("", "-"):
        raise ValueError(f"t={text!r} is not an offset such as 2d10h")
    sign, days, hours, minutes = match.groups()
    delta = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))
    return START - delta if sign else START + delta


@dataclass(frozen=True)
class GoldenCase:
    file: str
    id: str
    source: str
    timeline: Timeline
    at: datetime | None
    expected: dict[str, dict[str, Any]]
    peaks: dict[str, int] | None = None


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    event = dict(raw)
    if "t" in event:
        event["time"] = format_time(relative(event.pop("t")))
    if "until" in event:
        event["end"] = format_time(relative(event.pop("until")))
    return event


def load_cases(directory: Path) -> list[GoldenCase]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in content["cases"]:
            assert raw.get("source"), f"{path.name}:{raw.get('id')} has no source"
            patient = {
                "id": raw["id"],
                "age_years": 50,
                "weight_kg": 70.0,
                "height_cm": 170,
                "therapy": {"kind": "car_t", "start": format_time(START)},
            }
            patient.update(raw.get("patient", {}))
            document = {
                "format": "crswatch.timeline/1",
                "patient": patient,
                "events": [_event(e) for e in raw.get("events", [])],
            }
            result = read_json_document(document, f"{path.name}:{raw['id']}")
            issues = [issue.message for issue in result.report.issues]
            assert not issues, issues
            at = raw.get("at")
            cases.append(
                GoldenCase(
                    file=path.name,
                    id=raw["id"],
                    source=raw["source"],
                    timeline=result.timelines[0],
                    at=relative(at) if at is not None else None,
                    expected=raw["expected"],
                    peaks=raw.get("peaks"),
                )
            )
    return cases
