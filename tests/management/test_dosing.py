"""Tocilizumab label dosing boundaries (issue 6, clinical-criteria §6.3 D40) and steroids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crswatch.errors import InputError
from crswatch.management import (
    STEROID_EQUIVALENCE,
    corticosteroid_dose,
    dexamethasone_equivalent,
    steroid_exposure,
    tocilizumab_dose,
)
from tests.builders import START, at, ev, timeline

T = START + timedelta(days=2)


@pytest.mark.parametrize(
    ("weight", "mg_per_kg", "dose", "capped"),
    [
        (25.0, 12.0, 300.0, False),
        (29.0, 12.0, 348.0, False),
        (29.9, 12.0, 359.0, False),  # 358.8 mg written in whole mg
        (30.0, 8.0, 240.0, False),
        (100.0, 8.0, 800.0, False),
        (100.1, 8.0, 800.0, True),
        (120.0, 8.0, 800.0, True),
    ],
)
def test_weight_bands_and_cap(weight: float, mg_per_kg: float, dose: float, capped: bool) -> None:
    check = tocilizumab_dose(weight, at=T)
    assert (check.mg_per_kg, check.dose_mg, check.cap_applied) == (mg_per_kg, dose, capped)
    assert check.allowed and check.reasons == ()


def test_120_kg_reports_the_uncapped_dose() -> None:
    assert tocilizumab_dose(120.0, at=T).uncapped_mg == 960.0


def test_interval_of_7h59_is_refused_naming_the_8h_rule() -> None:
    check = tocilizumab_dose(70.0, at=T, given=[T - timedelta(hours=7, minutes=59)])
    assert not check.allowed
    assert len(check.reasons) == 1 and check.reasons[0].startswith("min_interval_8h:")
    assert "7 h 59 min" in check.reasons[0]
    assert check.next_allowed_at == T + timedelta(minutes=1)


def test_interval_of_exactly_8h_is_allowed() -> None:
    assert tocilizumab_dose(70.0, at=T, given=[T - timedelta(hours=8)]).allowed


def test_fourth_dose_allowed_fifth_refused() -> None:
    three = [T - timedelta(hours=h) for h in (72, 48, 24)]
    assert tocilizumab_dose(70.0, at=T, given=three).allowed
    four = [*three, T - timedelta(hours=12)]
    fifth = tocilizumab_dose(70.0, at=T, given=four)
    assert not fifth.allowed
    assert [r.split(":")[0] for r in fifth.reasons] == ["max_4_total"]
    assert fifth.next_allowed_at is None


def test_three_in_24_hours() -> None:
    # Recorded doses at -20 h, -16 h and -8 h: the interval is respected, the window is full.
    given = [T - timedelta(hours=h) for h in (20, 16, 8)]
    check = tocilizumab_dose(70.0, at=T, given=given)
    assert [r.split(":")[0] for r in check.reasons] == ["max_3_per_24h"]
    assert check.next_allowed_at == T + timedelta(hours=4)


def test_a_dose_24h_after_the_first_of_three_starts_a_new_period() -> None:
    given = [T - timedelta(hours=h) for h in (24, 16, 8)]
    assert tocilizumab_dose(70.0, at=T, given=given).allowed


def test_requested_dose_above_the_cap_or_band_is_refused() -> None:
    over = tocilizumab_dose(120.0, at=T, requested_mg=900.0)
    assert [r.split(":")[0] for r in over.reasons] == ["max_800mg_per_dose"]
    band = tocilizumab_dose(30.0, at=T, requested_mg=360.0)
    assert [r.split(":")[0] for r in band.reasons] == ["weight_band"]
    assert tocilizumab_dose(30.0, at=T, requested_mg=240.0).allowed


@pytest.mark.parametrize("weight", [0.0, -5.0, float("nan")])
def test_invalid_weight(weight: float) -> None:
    with pytest.raises(InputError, match="weight_kg="):
        tocilizumab_dose(weight, at=T)


def test_a_dose_after_the_evaluation_time_is_an_error() -> None:
    with pytest.raises(InputError, match="given_at="):
        tocilizumab_dose(70.0, at=T, given=[T + timedelta(minutes=1)])


def test_to_dict_contract() -> None:
    payload = tocilizumab_dose(29.9, at=T).to_dict()
    assert {"drug", "dose_mg", "mg_per_kg", "allowed", "reasons"} <= set(payload)
    assert payload["drug"] == "tocilizumab" and payload["dose_mg"] == 359.0
    assert payload["exact_mg"] == 358.8 and "12 mg/kg × 29.9 kg = 358.8 mg" in payload["basis"]


def test_corticosteroid_doses() -> None:
    capped = corticosteroid_dose(
        "dexamethasone", mg_per_kg=0.5, weight_kg=70.0, cap_mg=10.0, route="IV", timing="now"
    )
    assert capped is not None and (capped.dose_mg, capped.cap_applied) == (10.0, True)
    child = corticosteroid_dose(
        "dexamethasone", mg_per_kg=0.5, weight_kg=15.0, cap_mg=10.0, route="IV", timing="now"
    )
    assert child is not None and (child.dose_mg, child.cap_applied) == (7.5, False)
    assert (
        corticosteroid_dose("methylprednisolone", mg_per_kg=2.0, route="IV", timing="daily") is None
    )


def test_glucocorticoid_equivalence() -> None:
    for drug, mg in STEROID_EQUIVALENCE.items():
        assert dexamethasone_equivalent(drug, mg) == pytest.approx(0.75)
    assert dexamethasone_equivalent("methylprednisolone", 500.0) == pytest.approx(93.75)
    with pytest.raises(InputError, match="drug="):
        dexamethasone_equivalent("budesonide", 1.0)


def test_running_steroid_exposure_from_the_timeline() -> None:
    t = timeline(
        [
            ev(-1, "dexamethasone", 20, "mg"),
            ev(24, "methylprednisolone", 500, "mg"),
            ev(36, "dexamethasone", 10, "mg"),
            ev(60, "dexamethasone", 10, "mg"),
        ]
    )
    exposure = steroid_exposure(t, at(48))
    assert exposure.mg_by_drug == {"dexamethasone": 30.0, "methylprednisolone": 500.0}
    assert exposure.dexamethasone_equivalent_mg == pytest.approx(30.0 + 93.75)
    assert exposure.dexamethasone_equivalent_mg_24h == pytest.approx(10.0)
