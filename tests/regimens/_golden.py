"""Golden blinatumomab cases in YAML: plans and status replays, each with a named source.

``plans`` give ``input`` (keyword arguments of ``plan_blinatumomab``) and ``expected`` per cycle:
``segments`` as ``[start_day, end_day, ug/day]`` and ``premedications`` as
``[day, drug, mg, reason]``.  ``statuses`` give a timeline (``patient``, ``events`` with times
relative to the first dose, as in ``tests/golden/_harness.py``), optional grade ``courses``
(``crs``/``icans``: ``[t, lower, upper, status]``; without them the timeline is graded),
``adverse_events``, ``params`` (``StatusParameters`` fields), ``at`` and ``expected``: ``state``,
``cycle``, ``infusion_days``, ``dose_due``, ``actions`` and ``deviations`` (exact sets of rule
ids and kinds) and ``interruptions`` (``[outcome, premedication_required, given]`` in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crswatch.io import read_json_document
from crswatch.regimens import AdverseEvent, GradeCourse, GradePoint, StatusParameters
from crswatch.timeline import Timeline, format_time
from tests.golden._harness import START, relative

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class StatusCase:
    id: str
    source: str
    timeline: Timeline
    at: Any
    courses: list[GradeCourse] | None
    adverse_events: list[AdverseEvent]
    params: StatusParameters
    expected: dict[str, Any]


def _content() -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(GOLDEN.glob("*.yaml"))
    ]


def plan_cases() -> list[dict[str, Any]]:
    cases = [case for content in _content() for case in content.get("plans", [])]
    for case in cases:
        assert case.get("source"), f"plan case {case.get('id')} has no source"
    return cases


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    event = dict(raw)
    event["time"] = format_time(relative(event.pop("t")))
    if "until" in event:
        event["end"] = format_time(relative(event.pop("until")))
    return event


def _courses(raw: dict[str, list[list[Any]]] | None) -> list[GradeCourse] | None:
    if raw is None:
        return None
    courses = []
    for kind, points in raw.items():
        made = tuple(GradePoint(relative(p[0]), int(p[1]), int(p[2]), str(p[3])) for p in points)
        courses.append(GradeCourse(kind, "astct2019", made))
    return courses


def status_cases() -> list[StatusCase]:
    cases = []
    for content in _content():
        for raw in content.get("statuses", []):
            assert raw.get("source"), f"status case {raw.get('id')} has no source"
            patient = {
                "id": raw["id"],
                "age_years": 50,
                "weight_kg": 70.0,
                "height_cm": 170,
                "therapy": {"kind": "blinatumomab", "start": format_time(START)},
            }
            patient.update(raw.get("patient", {}))
            document = {
                "format": "crswatch.timeline/1",
                "patient": patient,
                "events": [_event(e) for e in raw.get("events", [])],
            }
            result = read_json_document(document, raw["id"])
            assert result.report.ok, [issue.message for issue in result.report.issues]
            adverse = [
                AdverseEvent(
                    e["name"],
                    int(e["grade"]),
                    relative(e["onset"]),
                    relative(e["resolved"]) if "resolved" in e else None,
                )
                for e in raw.get("adverse_events", [])
            ]
            cases.append(
                StatusCase(
                    id=raw["id"],
                    source=raw["source"],
                    timeline=result.timelines[0],
                    at=relative(raw["at"]) if "at" in raw else None,
                    courses=_courses(raw.get("courses")),
                    adverse_events=adverse,
                    params=StatusParameters(**raw.get("params", {})),
                    expected=raw["expected"],
                )
            )
    return cases
