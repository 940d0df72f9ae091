"""Every golden case: the grade (or status and bounds) and the exact criteria met, per scale.

An ``expected`` key is a scale selector: a bare id is a CRS scale (``astct2019``, ``lee2014``),
``icans.<id>`` an ICANS scale (``icans.astct2019``).  Besides ``grade``/``status``/``bounds``,
``criteria_met`` and ``missing`` (clinical labels, each named in one of the result's missing
phrases), a case may list ``warnings`` (substrings that must appear) and ``no_warnings``
(substrings that must not).  A case with ``peaks`` also checks the peak grade per CRS scale
over the trajectory up to ``at`` (default: the last event), which never goes past it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.episodes import peak_grades, trajectory
from crswatch.scales import ALL_SCALES, Scale, get_scale, grade_timelines
from tests.golden._harness import GoldenCase, load_cases

CASES = load_cases(Path(__file__).parent)


def _scale(key: str) -> Scale | None:
    try:
        return get_scale(key)
    except LookupError:
        return None


PAIRS = [(case, key) for case in CASES for key in case.expected if _scale(key) is not None]


def test_cases_were_found_and_name_known_scales() -> None:
    assert len(CASES) >= 10
    unknown = {key for case in CASES for key in case.expected if _scale(key) is None}
    assert not unknown, f"expected grades for scales not registered: {sorted(unknown)}"


def test_icans_cases_cover_every_icans_scale() -> None:
    named = {scale.key for case in CASES for key in case.expected if (scale := _scale(key))}
    assert {s.key for s in ALL_SCALES.values() if s.kind == "icans"} <= named


@pytest.mark.parametrize(("case", "key"), PAIRS, ids=[f"{c.file}:{c.id}:{k}" for c, k in PAIRS])
def test_golden_case(case: GoldenCase, key: str) -> None:
    expected = case.expected[key]
    scale = get_scale(key)
    (graded,) = grade_timelines([case.timeline], at=case.at, scales=[scale.key])
    result = (graded.crs if scale.kind == "crs" else graded.icans)[scale.id]
    context = f"{case.id} ({case.source}): {result.to_dict()}"
    if "grade" in expected:
        # A grade is graded unless the case says it is provisional.
        assert result.status == expected.get("status", "graded"), context
        assert result.grade == expected["grade"], context
    if "status" in expected:
        assert result.status == expected["status"], context
    if "bounds" in expected:
        assert list(result.bounds) == expected["bounds"], context
    if "criteria_met" in expected:
        assert sorted(result.criteria_met) == sorted(expected["criteria_met"]), context
    # Each expected input (a clinical label) is named in one of the missing phrases.
    for item in expected.get("missing", []):
        assert any(item in phrase for phrase in result.missing), context
    for text in expected.get("warnings", []):
        assert any(text in warning for warning in result.warnings), context
    for text in expected.get("no_warnings", []):
        assert not any(text in warning for warning in result.warnings), context


PEAK_CASES = [case for case in CASES if case.peaks]


def test_peak_cases_were_found() -> None:
    assert PEAK_CASES


@pytest.mark.parametrize("case", PEAK_CASES, ids=[f"{c.file}:{c.id}" for c in PEAK_CASES])
def test_golden_peaks(case: GoldenCase) -> None:
    assert case.peaks is not None
    table = trajectory([case.timeline], scales=list(case.peaks), until=case.at)
    end = case.at or max(event.time for event in case.timeline.events)
    context = f"{case.id} ({case.source})"
    # Nothing past the record (or the requested T), and no artificial offsets in the times.
    assert table["at"].max() <= end, context
    assert all(moment.microsecond == 0 for moment in table["at"].to_list()), context
    peaks = {row["scale"]: row["peak_grade"] for row in peak_grades(table).iter_rows(named=True)}
    assert peaks == case.peaks, context
