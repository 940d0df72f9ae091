"""CARTOX adult (Neelapu 2018): labels, FiO2 reading and its estimate, organ halves, coagulopathy.

End-to-end grades with their criteria are golden cases (tests/golden/crs_penn_cartox.yaml,
crs_lee_ctcae_mskcc.yaml: FiO2 39/40/41 %, the Table 3 doses, the 3-hour hold); these tests
pin what the cases cannot show on their own.
"""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.scales import CRS_SCALES, GradeResult, cartox2018, get_scale, grade_timelines
from crswatch.state import FiO2Rule, StateParameters
from tests.builders import at, ev, timeline
from tests.scales._lee_ctcae_mskcc_support import assert_labelled

SCALE = cartox2018.SCALE


def _grade(events: list[dict[str, Any]], params: StateParameters | None = None) -> GradeResult:
    (graded,) = grade_timelines([timeline(events)], at=at(50), scales=["cartox2018"], params=params)
    return graded.crs["cartox2018"]


def _labs(hours: float) -> list[dict[str, Any]]:
    return [
        ev(hours, "alt", 30, "U/L", ref_high=40),
        ev(hours, "ast", 30, "U/L", ref_high=40),
        ev(hours, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(hours, "creatinine", 0.9, "mg/dL", ref_high=1.2),
    ]


def _on_cannula(flow: float) -> list[dict[str, Any]]:
    return [
        ev(48, "temperature", 38.5, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        *_labs(48),
        ev(49, "o2_device", "nasal_cannula"),
        ev(49, "o2_flow", flow, "L/min"),
    ]


def test_scale_is_labelled_with_its_name_version_citation_and_doi() -> None:
    assert_labelled(SCALE, cartox2018.__doc__)
    assert get_scale("cartox2018") is SCALE
    assert "cartox2018" in CRS_SCALES
    assert (SCALE.id, SCALE.version) == ("cartox2018", "2018")
    assert SCALE.doi == "10.1038/nrclinonc.2017.148"
    assert "Nat Rev Clin Oncol 2018;15(1):47-62" in SCALE.citation
    ids = [c.id for c in SCALE.criteria]
    assert len(ids) == len(set(ids)) and all(i.startswith("cartox2018.") for i in ids)
    for criterion in SCALE.criteria:
        if "high_dose_sustained" in criterion.inputs:
            assert "[R" in (criterion.note or ""), criterion.id


def test_life_threatening_hypotension_is_documented_as_not_derivable() -> None:
    assert any("Life-threatening hypotension" in text for text in SCALE.interpretations)
    hypotension_4 = [c for c in SCALE.criteria if c.domain == "hypotension" and c.upper == 4]
    assert not hypotension_4


@pytest.mark.parametrize(
    ("rule", "status", "bounds"),
    [
        ("fpnotebook", "graded", (3, 3)),  # 6 L/min is 44 %: FiO2 >= 40 %
        ("pmc4753186", "graded", (3, 3)),  # 6-8 L/min is 40 %: FiO2 >= 40 %
        ("none", "provisional", (2, 3)),  # not estimated: at least 2, FiO2 missing
    ],
)
def test_a_six_litre_cannula_follows_the_fio2_rule(
    rule: FiO2Rule, status: str, bounds: tuple[int, int]
) -> None:
    result = _grade(_on_cannula(6.0), StateParameters(fio2_rule=rule))
    assert (result.status, result.bounds) == (status, bounds)
    if rule == "none":
        assert "FiO2: not charted" in result.missing
    else:
        assert any("estimated from the cannula flow" in w for w in result.warnings)


def test_a_measured_fio2_is_not_warned_about() -> None:
    events = [*_on_cannula(3.0)[:-1], ev(49, "fio2", 45, "%")]
    result = _grade(events)
    assert (result.grade, result.warnings) == (3, ())


def test_organ_criteria_wait_for_a_transaminase_and_another_organ() -> None:
    only_transaminases = [
        ev(48, "temperature", 38.5, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        ev(48, "alt", 30, "U/L", ref_high=40),
        ev(48, "ast", 30, "U/L", ref_high=40),
    ]
    result = _grade(only_transaminases)
    assert (result.status, result.bounds) == ("provisional", (1, 4))
    assert result.missing == (
        "bilirubin, creatinine, fibrinogen, left ventricular ejection fraction: "
        "none in the last 48 h",
    )
    with_creatinine = [*only_transaminases, ev(48, "creatinine", 0.9, "mg/dL", ref_high=1.2)]
    assert _grade(with_creatinine).grade == 1
    # The completeness of the whole panel is shown as evidence, not required.
    (fever,) = [e for e in _grade(with_creatinine).evidence if e.met]
    assert fever.criterion_id == "cartox2018.fever.g1"


def test_coagulopathy_transfusion_is_ambiguous_from_not_counting_to_grade_3() -> None:
    (criterion,) = [c for c in SCALE.criteria if c.domain == "coagulopathy"]
    assert (criterion.grade, criterion.grade_high) == (0, 3)
    afebrile = [
        ev(48, "temperature", 37.0, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        *_labs(48),
        ev(49, "transfusion", "ffp"),
    ]
    result = _grade(afebrile)
    assert (result.status, result.bounds) == ("ambiguous", (0, 3))


def test_ventilator_support_includes_cpap() -> None:
    events = [
        ev(48, "temperature", 37.5, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        *_labs(48),
        ev(49, "o2_device", "cpap"),
        ev(49, "fio2", 30, "%"),
    ]
    # The scale's literal criterion: afebrile since the start, the CRS-context rule (on by
    # default, tests/scales/test_crs_context.py) would make this ambiguous [0, 4].
    result = _grade(events, StateParameters(crs_definition="scale_literal"))
    assert (result.grade, result.criteria_met) == (4, ("cartox2018.hypoxia.g4",))
