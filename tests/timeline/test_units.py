"""Unit conversion to canonical units: UCUM parsing, offsets, molar and body-size conversions."""

from __future__ import annotations

import math
from dataclasses import astuple
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crswatch.io import read_json_document
from crswatch.timeline import _units, conversion_for, molar_mass, vocabulary
from crswatch.timeline._units import Conversion
from crswatch.timeline._vocabulary import item_spec
from tests.conftest import with_event


def _convert(document: dict[str, Any], **event: Any) -> Any:
    result = read_json_document(with_event(document, **event), "test.json")
    assert result.report.ok, [issue.message for issue in result.report.issues]
    (converted,) = [e for e in result.timelines[0].events if e.time.day == 3]
    return converted


CASES = [
    # item, value, unit, canonical value, canonical unit, why
    ("temperature", 101.3, "[degF]", 38.5, "Cel", "(101.3 - 32) x 5/9"),
    ("temperature", 100.4, "[degF]", 38.0, "Cel", "the fever threshold in Fahrenheit"),
    ("crp", 15, "mg/dL", 150.0, "mg/L", "1 mg/dL = 10 mg/L"),
    ("ferritin", 22544, "ug/L", 22544.0, "ng/mL", "ug/L and ng/mL are the same"),
    ("fibrinogen", 1.0, "g/L", 100.0, "mg/dL", "1 g/L = 100 mg/dL"),
    ("platelets", 150, "10*9/L", 150.0, "10*3/uL", "10^9/L = 10^3/uL"),
    ("hemoglobin", 120, "g/L", 12.0, "g/dL", "10 g/L = 1 g/dL"),
    ("vasopressin", 2.4, "U/h", 0.04, "U/min", "per hour to per minute"),
    ("o2_flow", 6000, "mL/min", 6.0, "L/min", "mL to L"),
    ("fio2", 0.4, "1", 40.0, "%", "a fraction with UCUM unity"),
    ("fio2", 40, "%", 40.0, "%", "already canonical"),
    ("il2r", 1200, "U/mL", 1200.0, "U/mL", "U/mL kept apart from pg/mL"),
    ("il2r", 1.5, "ng/mL", 1500.0, "pg/mL", "mass concentration to pg/mL"),
    ("d_dimer", 4000, "ng/mL{FEU}", 4.0, "ug/mL{FEU}", "FEU annotation matched"),
    ("d_dimer", 2, "ug/mL{DDU}", 2.0, "ug/mL{DDU}", "DDU kept apart from FEU"),
    ("norepinephrine", 0.1, "ug/kg/min", 6.8, "ug/min", "x 68 kg"),
    ("dopamine", 340, "ug/min", 5.0, "ug/kg/min", "/ 68 kg"),
    ("fluid_bolus", 20, "mL/kg", 1360.0, "mL", "x 68 kg"),
    ("tocilizumab", 8, "mg/kg", 544.0, "mg", "x 68 kg"),
    ("blinatumomab", 9, "ug/d", 9.0, "ug/d", "canonical"),
]


@pytest.mark.parametrize(
    ("item", "value", "unit", "expected", "canonical", "why"),
    CASES,
    ids=[f"{c[0]}-{c[2]}" for c in CASES],
)
def test_converts_to_canonical_unit(
    document: dict[str, Any],
    item: str,
    value: float,
    unit: str,
    expected: float,
    canonical: str,
    why: str,
) -> None:
    event = _convert(document, item=item, value=value, unit=unit)
    assert event.value == pytest.approx(expected, rel=1e-9), why
    assert event.unit == canonical


def test_converted_event_keeps_what_was_sent(document: dict[str, Any]) -> None:
    event = _convert(document, item="temperature", value=101.3, unit="[degF]")
    assert (event.original_value, event.original_unit) == (101.3, "[degF]")


def test_bsa_dose_uses_mosteller(document: dict[str, Any]) -> None:
    # Mosteller: sqrt(165 cm x 68 kg / 3600) = 1.76541 m2; 15 ug/m2/d x 1.76541 = 26.48 ug/d.
    event = _convert(document, item="blinatumomab", value=15, unit="ug/m2/d")
    assert event.value == pytest.approx(26.4811, abs=1e-4)
    assert event.unit == "ug/d"


def test_bsa_given_overrides_mosteller(document: dict[str, Any]) -> None:
    document["patient"]["bsa_m2"] = 1.5
    assert _convert(document, item="blinatumomab", value=15, unit="ug/m2/d").value == pytest.approx(
        22.5
    )


@pytest.mark.parametrize(
    ("item", "value", "unit", "expected", "source_factor"),
    [
        ("creatinine", 88.4, "umol/L", 1.0, "1 mg/dL = 88.4 umol/L"),
        ("bilirubin", 17.1, "umol/L", 1.0, "1 mg/dL = 17.1 umol/L"),
        ("triglycerides", 1.129, "mmol/L", 100.0, "1 mg/dL = 0.01129 mmol/L"),
    ],
)
def test_molar_conversions_match_the_conventional_factors(
    document: dict[str, Any],
    item: str,
    value: float,
    unit: str,
    expected: float,
    source_factor: str,
) -> None:
    mass = molar_mass(item)
    assert mass is not None and mass.source and mass.conventional_factor == source_factor
    event = _convert(document, item=item, value=value, unit=unit)
    # The molar masses reproduce the conventional clinical factors to within 0.1 %.
    assert event.value == pytest.approx(expected, rel=1e-3)
    assert event.unit in ("mg/dL",)


def test_reference_range_is_converted_like_the_value(document: dict[str, Any]) -> None:
    event = _convert(
        document, item="creatinine", value=88.4, unit="umol/L", ref_low=44.2, ref_high=97.24
    )
    assert event.ref_low == pytest.approx(0.5, rel=1e-3)
    assert event.ref_high == pytest.approx(1.1, rel=1e-3)


def test_same_unit_is_identity() -> None:
    conversion = conversion_for("crp", "mg/L")
    assert conversion.identity


def test_ddu_is_never_converted_to_feu() -> None:
    assert conversion_for("d_dimer", "ug/mL{DDU}").unit == "ug/mL{DDU}"


@given(st.floats(min_value=25.0, max_value=45.0, allow_nan=False))
def test_fahrenheit_and_celsius_give_the_same_canonical_value(celsius: float) -> None:
    fahrenheit = celsius * 9 / 5 + 32
    to_c = conversion_for("temperature", "[degF]")
    assert to_c.apply(fahrenheit, weight_kg=None, bsa_m2=None) == pytest.approx(celsius, abs=1e-9)


SPELLINGS = [
    # item, a clinical spelling that is not UCUM, the UCUM code suggested
    ("norepinephrine", "mcg/kg/min", "ug/kg/min"),
    ("temperature", "°F", "[degF]"),
    ("temperature", "°C", "Cel"),
    ("temperature", "F", "[degF]"),  # UCUM farad: a temperature in F means Fahrenheit
    ("sbp", "mmHg", "mm[Hg]"),
    ("heart_rate", "bpm", "/min"),
    ("platelets", "x10^9/L", "10*9/L"),
    ("vasopressin", "units/min", "U/min"),
    ("o2_flow", "lpm", "L/min"),
]


@pytest.mark.parametrize(("item", "unit", "ucum"), SPELLINGS, ids=[s[1] for s in SPELLINGS])
def test_a_common_clinical_spelling_gets_its_ucum_code_suggested(
    document: dict[str, Any], item: str, unit: str, ucum: str
) -> None:
    result = read_json_document(with_event(document, item=item, value=1, unit=unit), "t.json")
    (issue,) = result.report.issues
    assert issue.field == "unit" and f"did you mean {ucum!r} (UCUM)?" in issue.reason
    # The suggestion is never applied silently: the event is rejected, and the code suggested
    # converts to the item's unit.
    assert conversion_for(item, ucum).unit


def test_no_suggestion_for_a_unit_without_a_known_spelling(document: dict[str, Any]) -> None:
    result = read_json_document(with_event(document, item="crp", value=1, unit="furlong"), "t.json")
    (issue,) = result.report.issues
    assert "did you mean" not in issue.reason


# ------------------------------------------- canonical units without the registry (issue 16)


def _canonical_pairs() -> list[tuple[str, str]]:
    return [(spec.name, unit) for spec in vocabulary().values() for unit in spec.units]


def _fields(conversion: Conversion) -> tuple[Any, ...]:
    """Every field, the offset's sign too (``-0.0 == 0.0`` in Python)."""
    return (*astuple(conversion), math.copysign(1.0, conversion.offset))


@pytest.mark.parametrize(("item", "unit"), _canonical_pairs())
def test_a_canonical_unit_is_the_conversion_the_registry_computes(item: str, unit: str) -> None:
    """The short cut for canonical units gives exactly what pint computes for them."""
    by_registry = _units._registry_conversion(item_spec(item), item, unit)
    assert by_registry.identity
    assert _fields(conversion_for(item, unit)) == _fields(by_registry)


def test_canonical_units_never_load_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_registry() -> Any:
        raise AssertionError("the unit registry was loaded for a canonical unit")

    for cached in (conversion_for, _units._parse, _units._valid):
        cached.cache_clear()
    monkeypatch.setattr(_units, "registry", no_registry)
    for item, unit in _canonical_pairs():
        assert conversion_for(item, unit).identity
    with pytest.raises(AssertionError, match="registry was loaded"):
        conversion_for("temperature", "[degF]")
    conversion_for.cache_clear()  # nothing computed without the registry stays cached
