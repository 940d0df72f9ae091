"""``crswatch grade``, ``trajectory``, ``episodes`` and ``scales``: the command-line contract."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from tests.builders import ev, timeline

runner = CliRunner()
EVENTS = [
    ev(72, "temperature", 39.5, "Cel"),
    ev(72, "sbp", 82, "mm[Hg]"),
    ev(73, "norepinephrine", 8, "ug/min"),
    ev(73, "o2_device", "nasal_cannula"),
    ev(73, "o2_flow", 2, "L/min"),
]


def _file(tmp_path: Path, *patients: str) -> Path:
    return write_path([timeline(EVENTS, patient_id=p) for p in patients], tmp_path / "t.json")


def test_grade_json_contract_one_patient(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["grade", str(_file(tmp_path, "P1")), "--json", "--scale", "astct2019"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["patient_id"] == "P1"
    assert payload["at"] == "2024-01-04T09:00:00Z"  # default: the last event
    astct = payload["crs"]["astct2019"]
    assert (astct["grade"], astct["status"], astct["bounds"]) == (3, "graded", [3, 3])
    assert {"evidence", "missing"} <= set(astct)


def test_grade_json_is_a_list_for_several_patients_and_honours_at(tmp_path: Path) -> None:
    path = _file(tmp_path, "P1", "P2")
    result = runner.invoke(app, ["grade", str(path), "--json", "--at", "2024-01-04T08:30:00Z"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [p["patient_id"] for p in payload] == ["P1", "P2"]
    # Before the pressor started: febrile and hypotensive without vasopressors.
    assert payload[0]["crs"]["astct2019"]["grade"] == 2


def test_grade_rejects_time_without_offset_and_unknown_scale(tmp_path: Path) -> None:
    path = _file(tmp_path, "P1")
    bad_time = runner.invoke(app, ["grade", str(path), "--at", "2024-01-04T08:30:00"])
    assert bad_time.exit_code == 2 and "--at" in bad_time.stderr
    bad_scale = runner.invoke(app, ["grade", str(path), "--scale", "astct2020"])
    assert bad_scale.exit_code == 2 and "astct2020" in bad_scale.stderr


def test_grade_table_names_the_deciding_criterion(tmp_path: Path) -> None:
    result = runner.invoke(app, ["grade", str(_file(tmp_path, "P1")), "--scale", "astct2019"])
    assert result.exit_code == 0
    assert "vasopressor" in result.stdout


def test_trajectory_csv_and_episodes_json(tmp_path: Path) -> None:
    path = _file(tmp_path, "P1")
    traj = runner.invoke(app, ["trajectory", str(path), "--scale", "astct2019"])
    assert traj.exit_code == 0, traj.output
    rows = list(csv.DictReader(io.StringIO(traj.stdout)))
    assert [row["grade"] for row in rows if row["at"] == "2024-01-04T09:00:00Z"] == ["3"]
    assert rows[0]["patient_id"] == "P1"
    episodes = runner.invoke(app, ["episodes", str(path), "--json", "--scale", "astct2019"])
    payload = json.loads(episodes.stdout)
    assert payload["peak"] == {"astct2019": 3}
    assert payload["episodes"][0]["onset"] == "2024-01-04T08:00:00Z"


def test_scales_lists_citations() -> None:
    result = runner.invoke(app, ["scales", "--json"])
    ids = [row["id"] for row in json.loads(result.stdout)]
    assert ids[0] == "astct2019"


def test_grade_before_the_record_says_so(tmp_path: Path) -> None:
    # Issue 14 defect 6: not a bare "not_assessable [0-2]".
    path = _file(tmp_path, "P1")
    result = runner.invoke(
        app, ["grade", str(path), "--scale", "astct2019", "--at", "2023-12-31T08:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "before the record: therapy started 2024-01-01T08:00:00Z" in result.stdout
    payload = json.loads(
        runner.invoke(app, ["grade", str(path), "--json", "--at", "2023-12-31T08:00:00Z"]).stdout
    )
    assert payload["warnings"][0].startswith("before the record")
    assert payload["crs"]["astct2019"]["warnings"][0].startswith("before the record")
    inside = json.loads(runner.invoke(app, ["grade", str(path), "--json"]).stdout)
    assert inside["warnings"] == []


def test_trajectory_ends_at_the_record_or_at_and_reports_clean_times(tmp_path: Path) -> None:
    # Issue 14 defect 3: the norepinephrine has no end; nothing past 73 h (the last event).
    path = _file(tmp_path, "P1")
    traj = runner.invoke(app, ["trajectory", str(path), "--all-rows"])
    rows = list(csv.DictReader(io.StringIO(traj.stdout)))
    assert max(row["at"] for row in rows) == "2024-01-04T09:00:00Z"
    assert not any("." in row["at"] for row in rows)
    later = runner.invoke(
        app, ["trajectory", str(path), "--scale", "astct2019", "--at", "2024-01-05T12:00:00Z"]
    )
    times = [row["at"] for row in csv.DictReader(io.StringIO(later.stdout))]
    # The fever and SBP of 72 h leave their 24 h window at 96 h: reported at 96 h exactly.
    assert "2024-01-05T08:00:00Z" in times
    assert max(times) <= "2024-01-05T12:00:00Z"
    episodes = runner.invoke(
        app,
        ["episodes", str(path), "--json", "--scale", "mskcc2018", "--at", "2024-01-05T12:00:00Z"],
    )
    payload = json.loads(episodes.stdout)
    assert payload["peak"] == {"mskcc2018": 3}  # 24 h of norepinephrine reached at 97 h


def test_grade_reads_a_table_set_as_frames_with_the_same_results(tmp_path: Path) -> None:
    """Tables are graded from the column-wise frames (issue #16): the JSON reader's grades."""
    timelines = [timeline(EVENTS, patient_id=p) for p in ("P2", "P1")]
    as_json = write_path(timelines, tmp_path / "t.json")
    as_parquet = write_path(timelines, tmp_path / "tables", to="parquet")
    from_json = runner.invoke(app, ["grade", str(as_json), "--json"])
    from_tables = runner.invoke(app, ["grade", str(as_parquet), "--json"])
    assert from_json.exit_code == 0 and from_tables.exit_code == 0, from_tables.output
    assert json.loads(from_tables.stdout) == json.loads(from_json.stdout)
    # The patients' order of the input, each graded.
    payload = json.loads(from_tables.stdout)
    assert [p["patient_id"] for p in payload] == ["P2", "P1"]
    assert payload[0]["crs"]["astct2019"]["grade"] == 3
