"""HLH-2004: every threshold at, just below and just above its boundary, operators as the
original (D8), fever per D7, the molecular route and the status rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crswatch.hlh import HLHParameters, SupplementaryFindings
from tests.builders import ev
from tests.hlh._support import column, screens


@pytest.mark.parametrize(
    ("item", "value", "unit", "part", "met"),
    [
        # Ferritin >= 500 ug/L (D8: not "> 500").
        ("ferritin", 500, "ug/L", "ferritin.ferritin", True),
        ("ferritin", 500, "ng/mL", "ferritin.ferritin", True),
        ("ferritin", 499.9, "ng/mL", "ferritin.ferritin", False),
        # Fibrinogen <= 1.5 g/L (D8: not "< 150 mg/dL").
        ("fibrinogen", 1.5, "g/L", "triglycerides_fibrinogen.fibrinogen", True),
        ("fibrinogen", 150, "mg/dL", "triglycerides_fibrinogen.fibrinogen", True),
        ("fibrinogen", 150.1, "mg/dL", "triglycerides_fibrinogen.fibrinogen", False),
        # Triglycerides >= 3.0 mmol/L, converted with the reader's triolein molar mass.
        ("triglycerides", 3.0, "mmol/L", "triglycerides_fibrinogen.triglycerides", True),
        ("triglycerides", 2.99, "mmol/L", "triglycerides_fibrinogen.triglycerides", False),
        ("triglycerides", 265.71, "mg/dL", "triglycerides_fibrinogen.triglycerides", True),
        # The paper's "265 mg/dL" is a rounding of 3.0 mmol/L (265.71): documented choice.
        ("triglycerides", 265, "mg/dL", "triglycerides_fibrinogen.triglycerides", False),
        # Cytopenias: strict "<".
        ("hemoglobin", 90, "g/L", "cytopenias.hemoglobin", False),
        ("hemoglobin", 8.99, "g/dL", "cytopenias.hemoglobin", True),
        ("platelets", 100, "10*9/L", "cytopenias.platelets", False),
        ("platelets", 99.9, "10*3/uL", "cytopenias.platelets", True),
        ("anc", 1.0, "10*9/L", "cytopenias.neutrophils", False),
        ("anc", 990, "/uL", "cytopenias.neutrophils", True),
        # sCD25 >= 2400 U/mL.
        ("il2r", 2400, "U/mL", "scd25.scd25", True),
        ("il2r", 2399, "U/mL", "scd25.scd25", False),
        # Fever >= 38.5 °C by default (D7).
        ("temperature", 38.5, "Cel", "fever.temperature", True),
        ("temperature", 38.49, "Cel", "fever.temperature", False),
    ],
)
def test_threshold_boundaries(item: str, value: float, unit: str, part: str, met: bool) -> None:
    assert column([ev(10, item, value, unit)], f"hlh2004.{part}", 10) is met


def test_infant_haemoglobin_threshold_is_100_g_per_l() -> None:
    events = [ev(10, "hemoglobin", 95, "g/L")]
    infant = {"birth_date": "2023-12-20", "age_years": None}  # 12 days old at the therapy start
    assert column(events, "hlh2004.cytopenias.hemoglobin", 10, **infant) is True
    assert column(events, "hlh2004.cytopenias.hemoglobin", 10) is False  # 50 years old


def test_neutrophils_inferred_from_wbc_only_below_one() -> None:
    assert column([ev(1, "wbc", 0.8, "10*3/uL")], "hlh2004.cytopenias.neutrophils", 1) is True
    assert column([ev(1, "wbc", 1.0, "10*3/uL")], "hlh2004.cytopenias.neutrophils", 1) is None
    # A measured ANC decides, whatever the WBC.
    events = [ev(1, "wbc", 0.8, "10*3/uL"), ev(1, "anc", 1.2, "10*3/uL")]
    assert column(events, "hlh2004.cytopenias.neutrophils", 1) is False


def test_fever_threshold_is_a_flagged_parameter() -> None:
    events = [ev(5, "temperature", 38.0, "Cel")]
    default = screens(events).results["hlh2004"]
    assert not next(c for c in default.criteria if c.id == "fever").met
    assert any("the setting hlh2004_fever_c" in w for w in default.warnings)
    lowered = screens(events, params=HLHParameters(hlh2004_fever_c=38.0)).results["hlh2004"]
    assert next(c for c in lowered.criteria if c.id == "fever").met
    assert lowered.parameters["hlh2004_fever_c"] == 38.0


def test_worst_value_window_is_closed_at_both_ends() -> None:
    events = [ev(0, "ferritin", 900, "ng/mL"), ev(80, "ferritin", 100, "ng/mL")]
    window = timedelta(hours=72)
    params = HLHParameters(window=window)
    assert column(events, "ferritin_max", 72, params) == 900  # exactly T - 72 h: counts
    assert column(events, "ferritin_max", 72.001, params) is None  # just after: gone
    assert column(events, "ferritin_max", 80, params) == 100


def test_findings_hold_until_the_next_record() -> None:
    events = [ev(1, "splenomegaly", True), ev(200, "splenomegaly", False)]
    assert column(events, "hlh2004.splenomegaly", 150) is True
    assert column(events, "hlh2004.splenomegaly", 200) is False
    assert column([ev(1, "ferritin", 10, "ng/mL")], "hlh2004.splenomegaly", 5) is None


def test_scd25_in_pg_per_ml_is_not_assessable_and_says_why() -> None:
    result = screens([ev(5, "il2r", 4872, "pg/mL")]).results["hlh2004"]
    scd25 = next(c for c in result.criteria if c.id == "scd25")
    assert scd25.met is None
    assert [o.value for o in scd25.observations] == [None, 4872.0]
    assert any("pg/mL" in w for w in result.warnings)


def test_status_needs_both_routes_decided_for_not_met() -> None:
    events = [ev(5, "ferritin", 100, "ng/mL")]
    unknown = screens(events).results["hlh2004"]
    assert unknown.status == "not_assessable"
    assert unknown.routes == {"molecular": "not_assessable", "criteria": "not_assessable"}
    assert "molecular_diagnosis (hlh_molecular_diagnosis)" in unknown.missing
    molecular = screens(events, findings=SupplementaryFindings(hlh_molecular_diagnosis=True))
    assert molecular.results["hlh2004"].status == "met"


def test_result_lists_values_units_times_and_missing_inputs() -> None:
    result = screens([ev(5, "ferritin", 22544, "ng/mL")]).results["hlh2004"]
    ferritin = next(c for c in result.criteria if c.id == "ferritin")
    [obs] = ferritin.observations
    assert (obs.value, obs.unit) == (22544.0, "ng/mL")
    assert obs.time == datetime(2024, 1, 1, 13, 0, tzinfo=UTC)
    assert ferritin.tag == "V-2"
    assert any(m.startswith("fever (temperature_max)") for m in result.missing)
    document = result.to_dict()
    assert document["schema"] == "crswatch.hlh/1"
    assert document["criteria"][6]["observations"][0]["event"] == "ferritin@2024-01-01T13:00:00Z"
