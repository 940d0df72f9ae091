"""``crswatch validate`` and ``crswatch convert`` from the outside: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crswatch.cli import app
from tests.conftest import with_event

runner = CliRunner()


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(document))
    return path


def test_validate_clean_timeline_exits_zero(tmp_path: Path, document: dict[str, Any]) -> None:
    result = runner.invoke(app, ["validate", str(_write(tmp_path, document)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert (report["events_read"], report["events_accepted"], report["events_rejected"]) == (
        9,
        9,
        0,
    )


def test_validate_reports_every_rejection_and_exits_one(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    with_event(document, item="temperature", value=101, unit="Cel")
    with_event(document, time="2024-03-04T00:00:00Z", item="heart_rate_bpm", value=80, unit="/min")
    with_event(document, time="2024-03-05T00:00:00Z", item="crp", value=5, unit="mg/dL")
    result = runner.invoke(app, ["validate", str(_write(tmp_path, document)), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["events_rejected"] == 2
    assert report["events_converted"] == 1
    assert report["unknown_items"] == {"heart_rate_bpm": 1}
    assert [issue["field"] for issue in report["issues"]] == ["value", "item"]
    assert report["conversions"] == {"crp: mg/dL -> mg/L": 1}


def test_validate_text_output_names_field_and_value(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    with_event(document, item="temperature", value=101, unit="Cel")
    result = runner.invoke(app, ["validate", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "101" in result.stdout and "value" in result.stdout and "P-001" in result.stdout


def test_validate_unreadable_file_exits_two_with_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "not valid JSON" in result.stderr


def test_convert_writes_csv_and_back_to_json(tmp_path: Path, document: dict[str, Any]) -> None:
    source = _write(tmp_path, document)
    tables = tmp_path / "tables"
    assert (
        runner.invoke(app, ["convert", str(source), "-o", str(tables), "--to", "csv"]).exit_code
        == 0
    )
    assert (tables / "patients.csv").is_file() and (tables / "events.csv").is_file()
    back = tmp_path / "back.json"
    assert runner.invoke(app, ["convert", str(tables), "-o", str(back)]).exit_code == 0
    # Events come back sorted by time then item, values in canonical units (here unchanged).
    expected = sorted(document["events"], key=lambda e: (e["time"], e["item"]))
    assert json.loads(back.read_text())["events"] == expected


def test_convert_refuses_to_drop_rejected_records(tmp_path: Path, document: dict[str, Any]) -> None:
    with_event(document, item="temperature", value=101, unit="Cel")
    output = tmp_path / "out.json"
    result = runner.invoke(app, ["convert", str(_write(tmp_path, document)), "-o", str(output)])
    assert result.exit_code == 1
    assert not output.exists()
    kept = runner.invoke(
        app, ["convert", str(_write(tmp_path, document)), "-o", str(output), "--keep-valid"]
    )
    assert kept.exit_code == 1
    assert len(json.loads(output.read_text())["events"]) == 9
