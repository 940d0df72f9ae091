"""``crswatch hlh``, ``biomarkers`` and ``risk``: the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from tests.builders import ev, timeline
from tests.hlh._golden import load_cases

runner = CliRunner()


def _seed000(tmp_path: Path) -> Path:
    seed = next(c.timeline for c in load_cases() if c.id == "seed000-day4")
    return write_path([seed], tmp_path / "seed000.json")


def test_hlh_json_on_the_seed_patient(tmp_path: Path) -> None:
    path = _seed000(tmp_path)
    result = runner.invoke(
        app,
        ["hlh", str(path), "--json", "--at", "2024-01-05T08:00:00Z", "--no-molecular-diagnosis"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["schema"] == "crswatch.hlh-screens/1"
    assert payload["flags"] == {
        "hlh2004": "not_assessable",
        "hscore": "not_assessable",
        "carhlh": "not_assessable",
        "iechs": "not_assessable",
    }
    hscore = payload["screens"]["hscore"]
    assert hscore["score_bounds"] == [80, 235] and ">= 169" in hscore["cutoff"]
    assert payload["screens"]["hlh2004"]["routes"]["molecular"] == "not_met"
    assert payload["screens"]["iechs"]["verified"] is False
    assert payload["course"]["first_met"] == dict.fromkeys(payload["flags"])
    assert payload["supplementary_findings"]["hlh_molecular_diagnosis"] is False


def test_hlh_table_and_options(tmp_path: Path) -> None:
    events = [ev(48, "temperature", 38.2, "Cel"), ev(48, "ferritin", 7000, "ng/mL")]
    path = write_path([timeline(events, patient_id="A"), timeline(events, patient_id="B")],
                      tmp_path / "two.json")  # fmt: skip
    table = runner.invoke(app, ["hlh", str(path)])
    # Screens by their clinical names, not ids (issue 15).
    assert table.exit_code == 0 and "HScore" in table.stdout and "hlh2004" not in table.stdout
    payload = json.loads(runner.invoke(app, ["hlh", str(path), "--json", "--fever-c", "38"]).stdout)
    assert [p["patient_id"] for p in payload] == ["A", "B"]
    assert "fever" in payload[0]["screens"]["hlh2004"]["criteria_met"]


def test_biomarkers_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["biomarkers", str(_seed000(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    ferritin = next(a for a in payload["kinetics"]["analytes"] if a["item"] == "ferritin")
    assert ferritin["peak"]["value"] == 22544.0 and ferritin["peak_hours_from_start"] == 36.0
    assert {f["id"] for f in payload["kinetics"]["flags"]} == {
        "ferritin_above_10000",
        "fibrinogen_below_150",
        "fibrinogen_falling_fast",
    }
    assert payload["cytokines"]["hlh_pattern"]["total"] == 16
    table = runner.invoke(app, ["biomarkers", str(_seed000(tmp_path))])
    assert table.exit_code == 0 and "ferritin" in table.stdout


def test_risk_json_and_unverified_flag(tmp_path: Path) -> None:
    events = [
        ev(-48, "ldh", 450, "U/L"),
        ev(-48, "creatinine", 1.2, "mg/dL"),
        ev(-48, "platelets", 100, "10*3/uL"),
        ev(-48, "crp", 40, "mg/L"),
        ev(-48, "anc", 1.0, "10*3/uL"),
        ev(-48, "hemoglobin", 9.5, "g/dL"),
        ev(-48, "ferritin", 800, "ng/mL"),
    ]
    path = write_path([timeline(events)], tmp_path / "risk.json")
    payload = json.loads(runner.invoke(app, ["risk", str(path), "--json"]).stdout)
    assert payload["schema"] == "crswatch.risk/1"
    assert payload["scores"]["easix"]["value"] == 5.4
    assert payload["scores"]["easix"]["category"] == "high"
    assert "car_hematotox" not in payload["scores"]
    flagged = json.loads(runner.invoke(app, ["risk", str(path), "--json", "--unverified"]).stdout)
    assert flagged["scores"]["car_hematotox"]["verified"] is False
    table = runner.invoke(app, ["risk", str(path), "--unverified"])
    assert table.exit_code == 0 and "unverified" in table.stdout


def test_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    path = _seed000(tmp_path)
    for command in ("hlh", "biomarkers", "risk"):
        result = runner.invoke(app, [command, str(path), "--at", "2024-01-05T08:00:00"])
        assert result.exit_code == 2 and "--at" in result.stderr
