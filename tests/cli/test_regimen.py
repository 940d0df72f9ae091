"""``crswatch regimen plan DRUG`` and ``regimen status PATH``: the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from tests.builders import ev, timeline

runner = CliRunner()


def test_plan_json_with_weight_and_start() -> None:
    result = runner.invoke(
        app,
        ["regimen", "plan", "teclistamab", "--weight-kg", "80", "--start",
         "2025-03-03T09:00:00Z", "--periods", "2", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [d["dose_mg"] for d in payload["doses"]] == [4.8, 24.0, 120.0, 120.0]
    assert payload["doses"][1]["time"] == "2025-03-06T09:00:00Z"
    assert payload["doses"][0]["monitoring_until"] == "2025-03-05T09:00:00Z"


def test_plan_table_lists_unverified_content() -> None:
    result = runner.invoke(app, ["regimen", "plan", "tarlatamab"])
    assert result.exit_code == 0, result.output
    assert "(unverified)" in result.stdout
    assert "not verified" in result.stdout


def test_plan_indication_and_blinatumomab() -> None:
    fl = runner.invoke(app, ["regimen", "plan", "epcoritamab", "--indication", "fl", "--json"])
    assert [d["dose_mg"] for d in json.loads(fl.stdout)["doses"]] == [0.16, 0.8, 3.0, 48.0]
    blin = runner.invoke(app, ["regimen", "plan", "blinatumomab", "--weight-kg", "70", "--json"])
    assert blin.exit_code == 0, blin.output
    assert json.loads(blin.stdout)["schema"] == "crswatch.blinatumomab-plan/1"


def test_plan_errors_name_the_value() -> None:
    unknown = runner.invoke(app, ["regimen", "plan", "tebentafusp"])
    assert unknown.exit_code == 2
    assert "drug='tebentafusp'" in unknown.output
    bad = runner.invoke(app, ["regimen", "plan", "epcoritamab", "--indication", "cll"])
    assert bad.exit_code == 2
    assert "indication='cll'" in bad.output


def test_status_json_and_text(tmp_path: Path) -> None:
    therapy = {"kind": "bispecific", "product": "elranatamab", "start": "2024-01-01T08:00:00Z"}
    tl = timeline(
        [ev(0, "elranatamab", 12, "mg"), ev(1, "temperature", 36.8, "Cel")], therapy=therapy
    )
    path = tmp_path / "p.json"
    write_path([tl], path)
    result = runner.invoke(app, ["regimen", "status", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["schema"] == "crswatch.regimen-status/1"
    assert payload["monitoring"]["now"] is True
    assert payload["next_dose"]["name"] == "step-up dose 2"
    text = runner.invoke(app, ["regimen", "status", str(path)])
    assert text.exit_code == 0, text.output
    assert "in monitoring window until 2024-01-03T08:00:00Z" in text.stdout


def test_status_unknown_drug_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    write_path([timeline([ev(0, "temperature", 37, "Cel")])], path)
    result = runner.invoke(app, ["regimen", "status", str(path)])
    assert result.exit_code == 2
    assert "no bispecific T-cell engager dose" in result.output
