"""Penn 2018 (Porter): labels, the [R] high-dose definition, what is not a criterion, evidence.

End-to-end grades with their criteria are golden cases (tests/golden/crs_penn_cartox.yaml,
crs_lee_ctcae_mskcc.yaml, crs_derived.yaml, crs_published.yaml); these tests pin what the
cases cannot show on their own.
"""

from __future__ import annotations

from crswatch.scales import CRS_SCALES, get_scale, grade_timelines, penn2018
from crswatch.scales._criteria import Criterion
from crswatch.state import StateParameters
from tests.builders import at, ev, timeline
from tests.scales._lee_ctcae_mskcc_support import assert_labelled

SCALE = penn2018.SCALE


def _criterion(criterion_id: str) -> Criterion:
    (found,) = [c for c in SCALE.criteria if c.id == criterion_id]
    return found


def test_scale_is_labelled_with_its_name_version_citation_and_doi() -> None:
    assert_labelled(SCALE, penn2018.__doc__)
    assert get_scale("penn2018") is SCALE
    assert "penn2018" in CRS_SCALES
    assert (SCALE.id, SCALE.version) == ("penn2018", "2018")
    assert SCALE.doi == "10.1186/s13045-018-0571-y"
    assert "J Hematol Oncol 2018;11:35" in SCALE.citation
    ids = [c.id for c in SCALE.criteria]
    assert len(ids) == len(set(ids)) and all(i.startswith("penn2018.") for i in ids)


def test_every_high_dose_criterion_says_the_definition_is_recalled() -> None:
    reading = [c for c in SCALE.criteria if "high_dose_sustained" in c.inputs]
    assert {c.id for c in reading} == {
        "penn2018.hypotension.g3.low_dose",
        "penn2018.hypotension.g4",
    }
    for criterion in reading:
        assert "[R" in (criterion.note or ""), criterion.id
        assert "Lee 2014 Table 3" in (criterion.note or ""), criterion.id


def test_grade_4_creatinine_is_ambiguous_between_3_and_4_and_grade_4_lfts_are_3() -> None:
    creatinine_g4 = _criterion("penn2018.organ.creatinine_g4")
    assert (creatinine_g4.grade, creatinine_g4.grade_high) == (3, 4)
    assert _criterion("penn2018.organ.g3").grade_high is None
    # Only the wording of the scale leaves grade 4 creatinine open; no other criterion does.
    assert [c.id for c in SCALE.criteria if c.grade_high is not None] == [creatinine_g4.id]


def test_what_a_record_cannot_show_is_documented_and_not_a_criterion() -> None:
    not_derivable = SCALE.interpretations[1]
    for item in ("hospitalization", "neutropenia", "IV therapies"):
        assert item in not_derivable
    inputs = {column for c in SCALE.criteria for column in c.inputs}
    assert not any("hospital" in column or "neutro" in column for column in inputs)


def test_any_oxygen_is_grade_3_whatever_the_flow_and_no_fio2_warning() -> None:
    # Penn reads no FiO2: an estimated FiO2 must not be warned about on this scale.
    events = [
        ev(48, "temperature", 38.4, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        ev(48, "alt", 30, "U/L", ref_high=40),
        ev(48, "ast", 30, "U/L", ref_high=40),
        ev(48, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(48, "creatinine", 0.9, "mg/dL", ref_high=1.2),
        ev(49, "o2_device", "nasal_cannula"),
        ev(49, "o2_flow", 1, "L/min"),
    ]
    (graded,) = grade_timelines([timeline(events)], at=at(50), scales=["penn2018"])
    result = graded.crs["penn2018"]
    assert (result.status, result.grade) == ("graded", 3)
    assert "penn2018.hypoxia.g3" in result.criteria_met
    assert not result.warnings


def test_coagulopathy_evidence_shows_the_transfusion_count() -> None:
    events = [
        ev(48, "temperature", 37.0, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        ev(48, "alt", 30, "U/L", ref_high=40),
        ev(48, "ast", 30, "U/L", ref_high=40),
        ev(48, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(48, "creatinine", 0.9, "mg/dL", ref_high=1.2),
        ev(49, "transfusion", "fibrinogen_concentrate"),
    ]
    # The scale's literal criteria: afebrile since the start, the CRS-context rule (on by default,
    # tests/scales/test_crs_context.py) would make this ambiguous [0, 3].
    literal = StateParameters(crs_definition="scale_literal")
    (graded,) = grade_timelines([timeline(events)], at=at(50), scales=["penn2018"], params=literal)
    result = graded.crs["penn2018"]
    assert (result.status, result.grade) == ("graded", 3)  # afebrile: fever is not required
    (evidence,) = [e for e in result.evidence if e.criterion_id == "penn2018.coagulopathy.g3"]
    assert evidence.values == {"coagulopathy_transfusions_n": 1}


def test_death_after_onset_is_grade_5_and_death_without_crs_is_not() -> None:
    died = [
        ev(48, "temperature", 39.0, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        ev(60, "death", True),
    ]
    never_febrile = [ev(48, "temperature", 37.0, "Cel"), ev(48, "sbp", 118, "mm[Hg]"), died[2]]
    graded = grade_timelines(
        [timeline(died, patient_id="A"), timeline(never_febrile, patient_id="B")],
        at=at(61),
        scales=["penn2018"],
    )
    first, second = (g.crs["penn2018"] for g in graded)
    assert first.bounds == (5, 5) and "penn2018.death.g5" in first.criteria_met
    assert "penn2018.death.g5" not in second.criteria_met
