"""carHLH organ criteria and IEC-HS as a labelled, unverified rule set."""

from __future__ import annotations

from datetime import timedelta

from crswatch.hlh import HLHParameters, SupplementaryFindings
from tests.builders import ev
from tests.hlh._support import column, screens

_HIGH_FERRITIN = [
    ev(-24, "ferritin", 400, "ng/mL", ref_high=300),
    ev(72, "ferritin", 15000, "ng/mL", ref_high=300),
]


def test_carhlh_supplementary_lung_and_oliguria_count() -> None:
    findings = SupplementaryFindings(pulmonary_edema_grade3=True, oliguria_grade3=True)
    result = screens(_HIGH_FERRITIN, findings=findings).results["carhlh"]
    assert result.status == "met"
    assert result.verified


def test_carhlh_liver_grade_is_undecided_until_every_liver_test_is_known() -> None:
    events = [*_HIGH_FERRITIN, ev(72, "ast", 100, "U/L", ref_high=40)]  # grade 2
    assert column(events, "carhlh.organ_involvement.liver", 72) is None
    events += [ev(72, "alt", 60, "U/L", ref_high=40), ev(72, "bilirubin", 1.0, "mg/dL")]
    assert column(events, "carhlh.organ_involvement.liver", 72) is False


def test_carhlh_warns_for_other_therapies() -> None:
    therapy = {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}
    result = screens(_HIGH_FERRITIN, therapy=therapy).results["carhlh"]
    assert any("CAR T" in w for w in result.warnings)


def test_iechs_is_labelled_unverified_and_needs_timing() -> None:
    events = [*_HIGH_FERRITIN, ev(72, "fibrinogen", 120, "mg/dL")]
    result = screens(events).results["iechs"]
    assert result.verified is False
    assert {c.tag for c in result.criteria} == {"R"}
    assert result.status == "not_assessable" and result.missing == ("timing (timing)",)
    timed = screens(events, findings=SupplementaryFindings(iechs_timing=True))
    assert timed.results["iechs"].status == "met"
    assert timed.to_dict()["screens"]["iechs"]["verified"] is False


def test_iechs_timing_proxy_is_opt_in() -> None:
    events = [*_HIGH_FERRITIN, ev(48, "tocilizumab", 560, "mg"), ev(72, "ldh", 900, "U/L")]
    proxy = HLHParameters(iechs_temporal_rule="after_crs_therapy")
    assert screens(events).results["iechs"].status == "not_assessable"
    assert screens(events, params=proxy).results["iechs"].status == "met"
    # The proxy never says "not met": a ferritin before the drug leaves it undecided.
    early = [*_HIGH_FERRITIN, ev(96, "tocilizumab", 560, "mg"), ev(96, "ldh", 900, "U/L")]
    assert screens(early, params=proxy).results["iechs"].status == "not_assessable"


def test_iechs_ferritin_uses_uln_or_baseline_strictly_above_twice() -> None:
    at_twice = [ev(-24, "ferritin", 400, "ng/mL"), ev(10, "ferritin", 800, "ng/mL")]
    assert column(at_twice, "iechs.ferritin", 10) is None  # not above 2x baseline; no ULN
    above = [ev(-24, "ferritin", 400, "ng/mL"), ev(10, "ferritin", 800.1, "ng/mL")]
    assert column(above, "iechs.ferritin", 10) is True
    uln = [ev(10, "ferritin", 600, "ng/mL", ref_high=300)]
    assert column(uln, "iechs.ferritin.x_uln", 10) is False
    assert column(uln, "iechs.ferritin", 10) is None  # baseline unknown


def test_iechs_new_or_worsening_cytopenia_rule() -> None:
    params = HLHParameters(window=timedelta(hours=72))
    events = [ev(-24, "platelets", 140, "10*3/uL"), ev(48, "platelets", 60, "10*3/uL")]
    assert column(events, "iechs.features.cytopenias", 48, params) is True
    stable = [ev(-24, "platelets", 60, "10*3/uL"), ev(48, "platelets", 60, "10*3/uL")]
    assert column(stable, "iechs.features.cytopenias", 48, params) is None
