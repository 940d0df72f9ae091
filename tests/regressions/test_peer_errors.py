"""Errors found in peer tools (shared/research/peers.md §5, CRS rows), as regression tests.

Each test names the peer and its error, and asserts the correct ASTCT 2019 behaviour.
"""

from __future__ import annotations

from typing import Any

from crswatch.scales import CRS_SCALES, grade_timelines
from tests.builders import at, ev, timeline


def _astct(events: list[dict[str, Any]], hours: float) -> Any:
    (graded,) = grade_timelines([timeline(events)], at=at(hours), scales=["astct2019"])
    return graded.crs["astct2019"]


def _febrile(*more: dict[str, Any]) -> list[dict[str, Any]]:
    return [ev(48, "temperature", 38.6, "Cel"), ev(48, "sbp", 118, "mm[Hg]"), *more]


def test_cliot_and_cancercalc_6_l_min_is_low_flow() -> None:
    # cliot: low flow "<6 L/min", high flow ">=6"; CancerCalc lists both "<=6" and ">=6".
    six = _astct(_febrile(ev(48, "o2_device", "nasal_cannula"), ev(48, "o2_flow", 6, "L/min")), 49)
    assert six.grade == 2
    above = _astct(
        _febrile(ev(48, "o2_device", "nasal_cannula"), ev(48, "o2_flow", 6.1, "L/min")), 49
    )
    assert above.grade == 3


def test_cliot_pressors_are_counted_not_dosed() -> None:
    # cliot grades pressors by "low_dose"/"high_dose"; ASTCT counts them: one is 3 at any dose.
    low = _astct(_febrile(ev(47, "norepinephrine", 2, "ug/min")), 49)
    high = _astct(_febrile(ev(44, "norepinephrine", 40, "ug/min")), 49)
    assert low.grade == high.grade == 3


def test_nobra_one_low_dose_pressor_is_3_and_multiple_is_4() -> None:
    one = _astct(_febrile(ev(47, "norepinephrine", 3, "ug/min")), 49)
    two = _astct(
        _febrile(ev(47, "norepinephrine", 3, "ug/min"), ev(47, "dopamine", 3, "ug/kg/min")), 49
    )
    assert (one.grade, two.grade) == (3, 4)


def test_nobra_organ_toxicity_does_not_raise_the_astct_grade() -> None:
    result = _astct(_febrile(ev(48, "alt", 2000, "U/L", ref_high=40)), 49)
    assert result.grade == 1


def test_nobra_no_fever_is_grade_0_not_1() -> None:
    result = _astct([ev(48, "temperature", 37.2, "Cel"), ev(48, "sbp", 118, "mm[Hg]")], 49)
    assert result.grade == 0


def test_fever_not_required_after_tocilizumab_or_steroids() -> None:
    # cliot, CRS-checker, medx and toy apps always require fever.
    for drug, dose in (("tocilizumab", 560), ("dexamethasone", 10)):
        events = [
            ev(40, "temperature", 39.0, "Cel"),
            ev(41, drug, dose, "mg"),
            ev(48, "temperature", 36.8, "Cel"),
            ev(48, "sbp", 84, "mm[Hg]"),
            ev(48, "norepinephrine", 5, "ug/min"),
        ]
        assert _astct(events, 66).grade == 3, drug  # the 40 h fever has left the window


def test_sas_macro_grade_4_is_multiple_pressors_or_ventilation() -> None:
    # The SAS %derive_crs_grade header requires multiple vasopressors AND a ventilator.
    pressors = _astct(
        _febrile(ev(47, "norepinephrine", 5, "ug/min"), ev(47, "epinephrine", 5, "ug/min")), 49
    )
    ventilated = _astct(_febrile(ev(47, "o2_device", "mechanical_ventilation")), 49)
    assert pressors.grade == ventilated.grade == 4


def test_alto84_37_8_is_not_fever() -> None:
    result = _astct([ev(48, "temperature", 37.8, "Cel"), ev(48, "sbp", 118, "mm[Hg]")], 49)
    assert result.grade == 0


def test_mdcalc_every_result_names_its_scale_and_version() -> None:
    # MDCalc's "CRS Grading" page shows Lee 2014 to users who may expect ASTCT.
    (graded,) = grade_timelines([timeline(_febrile())], at=at(49))
    for scale_id, result in graded.crs.items():
        payload = result.to_dict()
        assert payload["scale"] == scale_id and payload["version"]
        assert CRS_SCALES[scale_id].citation
