"""Golden HLH/MAS cases (tests/hlh/golden/*.yaml), each with its named source."""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.hlh import ScreenResult, screen_timelines
from tests.hlh._golden import HLHCase, load_cases

CASES = load_cases()


def _check(result: ScreenResult, expected: dict[str, Any]) -> None:
    for key in ("status", "score"):
        if key in expected:
            assert getattr(result, key) == expected[key], (key, result.to_dict())
    if "score_bounds" in expected:
        assert result.score_bounds == tuple(expected["score_bounds"]), result.to_dict()
    if "criteria_met" in expected:
        assert set(result.criteria_met) == set(expected["criteria_met"]), result.to_dict()
    if "criteria_not_assessed" in expected:
        assert set(result.not_assessed) == set(expected["criteria_not_assessed"])
    for variable, points in expected.get("points", {}).items():
        outcome = next(c for c in result.criteria if c.id == variable)
        assert outcome.points == points, (variable, outcome.to_dict())


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.id}" for c in CASES])
def test_golden_case(case: HLHCase) -> None:
    [screens] = screen_timelines([case.timeline], case.at, case.params, case.findings)
    for screen, expected in case.expected.items():
        _check(screens.results[screen], expected)


def test_every_screen_has_golden_cases_and_the_seed_patient_is_encoded() -> None:
    screens = {screen for case in CASES for screen in case.expected}
    assert screens == {"hlh2004", "hscore", "carhlh", "iechs"}
    assert any(case.tag == "seed" and case.id.startswith("seed000") for case in CASES)
