"""Golden HLH/MAS screen cases in YAML: timelines written compactly, expected results per screen.

A case file holds ``cases``; each case has an ``id``, a ``source`` (the paper, or ``derived``
with the criteria it is derived from) and a ``tag`` (``published``, ``seed`` or ``derived``),
``patient`` fields (only ``id`` and ``therapy`` are defaulted: a seed patient keeps what the paper
reports and nothing else), ``findings`` (:class:`crswatch.hlh.SupplementaryFindings`),
``events`` with times relative to the therapy start (``t: 1d12h``; ``tests/golden/_harness.py``'s
``relative``), ``at`` and ``expected``: per screen id, any of ``status``, ``score``,
``score_bounds``, ``criteria_met`` and ``criteria_not_assessed`` (exact sets) and ``points`` (per
HScore variable, the exact points).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from crswatch.hlh import HLHParameters, SupplementaryFindings
from crswatch.io import read_json_document
from crswatch.timeline import Timeline, format_time
from tests.golden._harness import START, relative

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class HLHCase:
    file: str
    id: str
    source: str
    tag: str
    timeline: Timeline
    at: datetime | None
    findings: SupplementaryFindings
    params: HLHParameters
    expected: dict[str, dict[str, Any]]


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    event = dict(raw)
    if "t" in event:
        event["time"] = format_time(relative(event.pop("t")))
    return event


def _flat(events: list[Any]) -> list[dict[str, Any]]:
    """Events, with YAML-aliased lists of shared events spliced in."""
    out: list[dict[str, Any]] = []
    for entry in events:
        out += _flat(entry) if isinstance(entry, list) else [entry]
    return out


def load_cases(directory: Path = GOLDEN) -> list[HLHCase]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in content["cases"]:
            assert raw.get("source"), f"{path.name}:{raw.get('id')} has no source"
            assert raw.get("tag") in ("published", "seed", "derived"), raw.get("id")
            patient: dict[str, Any] = {
                "id": raw["id"],
                "therapy": {"kind": "car_t", "start": format_time(START)},
            }
            patient.update(raw.get("patient", {}))
            document = {
                "format": "crswatch.timeline/1",
                "patient": patient,
                "events": [_event(e) for e in _flat(raw.get("events", []))],
            }
            result = read_json_document(document, f"{path.name}:{raw['id']}")
            issues = [issue.message for issue in result.report.issues]
            assert not issues, issues
            params = HLHParameters()
            if "window_hours" in raw.get("params", {}):
                params = params.with_(window=timedelta(hours=raw["params"]["window_hours"]))
            cases.append(
                HLHCase(
                    file=path.name,
                    id=raw["id"],
                    source=raw["source"],
                    tag=raw["tag"],
                    timeline=result.timelines[0],
                    at=relative(raw["at"]) if "at" in raw else None,
                    findings=SupplementaryFindings(**raw.get("findings", {})),
                    params=params,
                    expected=raw["expected"],
                )
            )
    return cases
