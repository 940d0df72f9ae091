"""Pre-treatment risk: EASIX (D50), m-EASIX (D51), disease burden (D43), CAR-HEMATOTOX (D52,
only behind the unverified flag)."""

from __future__ import annotations

import pytest

from crswatch.biomarkers import BiomarkerParameters, pretreatment_risk
from tests.builders import ev, timeline


def _risk(events, params=None, **patient):
    return pretreatment_risk(timeline(events, **patient), params=params)


def _labs(ldh: float, creatinine: float, platelets: float, crp: float | None = None):
    events = [
        ev(-48, "ldh", ldh, "U/L"),
        ev(-48, "creatinine", creatinine, "mg/dL"),
        ev(-48, "platelets", platelets, "10*9/L"),
    ]
    if crp is not None:
        events.append(ev(-48, "crp", crp, "mg/L"))
    return events


@pytest.mark.parametrize(
    ("ldh", "creatinine", "platelets", "value", "category"),
    [
        (300, 1.0, 100, 3.0, "low"),  # D50
        (450, 1.2, 100, 5.4, "high"),  # D50
        (467, 1.0, 100, 4.67, "low"),  # exactly the cut-off: "> 4.67" is high
        (468, 1.0, 100, 4.68, "high"),
    ],
)
def test_easix_d50_and_cutoff(ldh, creatinine, platelets, value, category) -> None:
    score = _risk(_labs(ldh, creatinine, platelets)).score("easix")
    assert score.value == pytest.approx(value)
    assert score.category == category
    assert score.verified and "Korell" in score.source


def test_m_easix_d51_converts_crp_to_mg_per_dl() -> None:
    in_mg_l = _risk(_labs(400, 1.0, 50, crp=80)).score("m_easix")
    assert in_mg_l.value == pytest.approx(64.0)
    assert in_mg_l.cutoff is None and in_mg_l.category is None  # no verified cut-off
    events = [*_labs(400, 1.0, 50)[:1], ev(-48, "platelets", 50, "10*3/uL")]
    events.append(ev(-48, "crp", 8, "mg/dL"))
    assert _risk(events).score("m_easix").value == pytest.approx(64.0)


def test_s_easix_and_missing_inputs_are_not_assessable() -> None:
    result = _risk([ev(-48, "ldh", 300, "U/L"), ev(-48, "platelets", 150, "10*3/uL")])
    assert result.score("s_easix").value == pytest.approx(2.0)
    easix = result.score("easix")
    assert easix.status == "not_assessable" and easix.missing == ("creatinine",)
    assert easix.to_dict()["value"] is None


def test_values_after_the_reference_or_before_the_window_are_not_used() -> None:
    events = [ev(-24 * 8, "ldh", 300, "U/L"), ev(2, "ldh", 300, "U/L")]
    assert _risk(events).score("s_easix").missing == ("ldh", "platelets")
    wider = BiomarkerParameters(pretreatment_window=BiomarkerParameters().baseline_window)
    assert _risk(events, wider).score("s_easix").missing == ("platelets",)


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([ev(-24, "blasts_marrow", 55, "%")], "met"),  # D43
        ([ev(-24, "blasts_blood", 16000, "/uL")], "met"),  # D43
        ([ev(-24, "blasts_marrow", 50, "%")], "met"),  # ">= 50 %"
        (
            [ev(-24, "blasts_marrow", 49.9, "%"), ev(-24, "blasts_blood", 15000, "/uL")],
            "not_met",
        ),  # "> 15,000/uL": exactly 15,000 is not above
        ([ev(-24, "blasts_blood", 15000, "/uL")], "not_assessable"),  # marrow unknown
    ],
)
def test_disease_burden_d43(events, status) -> None:
    therapy = {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}
    burden = _risk(events, therapy=therapy).disease_burden
    assert burden.status == status
    assert burden.warnings == ()
    assert (burden.to_dict()["action"] is not None) == (status == "met")


def test_car_hematotox_is_off_unless_asked_and_labelled() -> None:
    events = [
        ev(-48, "platelets", 60000, "/uL"),
        ev(-48, "anc", 1000, "/uL"),
        ev(-48, "hemoglobin", 9.5, "g/dL"),
        ev(-48, "crp", 4, "mg/dL"),
        ev(-48, "ferritin", 800, "ng/mL"),
    ]
    default = _risk(events)
    assert [s.id for s in default.scores] == ["easix", "s_easix", "m_easix"]
    assert "car_hematotox" in default.to_dict()["not_computed"]
    score = _risk(events, BiomarkerParameters(include_unverified=True)).score("car_hematotox")
    assert (score.value, score.category, score.bounds) == (5.0, "HT-high", (5, 5))  # D52
    assert score.verified is False and score.tag == "R"


def test_car_hematotox_gap_values_score_a_range() -> None:
    events = [
        ev(-48, "platelets", 200, "10*3/uL"),
        ev(-48, "anc", 1.2, "10*3/uL"),  # 1200/uL: in neither "> 1200" nor "< 1200"
        ev(-48, "hemoglobin", 12, "g/dL"),
        ev(-48, "crp", 10, "mg/L"),
        ev(-48, "ferritin", 300, "ng/mL"),
    ]
    score = _risk(events, BiomarkerParameters(include_unverified=True)).score("car_hematotox")
    assert score.value is None and score.bounds == (0, 1) and score.category == "HT-low"
