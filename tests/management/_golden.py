"""Management golden cases: a timeline (written here or taken from a CRS seed vignette), a rule
set, and the exact set of actions expected at one or more times, each case with a source.

A case has ``id``, ``source``, ``ruleset`` (default: the therapy's default), either ``events``
(+ ``patient`` overrides, times relative to the harness start) or ``timeline_from`` (the id of a
case in ``tests/golden/crs_seed_vignettes.yaml``, with optional ``extra_events``), and
``checks``: a list of ``{at, crs_grade?, icans_grade?, actions: [...], doses?: {id: {...}}}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from crswatch.io import read_json_document
from crswatch.timeline import Timeline, format_time
from tests.golden._harness import START, load_cases, relative

GOLDEN = Path(__file__).parent / "golden"
SEED_VIGNETTES = Path(__file__).parents[1] / "golden"


@dataclass(frozen=True)
class Check:
    at: datetime
    expected: dict[str, Any]


@dataclass(frozen=True)
class ManagementCase:
    file: str
    id: str
    source: str
    ruleset: str | None
    timeline: Timeline
    checks: tuple[Check, ...]


@cache
def _vignettes() -> dict[str, Timeline]:
    return {case.id: case.timeline for case in load_cases(SEED_VIGNETTES)}


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    event = dict(raw)
    if "t" in event:
        event["time"] = format_time(relative(event.pop("t")))
    if "until" in event:
        event["end"] = format_time(relative(event.pop("until")))
    return event


def _read(document: dict[str, Any], where: str) -> Timeline:
    result = read_json_document(document, where)
    issues = [issue.message for issue in result.report.issues]
    assert not issues, issues
    return result.timelines[0]


def _timeline(raw: dict[str, Any], where: str) -> Timeline:
    if "timeline_from" in raw:
        base = _vignettes()[raw["timeline_from"]].to_dict()
        base["events"] = base["events"] + [_event(e) for e in raw.get("extra_events", [])]
        return _read(base, where)
    patient: dict[str, Any] = {
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
    return _read(document, where)


@cache
def load_management_cases() -> tuple[ManagementCase, ...]:
    cases = []
    for path in sorted(GOLDEN.glob("*.yaml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in content["cases"]:
            assert raw.get("source"), f"{path.name}:{raw.get('id')} has no source"
            where = f"{path.name}:{raw['id']}"
            checks = tuple(
                Check(at=relative(check["at"]), expected=check) for check in raw["checks"]
            )
            cases.append(
                ManagementCase(
                    file=path.name,
                    id=raw["id"],
                    source=raw["source"],
                    ruleset=raw.get("ruleset"),
                    timeline=_timeline(raw, where),
                    checks=checks,
                )
            )
    return tuple(cases)
