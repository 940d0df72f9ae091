"""One battery of checks over every registered scale, CRS and ICANS (scikit-learn style).

Citation and version present; criteria ids unique and prefixed; an empty timeline is not
assessable; results are deterministic and do not mutate the state; units do not matter
(°F or °C); every non-zero grade carries evidence naming its source events.
"""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from crswatch.scales import (
    ALL_SCALES,
    CRS_SCALES,
    ICANS_SCALES,
    SCALE_KINDS,
    GradeResult,
    PatientGrades,
    Scale,
    grade_frame,
    grade_results,
    grade_timelines,
)
from crswatch.state import state_of
from tests.builders import at, ev, timeline

SCALES = list(ALL_SCALES.values())
IDS = list(ALL_SCALES)

SEVERE = [
    ev(48, "temperature", 39.6, "Cel"),
    ev(49, "sbp", 78, "mm[Hg]"),
    ev(49, "norepinephrine", 22, "ug/min"),
    ev(49, "epinephrine", 5, "ug/min"),
    ev(49, "o2_device", "high_flow_nasal_cannula"),
    ev(49, "o2_flow", 40, "L/min"),
    ev(49, "fio2", 60, "%"),
    ev(50, "alt", 260, "U/L", ref_high=40),
    ev(50, "creatinine", 2.5, "mg/dL", ref_high=1.2),
    ev(50, "bilirubin", 1.0, "mg/dL", ref_high=1.2),
    ev(50, "ast", 100, "U/L", ref_high=40),
    ev(50, "seizure", "generalized_resolved"),
    ev(51, "ice_score", 2),
    ev(51, "consciousness", "awakens_to_voice"),
]


def _result(graded: PatientGrades, scale: Scale) -> GradeResult:
    return (graded.crs if scale.kind == "crs" else graded.icans)[scale.id]


def test_every_expected_scale_is_registered() -> None:
    assert "astct2019" in CRS_SCALES
    assert "astct2019" in ICANS_SCALES
    assert ALL_SCALES["icans.astct2019"] is ICANS_SCALES["astct2019"]


def test_criteria_ids_are_unique_across_syndromes() -> None:
    ids = [criterion.id for scale in SCALES for criterion in scale.criteria]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_metadata_is_complete(scale: Scale) -> None:
    assert scale.citation and scale.version and scale.title
    assert scale.kind in SCALE_KINDS
    ids = [criterion.id for criterion in scale.criteria]
    assert ids and len(ids) == len(set(ids))
    prefix = f"{scale.id}." if scale.kind == "crs" else f"{scale.id}.{scale.kind}."
    for criterion in scale.criteria:
        assert criterion.id.startswith(prefix)
        assert criterion.source_text.strip() and criterion.source_ref.strip()
        assert 0 <= criterion.grade <= criterion.upper <= 5


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_empty_timeline_is_not_assessable(scale: Scale) -> None:
    (graded,) = grade_timelines([timeline([])], scales=[scale.key])
    result = _result(graded, scale)
    assert result.status == "not_assessable"
    assert result.grade is None
    assert result.missing


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_deterministic_and_does_not_mutate_state(scale: Scale) -> None:
    state = state_of([timeline(SEVERE)], at=at(53))
    before = state.clone()
    first = grade_frame(scale, state)
    second = grade_frame(scale, state)
    assert_frame_equal(first, second)
    assert_frame_equal(state, before)


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_fahrenheit_or_celsius_give_the_same_grade(scale: Scale) -> None:
    in_f = [ev(48, "temperature", 103.28, "[degF]"), *SEVERE[1:]]
    (celsius,) = grade_timelines([timeline(SEVERE)], at=at(53), scales=[scale.key])
    (fahrenheit,) = grade_timelines([timeline(in_f)], at=at(53), scales=[scale.key])
    c, f = _result(celsius, scale), _result(fahrenheit, scale)
    assert (c.grade, c.status, c.bounds, c.criteria_met) == (
        f.grade,
        f.status,
        f.bounds,
        f.criteria_met,
    )


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_non_zero_grade_has_evidence_with_events(scale: Scale) -> None:
    state = state_of([timeline(SEVERE)], at=at(53))
    (result,) = grade_results(scale, state)
    assert result.bounds[0] >= 1
    met = [e for e in result.evidence if e.met]
    assert met, result.to_dict()
    top = max(met, key=lambda e: e.grade)
    assert top.grade == result.bounds[0]
    assert top.events, top.to_dict()


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_vectorized_frame_agrees_with_full_results(scale: Scale) -> None:
    state = state_of([timeline(SEVERE), timeline([], patient_id="Q")], at=at(53))
    frame = grade_frame(scale, state).sort("patient_id")
    results = grade_results(scale, state.sort("patient_id"))
    for row, result in zip(frame.iter_rows(named=True), results, strict=True):
        assert (row["grade"], row["status"], row["lower"], row["upper"]) == (
            result.grade,
            result.status,
            *result.bounds,
        )


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_organ_and_intervention_evidence_names_its_events(scale: Scale) -> None:
    # Every met criterion points at the events behind it, whatever state column it reads.
    events = [
        *SEVERE,
        ev(50, "fluid_bolus", 500, "mL"),
        ev(51, "fluid_bolus", 500, "mL"),
        ev(50, "transfusion", "cryoprecipitate"),
        ev(50, "fibrinogen", 80, "mg/dL", ref_low=200),
    ]
    state = state_of([timeline(events)], at=at(53))
    (result,) = grade_results(scale, state)
    for evidence in result.evidence:
        if evidence.met:
            assert evidence.events, evidence.to_dict()


NORMAL_AT_48 = [
    ev(48, "temperature", 37.1, "Cel"),
    ev(48, "sbp", 121, "mm[Hg]"),
    ev(48, "alt", 30, "U/L", ref_high=40),
    ev(48, "ast", 30, "U/L", ref_high=40),
    ev(48, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
    ev(48, "creatinine", 0.9, "mg/dL", ref_high=1.2),
    ev(48, "fibrinogen", 300, "mg/dL", ref_low=200),
    ev(48, "lvef", 60, "%"),
    ev(48, "ice_score", 10),
    ev(48, "consciousness", "alert"),
]


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_a_zero_is_never_silent(scale: Scale) -> None:
    # Decision 0026 §3: a grade 0 names, per domain, the finding that rules out its grades.
    state = state_of([timeline(NORMAL_AT_48)], at=at(49))
    (result,) = grade_results(scale, state)
    assert (result.status, result.grade) in (("graded", 0), ("provisional", 0)), result.to_dict()
    ruled_out = [e for e in result.evidence if e.met is False]
    assert ruled_out, result.to_dict()
    assert all(e.grade >= 1 and e.values for e in ruled_out), result.to_dict()


@pytest.mark.parametrize("scale", SCALES, ids=IDS)
def test_statuses_keep_their_contract(scale: Scale) -> None:
    # graded: grade = both bounds; provisional: grade = lower < upper, missing named;
    # not_assessable and ambiguous: no grade.
    for events in ([], SEVERE, NORMAL_AT_48, NORMAL_AT_48[:2]):
        state = state_of([timeline(events)], at=at(53))
        (result,) = grade_results(scale, state)
        low, high = result.bounds
        if result.status == "graded":
            assert result.grade == low == high
        elif result.status == "provisional":
            assert result.grade == low < high and result.missing, result.to_dict()
        else:
            assert result.grade is None and low <= high, result.to_dict()
