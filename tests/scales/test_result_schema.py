"""Every grade document validates against the published JSON schema (crswatch.grade/1)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from crswatch.scales import grade_timelines
from tests.golden._harness import load_cases

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "schema" / "crswatch.grade-1.schema.json").read_text(
        encoding="utf-8"
    )
)
CASES = load_cases(Path(__file__).parents[1] / "golden")


def test_every_golden_result_validates_and_every_status_occurs() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    statuses = set()
    for case in CASES:
        (graded,) = grade_timelines([case.timeline], at=case.at)
        for result in (*graded.crs.values(), *graded.icans.values()):
            document = json.loads(json.dumps(result.to_dict(), default=str))
            errors = [error.message for error in validator.iter_errors(document)]
            assert not errors, (case.id, result.scale, errors)
            statuses.add(result.status)
    assert statuses == {"graded", "provisional", "ambiguous", "not_assessable"}


def test_the_schema_rejects_a_provisional_grade_without_a_grade() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    bad = {
        "schema": "crswatch.grade/1",
        "scale": "lee2014",
        "version": "2014",
        "at": "2024-01-01T00:00:00Z",
        "grade": None,
        "status": "provisional",
        "bounds": [2, 4],
        "criteria_met": [],
        "evidence": [],
        "missing": ["ALT: none in the last 48 h"],
        "warnings": [],
        "parameters": {},
    }
    assert list(validator.iter_errors(bad))
