"""The command line as a new user meets it (issue 19): messages, help, databases, notation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.cli._demo import DEMO_DB
from crswatch.scales import GRADE_LEGEND

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "patient.json"


def test_a_hint_quoting_a_shell_command_keeps_its_square_brackets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = tmp_path / "cohort.json"
    made = runner.invoke(app, ["simulate", "--patients", "2", "--seed", "1", "-o", str(cohort)])
    assert made.exit_code == 0, made.output
    # As on an installation without the 'spark' extra.
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = runner.invoke(
        app, ["cohort", "grade", str(cohort), "-o", str(tmp_path / "g"), "--engine", "spark"]
    )
    assert result.exit_code == 2
    assert "pip install 'crswatch[spark]'" in result.stderr


def test_user_input_in_an_error_is_printed_as_typed(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["blinatumomab", "status", str(EXAMPLE), "--adverse-event", "[bold]x"]
    )
    assert result.exit_code == 2
    assert "--adverse-event='[bold]x': use NAME@GRADE@ONSET[@RESOLVED]" in result.stderr


def test_switches_show_no_value_type_in_help() -> None:
    for command in (["grade"], ["validate"], ["recommend"], ["demo"], ["cohort", "grade"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "<bool>" not in result.stdout, command
        assert "--json" in result.stdout or "--serve" in result.stdout or "--quiet" in result.stdout


def test_the_password_prompt_shows_no_empty_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRSWATCH_DATABASE_URL", raising=False)
    secret = "a-long-enough-password"
    result = runner.invoke(
        app, ["users", "create", "alice", "--role", "clinician"], input=f"{secret}\n{secret}\n"
    )
    assert result.exit_code == 0, result.output
    assert "Password: " in result.output and "[]" not in result.output
    assert f"in {tmp_path / 'crswatch.db'}" in result.stdout


def test_service_commands_find_the_demo_database_with_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRSWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRSWATCH_DATABASE_URL", raising=False)
    absent = runner.invoke(app, ["audit", "verify", "--demo"])
    assert absent.exit_code == 2 and "run crswatch demo first" in absent.stderr
    assert runner.invoke(app, ["demo", "--no-serve", "--patients", "2"]).exit_code == 0
    # Without --demo: the default database, which does not exist; it is not made on the spot
    # (an empty database would report an intact chain of 0 records), and the demo's is named.
    default = runner.invoke(app, ["audit", "verify"])
    assert default.exit_code == 2
    said = " ".join(default.stderr.split())
    assert f"{tmp_path / 'crswatch.db'} does not exist" in said
    assert f"the demo's database is {tmp_path / DEMO_DB}: add --demo" in said
    assert not (tmp_path / "crswatch.db").exists()
    verified = runner.invoke(app, ["audit", "verify", "--demo"])
    assert verified.exit_code == 0, verified.output
    said = " ".join(verified.stdout.split())
    assert "audit chain intact" in said and str(tmp_path / DEMO_DB) in said
    users = runner.invoke(app, ["users", "list", "--demo", "--json"])
    assert users.exit_code == 0, users.output
    assert {row["username"] for row in json.loads(users.stdout)} == {
        "clinician",
        "viewer",
    }


def test_every_grade_table_uses_the_one_notation_and_prints_its_legend() -> None:
    # At the first fever, CTCAE v4.03 cannot tell grade 1 from 3: its wording needs facts the
    # record does not hold.
    graded = runner.invoke(app, ["grade", str(EXAMPLE), "--at", "2024-03-03T02:00:00Z"])
    assert graded.exit_code == 0, graded.output
    assert "1–3 (ambiguous)" in graded.stdout
    assert "undecided: Fever >= 38.0 °C: grade 1 to 3" in graded.stdout
    assert GRADE_LEGEND[3] in graded.stdout.replace("\n        ", " ")
    for old in ("ambiguous [", "not_assessable [", "?"):
        assert old not in graded.stdout
    episodes = runner.invoke(app, ["episodes", str(EXAMPLE)])
    assert episodes.exit_code == 0, episodes.output
    assert "Grades: " + GRADE_LEGEND[0] in episodes.stdout
    trajectory = runner.invoke(app, ["trajectory", str(EXAMPLE), "--format", "csv"])
    header, *rows = trajectory.stdout.splitlines()
    assert header.split(",")[-1] == "shown"
    assert any(row.endswith(",1–3 (ambiguous)") for row in rows)


def test_the_deciding_criterion_names_what_is_not_documented(tmp_path: Path) -> None:
    # Only a fever: the liver and kidney labs of Lee 2014's grade 4 organ toxicity are missing.
    source = EXAMPLE.read_text(encoding="utf-8")
    document = json.loads(source)
    document["events"] = [
        e for e in document["events"] if e["item"] in ("temperature", "sbp", "spo2", "o2_device")
    ]
    path = tmp_path / "fever.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(app, ["grade", str(path), "--scale", "lee2014"])
    assert result.exit_code == 0, result.output
    assert "not documented:" in result.stdout


def test_help_keeps_square_brackets() -> None:
    result = runner.invoke(app, ["risk", "--help"])
    assert "Latest value in [reference - window, reference]" in " ".join(result.stdout.split())


def test_a_table_pair_written_as_out_parquet_is_a_folder_and_says_so(tmp_path: Path) -> None:
    help_text = " ".join(runner.invoke(app, ["convert", "--help"]).stdout.split())
    assert "-o out.parquet writes out/patients.parquet and out/events.parquet" in help_text
    result = runner.invoke(app, ["convert", str(EXAMPLE), "-o", str(tmp_path / "out.parquet")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out"
    assert sorted(p.name for p in folder.iterdir()) == ["events.parquet", "patients.parquet"]
    said = " ".join(result.stderr.split())
    tables = f"{folder / 'patients.parquet'} and {folder / 'events.parquet'}"
    assert f"to the folder {folder}/ ({tables})" in said
