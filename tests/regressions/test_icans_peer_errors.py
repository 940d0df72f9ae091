"""Errors found in peer tools (shared/research/peers.md §5, ICANS rows), as regression tests.

Each test names the peer and its error, and asserts the correct ASTCT 2019 behaviour.
"""

from __future__ import annotations

from typing import Any

from crswatch.scales import ICANS_SCALES, GradeResult, grade_timelines
from tests.builders import at, ev, timeline


def _icans(events: list[dict[str, Any]], hours: float = 49, **patient: Any) -> GradeResult:
    (graded,) = grade_timelines(
        [timeline(events, **patient)], at=at(hours), scales=["icans.astct2019"]
    )
    return graded.icans["astct2019"]


def _assessed(ice: int = 10, consciousness: str = "alert") -> list[dict[str, Any]]:
    return [ev(48, "ice_score", ice), ev(48, "consciousness", consciousness)]


def test_crs_checker_tremor_and_myoclonus_do_not_count() -> None:
    # CRS-checker: tremorMyoclonusMildAphasia → 2.  ASTCT footnote ‡: they do not influence ICANS.
    result = _icans([ev(47, "tremor", True), ev(47, "myoclonus", True), *_assessed()])
    assert (result.grade, result.criteria_met) == (0, ())


def test_crs_checker_mild_aphasia_is_graded_through_ice() -> None:
    # The same peer row counts mild aphasia as grade 2; ASTCT grades aphasia only through ICE
    # (an ICE of 9 from a lost writing point is grade 1).
    result = _icans([ev(47, "aphasia", "expressive"), *_assessed(ice=9)])
    assert result.grade == 1


def test_crs_checker_expressive_aphasia_and_weakness_are_not_3() -> None:
    # CRS-checker: expressiveAphasiaMotorWeakness → 3.  ASTCT: aphasia counts through ICE (ICE 8
    # here: grade 1); only deep focal motor weakness counts, and it is grade 4.
    mild = _icans(
        [ev(47, "aphasia", "expressive"), ev(47, "motor_weakness", "mild"), *_assessed(ice=8)]
    )
    deep = _icans(
        [ev(47, "aphasia", "expressive"), ev(47, "motor_weakness", "deep_focal"), *_assessed(ice=8)]
    )
    assert (mild.grade, deep.grade) == (1, 4)


def test_crs_checker_raised_icp_is_not_always_4() -> None:
    # CRS-checker: any raised ICP or papilloedema → 4.  ASTCT: focal oedema → 3; diffuse
    # oedema, posturing, CN VI palsy, papilloedema or Cushing's triad → 4.
    focal = _icans([ev(47, "cerebral_edema", "focal"), *_assessed()])
    assert focal.grade == 3
    for item, code in (
        ("cerebral_edema", "diffuse"),
        ("icp_sign", "posturing"),
        ("icp_sign", "cn6_palsy"),
        ("icp_sign", "papilledema"),
        ("icp_sign", "cushing_triad"),
    ):
        assert _icans([ev(47, item, code), *_assessed()]).grade == 4, code


def test_crs_checker_uses_astct_levels_of_consciousness() -> None:
    # CRS-checker uses a somnolence scale; ASTCT grades the level of consciousness 1-4.
    levels = ("awakens_spontaneously", "awakens_to_voice", "awakens_to_tactile", "unarousable")
    grades = [_icans(_assessed(consciousness=level)).grade for level in levels]
    assert grades == [1, 2, 3, 4]


def test_alto84_edema_table_is_not_shifted_by_one_grade() -> None:
    # alto84 spec: focal oedema → 4, diffuse → "5".  ASTCT: 3 and 4 (grade 5 is death).
    focal = _icans([ev(47, "cerebral_edema", "focal"), *_assessed()])
    diffuse = _icans([ev(47, "cerebral_edema", "diffuse"), *_assessed()])
    assert (focal.grade, diffuse.grade) == (3, 4)
    assert all(c.grade <= 4 for c in ICANS_SCALES["astct2019"].criteria if c.domain != "death")


def test_ice_0_awake_is_3_and_unarousable_is_4() -> None:
    # No calculator documents the ICE 0 edge case; ASTCT footnote *: awake with global aphasia
    # → 3, unarousable → 4.  Without a level of consciousness: 3-4, never a guess.
    awake = _icans([ev(48, "aphasia", "global"), *_assessed(ice=0)])
    unarousable = _icans(_assessed(ice=0, consciousness="unarousable"))
    unknown = _icans([ev(48, "ice_score", 0)])
    assert (awake.grade, unarousable.grade) == (3, 4)
    # Provisional 3 (decision 0026): ICE 0 documents grade 3; consciousness could make it 4.
    assert (unknown.status, unknown.grade, unknown.bounds, unknown.missing) == (
        "provisional",
        3,
        (3, 4),
        ("level of consciousness: none in the last 24 h",),
    )


def test_children_under_12_are_graded_on_capd() -> None:
    # peers.md §4 table: no peer has a paediatric (CAPD) path; CancerCalc excludes under-12s.
    child = _icans([ev(48, "capd_score", 11), ev(48, "consciousness", "alert")], age_years=7)
    assert (child.grade, child.criteria_met) == (3, ("astct2019.icans.capd.g3",))
