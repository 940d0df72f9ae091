"""Every golden case: the grade (or status and bounds) and the exact criteria met, per scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.scales import CRS_SCALES, grade_timelines
from tests.golden._harness import GoldenCase, load_cases

CASES = load_cases(Path(__file__).parent)
PAIRS = [
    (case, scale_id)
    for case in CASES
    for scale_id in case.expected
    if scale_id in CRS_SCALES
]


def test_cases_were_found_and_name_known_scales() -> None:
    assert len(CASES) >= 10
    unknown = {s for case in CASES for s in case.expected} - set(CRS_SCALES)
    assert not unknown, f"expected grades for scales not registered: {sorted(unknown)}"


@pytest.mark.parametrize(
    ("case", "scale_id"), PAIRS, ids=[f"{c.file}:{c.id}:{s}" for c, s in PAIRS]
)
def test_golden_case(case: GoldenCase, scale_id: str) -> None:
    expected = case.expected[scale_id]
    (graded,) = grade_timelines([case.timeline], at=case.at, scales=[scale_id])
    result = graded.crs[scale_id]
    context = f"{case.id} ({case.source}): {result.to_dict()}"
    if "grade" in expected:
        assert result.status == "graded", context
        assert result.grade == expected["grade"], context
    if "status" in expected:
        assert result.status == expected["status"], context
    if "bounds" in expected:
        assert list(result.bounds) == expected["bounds"], context
    if "criteria_met" in expected:
        assert sorted(result.criteria_met) == sorted(expected["criteria_met"]), context
    for item in expected.get("missing", []):
        assert item in result.missing, context
