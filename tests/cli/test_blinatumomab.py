"""``crswatch blinatumomab plan`` and ``status``: the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from tests.regimens._golden import status_cases

runner = CliRunner()


def test_plan_json_matches_the_issue_shape() -> None:
    result = runner.invoke(app, ["blinatumomab", "plan", "--weight-kg", "70", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    first = payload["cycles"][0]
    assert first["cycle"] == 1
    assert [
        {k: s[k] for k in ("start_day", "end_day", "dose_ug_per_day")} for s in first["segments"]
    ] == [
        {"start_day": 1, "end_day": 7, "dose_ug_per_day": 9.0},
        {"start_day": 8, "end_day": 28, "dose_ug_per_day": 28.0},
    ]
    assert {k: first["premedications"][0][k] for k in ("day", "drug", "dose_mg")} == {
        "day": 1,
        "drug": "dexamethasone",
        "dose_mg": 20.0,
    }


def test_plan_bsa_setting_start_and_table() -> None:
    result = runner.invoke(
        app,
        ["blinatumomab", "plan", "--weight-kg", "30", "--height-cm", "130", "--setting", "mrd",
         "--start", "2024-01-01T08:00:00Z", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["dosing_basis"] == "bsa" and len(payload["cycles"]) == 4
    assert payload["cycles"][0]["start"] == "2024-01-01T08:00:00Z"
    table = runner.invoke(app, ["blinatumomab", "plan", "--weight-kg", "70", "--cycles", "2"])
    assert table.exit_code == 0 and "dexamethasone 20 mg" in table.stdout


def test_plan_errors_are_reported() -> None:
    missing = runner.invoke(app, ["blinatumomab", "plan", "--weight-kg", "30", "--json"])
    assert missing.exit_code == 2 and "BSA" in missing.output
    both = runner.invoke(
        app, ["blinatumomab", "plan", "--weight-kg", "30", "--bsa-m2", "1", "--height-cm", "130"]
    )
    assert both.exit_code == 2
    setting = runner.invoke(app, ["blinatumomab", "plan", "--weight-kg", "70", "--setting", "x"])
    assert setting.exit_code == 2


def _ojemolon(tmp_path: Path) -> Path:
    case = next(c for c in status_cases() if c.id == "ojemolon2022-after-second-stop")
    return write_path([case.timeline], tmp_path / "ojemolon.json")


def test_status_json_replays_the_seed_course(tmp_path: Path) -> None:
    path = _ojemolon(tmp_path)
    result = runner.invoke(
        app, ["blinatumomab", "status", str(path), "--at", "2024-01-12T20:00:00Z", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["schema"] == "crswatch.blinatumomab-status/1"
    assert payload["state"] == "interrupted" and payload["cycle"] == 1
    assert payload["infusion_days"] == 7.5 and payload["deviations"] == []
    assert payload["label"]["id"] == "current"


def test_status_table_label_version_and_adverse_event(tmp_path: Path) -> None:
    path = _ojemolon(tmp_path)
    table = runner.invoke(
        app,
        ["blinatumomab", "status", str(path), "--label-version", "2015",
         "--adverse-event", "rash@3@2024-01-10T18:00:00Z", "--at", "2024-01-30T08:00:00Z"],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "discontinue" in table.stdout
    bad = runner.invoke(app, ["blinatumomab", "status", str(path), "--label-version", "x"])
    assert bad.exit_code == 2
    bad_event = runner.invoke(app, ["blinatumomab", "status", str(path), "--adverse-event", "x"])
    assert bad_event.exit_code == 2


def test_status_of_a_patient_not_on_blinatumomab(tmp_path: Path) -> None:
    """Issue 15, point 8: 'not applicable (therapy: CAR T)', no dose due, no Python None."""
    document = {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": "CART-1",
            "weight_kg": 70,
            "therapy": {"kind": "car_t", "start": "2024-01-01T08:00:00Z"},
        },
        "events": [{"time": "2024-01-02T08:00:00Z", "item": "temperature", "value": 38.5,
                    "unit": "Cel"}],
    }  # fmt: skip
    path = tmp_path / "cart.json"
    path.write_text(json.dumps(document))
    text = runner.invoke(app, ["blinatumomab", "status", str(path)])
    assert text.exit_code == 0, text.output
    assert text.stdout.strip() == "CART-1: not applicable (therapy: CAR T)"
    assert "None" not in text.stdout and "not_started" not in text.stdout
    payload = json.loads(runner.invoke(app, ["blinatumomab", "status", str(path), "--json"]).stdout)
    assert (payload["state"], payload["therapy_label"]) == ("not_applicable", "CAR T")
