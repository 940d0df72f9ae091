"""UPENN/CHOP 2016 (Frey & Porter Table 2): labels, how it differs from Penn 2018, no grade 5.

End-to-end grades with their criteria are golden cases (the seed's worked example, §6.1 P5, is
P5 in tests/golden/crs_published.yaml); these tests pin what the cases cannot show on their own.
"""

from __future__ import annotations

import pytest

from crswatch.scales import CRS_SCALES, get_scale, grade_timelines, upenn_chop2016
from crswatch.state import StateParameters
from tests.builders import at, ev, timeline
from tests.scales._lee_ctcae_mskcc_support import assert_labelled

SCALE = upenn_chop2016.SCALE


def _labs(hours: float, *, alt: float = 30, creatinine: float = 0.9) -> list[dict[str, object]]:
    return [
        ev(hours, "alt", alt, "U/L", ref_high=40),
        ev(hours, "ast", 30, "U/L", ref_high=40),
        ev(hours, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
        ev(hours, "creatinine", creatinine, "mg/dL", ref_high=1.2),
    ]


def test_scale_is_labelled_with_its_name_version_citation_and_doi() -> None:
    assert_labelled(SCALE, upenn_chop2016.__doc__)
    assert get_scale("upenn_chop2016") is SCALE
    assert "upenn_chop2016" in CRS_SCALES
    assert (SCALE.id, SCALE.version) == ("upenn_chop2016", "2016")
    assert SCALE.doi == "10.1182/asheducation-2016.1.567"
    # The DOI is not printed in the seed text: the docstring says it is recalled.
    assert "doi:10.1182/asheducation-2016.1.567 [R" in (upenn_chop2016.__doc__ or "")
    assert "Table 2, UPENN/CHOP" in SCALE.citation
    ids = [c.id for c in SCALE.criteria]
    assert len(ids) == len(set(ids)) and all(i.startswith("upenn_chop2016.") for i in ids)


def test_the_table_has_no_grade_5_and_no_coagulopathy() -> None:
    assert max(c.upper for c in SCALE.criteria) == 4
    assert not any(c.domain in ("death", "coagulopathy") for c in SCALE.criteria)


def test_the_seeds_worked_example_is_cited_by_the_low_dose_criterion() -> None:
    (low_dose,) = [c for c in SCALE.criteria if c.id == "upenn_chop2016.hypotension.g3.low_dose"]
    assert low_dose.grade == 3
    assert "grade 3 CRS on the UPENN/CHOP scale" in low_dose.source_ref
    assert "Frey 2016 (Hematology ASH Educ Program 2016:567), Table 2" in low_dose.source_ref


@pytest.mark.parametrize(
    ("boluses", "penn", "upenn"),
    [(0, 1, 1), (1, 2, 3), (2, 3, 3)],
    ids=["no-bolus", "one-bolus", "two-boluses"],
)
def test_one_bolus_is_enough_for_upenn_chop_but_penn_2018_asks_for_multiple(
    boluses: int, penn: int, upenn: int
) -> None:
    events = [
        ev(48, "temperature", 38.6, "Cel"),
        ev(48, "sbp", 84, "mm[Hg]"),
        *_labs(48),
        *[ev(48.5 + n, "fluid_bolus", 1000, "mL") for n in range(boluses)],
    ]
    (graded,) = grade_timelines(
        [timeline(events)], at=at(51), scales=["penn2018", "upenn_chop2016"]
    )
    assert graded.crs["penn2018"].grade == penn
    assert graded.crs["upenn_chop2016"].grade == upenn


@pytest.mark.parametrize(
    ("alt", "creatinine", "grade"),
    [
        (40, 1.2, 0),  # both at the ULN: CTCAE v4.03 grade 0, no sign of dysfunction
        (41, 1.2, 2),  # ALT > ULN: grade 1 LFTs, "liver function tests <= grade 3"
        (40, 1.21, 2),  # creatinine > ULN: grade 1, "creatinine <= grade 2"
        (801, 1.2, 3),  # ALT > 20 x ULN: grade 4 LFTs
        (40, 3.61, 3),  # creatinine > 3 x ULN: grade 3 creatinine
    ],
)
def test_organ_dysfunction_bands(alt: float, creatinine: float, grade: int) -> None:
    events = [
        ev(48, "temperature", 37.0, "Cel"),
        ev(48, "sbp", 118, "mm[Hg]"),
        *_labs(48, alt=alt, creatinine=creatinine),
    ]
    # The scale's literal bands: afebrile since the start, the CRS-context rule (on by default,
    # tests/scales/test_crs_context.py) would make these ambiguous [0, grade].
    literal = StateParameters(crs_definition="scale_literal")
    (graded,) = grade_timelines(
        [timeline(events)], at=at(49), scales=["upenn_chop2016"], params=literal
    )
    result = graded.crs["upenn_chop2016"]
    assert (result.status, result.grade) == ("graded", grade)
