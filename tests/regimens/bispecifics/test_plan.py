"""Golden plans from each label's own dosing table (golden/plans.yaml), and plan input errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from crswatch.regimens import PRODUCTS, get_product, plan_regimen

GOLDEN = Path(__file__).parent / "golden" / "plans.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))["plans"]


def _row(dose: Any, period: str) -> list[Any]:
    return [dose.period, dose.day, dose.course_day, dose.drug, dose.dose_mg, dose.name]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_golden_plan(case: dict[str, Any]) -> None:
    assert case["source"]
    plan = plan_regimen(case["drug"], **case["input"])
    rows = [_row(dose, plan.schedule.period) for dose in plan.doses]
    expected = case["doses"]
    assert rows[: len(expected)] == expected
    assert len(rows) == case["count"]
    if "last" in case:
        assert rows[-1] == case["last"]
    stays = {dose.name: dose.monitoring.hours for dose in plan.doses if dose.monitoring}
    assert stays == {name: float(hours) for name, hours in case["stays"].items()}
    unverified = [dose.name for dose in plan.doses if not dose.verified]
    assert bool(unverified) == case.get("unverified_doses", False)


def test_every_product_has_a_golden_plan() -> None:
    assert {case["drug"] for case in CASES} == set(PRODUCTS)


def test_every_schedule_has_a_golden_plan() -> None:
    covered = {(case["drug"], case["input"].get("indication")) for case in CASES}
    for product in PRODUCTS.values():
        for number, schedule in enumerate(product.schedules):
            assert (product.id, schedule.id) in covered or (
                number == 0 and (product.id, None) in covered
            ), (product.id, schedule.id)


def test_dates_follow_the_start() -> None:
    start = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    plan = plan_regimen("teclistamab", weight_kg=80, start=start, periods=2)
    first, second = plan.doses[0], plan.doses[1]
    assert first.time == start
    assert second.time == datetime(2025, 3, 6, 9, 0, tzinfo=UTC)
    assert first.monitoring_until == datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    payload = plan.to_dict()
    assert payload["doses"][0]["monitoring_until"] == "2025-03-05T09:00:00Z"
    assert payload["doses"][0]["week"] == 1


def test_weight_based_dose_without_weight_is_not_guessed() -> None:
    plan = plan_regimen("talquetamab", periods=1)
    assert all(dose.dose_mg is None for dose in plan.doses)
    assert any("weight not given" in warning for warning in plan.warnings)


def test_premedication_is_planned_where_the_label_says() -> None:
    tec = plan_regimen("teclistamab", weight_kg=70, periods=3)
    with_premed = [dose.name for dose in tec.doses if dose.premedications]
    assert with_premed == ["step-up dose 1", "step-up dose 2", "first treatment dose"]
    mosun = plan_regimen("mosunetuzumab", periods=3)
    assert [dose.period for dose in mosun.doses if dose.premedications] == [1, 1, 1, 2]
    epco = plan_regimen("epcoritamab", indication="dlbcl", periods=2)
    assert [dose.period for dose in epco.doses if dose.premedications] == [1, 1, 1, 1]


def test_tarlatamab_doses_are_labelled_unverified() -> None:
    plan = plan_regimen("tarlatamab")
    assert any("not verified" in warning for warning in plan.warnings)
    assert plan.to_dict()["doses"][0]["dose_verified"] is False


def test_payload_names_label_and_unverified_content() -> None:
    payload = plan_regimen("elranatamab").to_dict()
    assert payload["schema"] == "crswatch.bispecific-plan/1"
    assert "ELREXFIO" in payload["label"]["citation"]
    assert payload["continues_after_plan"] is True
    topics = {item["topic"] for item in payload["unverified"]}
    assert "CRS grade 3 recurrent and grade 4" in topics
    assert all(item["verified"] is False for item in payload["unverified"])
    assert not [text for text in _strings(payload) if "None" in text]


def _strings(value: Any) -> list[str]:
    """Every string in a payload (the text a clinician reads): never Python's ``None``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"drug": "blinatumomabx"}, "drug='blinatumomabx'"),
        ({"drug": "epcoritamab", "indication": "cll"}, "indication='cll'"),
        ({"drug": "teclistamab", "weight_kg": 0}, "weight_kg=0"),
        ({"drug": "teclistamab", "periods": 0}, "periods=0"),
        ({"drug": "teclistamab", "start": datetime(2025, 1, 1)}, "start="),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    drug = kwargs.pop("drug")
    with pytest.raises(ValueError, match=field.replace("(", r"\(")):
        plan_regimen(drug, **kwargs)


def test_product_lookup_accepts_case_and_spaces() -> None:
    assert get_product(" Teclistamab ").brand == "TECVAYLI"
