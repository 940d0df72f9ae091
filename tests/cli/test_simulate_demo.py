"""``crswatch simulate`` from the outside (``crswatch demo``: tests/cli/test_demo.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.cli._simulate import parse_duration

runner = CliRunner()


def test_simulate_json_is_deterministic_and_valid(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for path in (first, second):
        result = runner.invoke(app, ["simulate", "--patients", "6", "--seed", "3", "-o", str(path)])
        assert result.exit_code == 0, result.output
    assert first.read_bytes() == second.read_bytes()
    assert len(json.loads(first.read_text())) == 6
    validated = runner.invoke(app, ["validate", str(first), "--json"])
    assert validated.exit_code == 0 and json.loads(validated.stdout)["events_rejected"] == 0


def test_simulate_parquet_shards_validate(tmp_path: Path) -> None:
    out = tmp_path / "cohort"
    result = runner.invoke(
        app,
        [
            "simulate",
            "--patients",
            "9",
            "--seed",
            "5",
            "--therapy",
            "blinatumomab",
            "--shard-size",
            "4",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list((out / "events").glob("*.parquet"))) == 3
    report = json.loads(runner.invoke(app, ["validate", str(out), "--json"]).stdout)
    assert (report["patients_read"], report["events_rejected"]) == (9, 0)


def test_simulate_rejects_unknown_therapy_and_bad_interval(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["simulate", "--therapy", "chemo", "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 2 and "chemo" in bad.stderr
    interval = runner.invoke(
        app, ["simulate", "--vitals-every", "often", "-o", str(tmp_path / "x.json")]
    )
    assert interval.exit_code == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("4h", 14400), ("30m", 1800), ("1d", 86400), ("1.5h", 5400)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds
