"""ICANS beside CRS in every command: grade, trajectory, episodes and scales."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from crswatch.scales import RESULT_SCHEMA, render_markdown
from crswatch.scales.icans_astct2019 import SCALE
from tests.builders import ev, timeline

runner = CliRunner()
EVENTS = [
    ev(72, "temperature", 39.5, "Cel"),
    ev(72, "sbp", 82, "mm[Hg]"),
    ev(73, "norepinephrine", 8, "ug/min"),
    ev(80, "ice_score", 10),
    ev(92, "ice_score", 3),
    ev(92, "consciousness", "awakens_to_voice"),
    ev(93, "seizure", "generalized_resolved"),
]


def _file(tmp_path: Path) -> Path:
    return write_path([timeline(EVENTS, patient_id="P1")], tmp_path / "t.json")


def test_grade_json_has_icans_beside_crs_with_the_same_result_shape(tmp_path: Path) -> None:
    result = runner.invoke(app, ["grade", str(_file(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    icans = payload["icans"]["astct2019"]
    crs = payload["crs"]["astct2019"]
    assert set(icans) == set(crs)
    assert icans["schema"] == RESULT_SCHEMA
    assert (icans["grade"], icans["status"], icans["bounds"]) == (3, "graded", [3, 3])
    assert set(icans["criteria_met"]) == {
        "astct2019.icans.ice.g2",
        "astct2019.icans.consciousness.g2",
        "astct2019.icans.seizure.g3",
    }
    seizure = next(e for e in icans["evidence"] if e["criterion"].endswith("seizure.g3"))
    assert seizure["events"] == ["seizure@2024-01-05T05:00:00Z"]
    assert icans["parameters"]["neuro_window_hours"] == 24.0


def test_grade_selects_icans_only_with_a_qualified_id(tmp_path: Path) -> None:
    path = str(_file(tmp_path))
    only = runner.invoke(app, ["grade", path, "--json", "--scale", "icans.astct2019"])
    payload = json.loads(only.stdout)
    assert (payload["crs"], list(payload["icans"])) == ({}, ["astct2019"])
    crs_only = runner.invoke(app, ["grade", path, "--json", "--scale", "astct2019"])
    assert json.loads(crs_only.stdout)["icans"] == {}
    unknown = runner.invoke(app, ["grade", path, "--scale", "icans.lee2014"])
    assert unknown.exit_code == 2 and "lee2014" in unknown.stderr


def test_grade_table_shows_icans_and_its_warnings(tmp_path: Path) -> None:
    path = write_path(
        [timeline([ev(48, "temperature", 38.5, "Cel"), ev(48, "ice_score", 8)])],
        tmp_path / "w.json",
    )
    result = runner.invoke(
        app, ["grade", str(path), "--scale", "icans.astct2019"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "ICANS" in result.stdout and "ICE score 7-9" in result.stdout
    assert "level of consciousness not charted" in result.stdout


def test_trajectory_csv_has_the_syndrome_column(tmp_path: Path) -> None:
    result = runner.invoke(app, ["trajectory", str(_file(tmp_path))])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {row["kind"] for row in rows} == {"crs", "icans"}
    icans = {row["at"]: row["grade"] for row in rows if row["kind"] == "icans"}
    assert icans["2024-01-04T16:00:00Z"] == "0"  # ICE 10 at 80 h
    assert icans["2024-01-05T04:00:00Z"] == "2"  # ICE 3, awakens to voice at 92 h
    assert icans["2024-01-05T05:00:00Z"] == "3"  # a generalized seizure at 93 h


def test_episodes_json_has_an_icans_block_with_assessment_gaps(tmp_path: Path) -> None:
    result = runner.invoke(app, ["episodes", str(_file(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["peak"]["astct2019"] == 3  # CRS, as before
    icans = payload["icans"]
    assert icans["peak"] == {"astct2019": 3}
    (episode,) = icans["episodes"]
    assert (episode["kind"], episode["onset"]) == ("icans", "2024-01-05T04:00:00Z")
    # CRS from 72 h with no ICE since the therapy start: overdue from the onset until the first
    # ICE at 80 h; 80 -> 92 h is 12 h, not "more than" the interval.
    (gap,) = icans["assessment_gaps"]
    assert gap == {
        "last_assessment": None,
        "overdue_from": "2024-01-04T08:00:00Z",
        "until": "2024-01-04T16:00:00Z",
        "assessed_at_end": True,
        "hours_without": 80.0,
    }
    text = runner.invoke(app, ["episodes", str(_file(tmp_path))], env={"COLUMNS": "200"})
    assert "ICANS" in text.stdout


def test_scales_lists_and_documents_icans(tmp_path: Path) -> None:
    listed = json.loads(runner.invoke(app, ["scales", "--json"]).stdout)
    icans = [row for row in listed if row["kind"] == "icans"]
    assert [row["key"] for row in icans] == ["icans.astct2019"]
    assert listed[0]["key"] == "crs.astct2019"
    written = runner.invoke(app, ["scales", "--write-docs", str(tmp_path)])
    assert written.exit_code == 0
    page = tmp_path / "icans_astct2019.md"
    assert page.read_text(encoding="utf-8") == render_markdown(SCALE)
    assert (tmp_path / "astct2019.md").is_file()  # the CRS page keeps its name
