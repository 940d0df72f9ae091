"""Paediatric CARTOX (Mahadeo 2019): labels, age-based hypotension, BiPAP, persistent hypotension.

End-to-end grades with their criteria are golden cases (tests/golden/crs_penn_cartox.yaml:
hypotension at, below and above the threshold at 1, 8, 10 and 14 years; BiPAP 3 vs ASTCT 4);
these tests pin what the cases cannot show on their own.
"""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.scales import CRS_SCALES, GradeResult, cartox_peds2019, get_scale, grade_timelines
from tests.builders import at, ev, timeline
from tests.scales._lee_ctcae_mskcc_support import assert_labelled

SCALE = cartox_peds2019.SCALE
CHILD: dict[str, Any] = {"age_years": 8, "weight_kg": 26.0, "height_cm": 128}


def _grade(events: list[dict[str, Any]], **patient: Any) -> GradeResult:
    (graded,) = grade_timelines(
        [timeline(events, **(patient or CHILD))], at=at(50), scales=["cartox_peds2019"]
    )
    return graded.crs["cartox_peds2019"]


def _labs(hours: float) -> list[dict[str, Any]]:
    return [
        ev(hours, "alt", 30, "U/L", ref_high=40),
        ev(hours, "ast", 30, "U/L", ref_high=40),
        ev(hours, "bilirubin", 0.5, "mg/dL", ref_high=1.2),
        ev(hours, "creatinine", 0.4, "mg/dL", ref_high=0.7),
    ]


def test_scale_is_labelled_with_its_name_version_citation_and_doi() -> None:
    assert_labelled(SCALE, cartox_peds2019.__doc__)
    assert get_scale("cartox_peds2019") is SCALE
    assert "cartox_peds2019" in CRS_SCALES
    assert (SCALE.id, SCALE.version) == ("cartox_peds2019", "2019")
    assert SCALE.doi == "10.1038/s41571-018-0075-2"
    assert "Nat Rev Clin Oncol" in SCALE.citation and "Table 2" in SCALE.citation
    ids = [c.id for c in SCALE.criteria]
    assert len(ids) == len(set(ids)) and all(i.startswith("cartox_peds2019.") for i in ids)
    for criterion in SCALE.criteria:
        if "high_dose_sustained" in criterion.inputs:
            assert "[R" in (criterion.note or ""), criterion.id


def test_table_2_has_grades_1_to_4_and_fever_only_makes_grade_1() -> None:
    assert max(c.upper for c in SCALE.criteria) == 4
    assert [c.id for c in SCALE.criteria if "temp_max_c" in c.inputs] == [
        "cartox_peds2019.fever.g1"
    ]


@pytest.mark.parametrize(
    ("age", "threshold"),
    [(1, 72.0), (6, 82.0), (8, 86.0), (10, 90.0), (11, 90.0), (17, 90.0)],
)
def test_hypotension_evidence_shows_the_age_threshold(age: int, threshold: float) -> None:
    events = [
        ev(48, "temperature", 38.9, "Cel"),
        ev(48, "sbp", threshold - 1, "mm[Hg]"),
        ev(48, "fluid_bolus", 20, "mL/kg"),
        *_labs(48),
    ]
    result = _grade(events, age_years=age, weight_kg=30.0, height_cm=130)
    assert result.grade == 2
    (evidence,) = [e for e in result.evidence if e.domain == "hypotension" and e.met]
    assert evidence.values["sbp_threshold"] == threshold
    assert evidence.values["age_at"] == age
    assert evidence.values["fluid_boluses_n"] == 1


def test_bipap_is_3_here_and_4_on_astct() -> None:
    events = [
        ev(48, "temperature", 38.8, "Cel"),
        ev(48, "sbp", 104, "mm[Hg]"),
        *_labs(48),
        ev(49, "o2_device", "bipap"),
        ev(49, "fio2", 30, "%"),
    ]
    (graded,) = grade_timelines(
        [timeline(events, **CHILD)], at=at(50), scales=["cartox_peds2019", "astct2019"]
    )
    assert graded.crs["cartox_peds2019"].grade == 3
    assert graded.crs["astct2019"].grade == 4


def test_persistent_hypotension_needs_fluids_and_two_vasopressors_and_stays_ambiguous() -> None:
    (criterion,) = [c for c in SCALE.criteria if c.id.endswith("hypotension.g4.persistent")]
    assert (criterion.grade, criterion.grade_high) == (3, 4)
    base = [
        ev(48, "temperature", 39.4, "Cel"),
        ev(48, "sbp", 70, "mm[Hg]"),
        ev(48, "fluid_bolus", 20, "mL/kg"),
        *_labs(48),
        ev(49, "epinephrine", 0.05, "ug/kg/min"),
    ]
    one_pressor = _grade(base)
    assert (one_pressor.status, one_pressor.bounds) == ("graded", (2, 2))
    two_pressors = _grade([*base, ev(49.5, "norepinephrine", 0.05, "ug/kg/min")])
    assert (two_pressors.status, two_pressors.bounds) == ("ambiguous", (3, 4))
