"""``crswatch recommend`` and ``crswatch dose``: the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import write_path
from tests.management._golden import load_management_cases

runner = CliRunner()


def _case(case_id: str, tmp_path: Path) -> Path:
    case = next(c for c in load_management_cases() if c.id == case_id)
    return write_path([case.timeline], tmp_path / f"{case_id}.json")


def test_recommend_json_on_the_lee_case3_seed(tmp_path: Path) -> None:
    path = _case("C-lee2014-case3-lee2014", tmp_path)
    result = runner.invoke(
        app,
        ["recommend", str(path), "--at", "2024-01-06T15:00:00Z", "--ruleset", "lee2014", "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["schema"] == "crswatch.recommendation/1"
    assert payload["ruleset"]["id"] == "lee2014" and payload["grades"]["crs"]["grade"] == 3
    toci = next(a for a in payload["actions"] if a["id"] == "lee2014.tocilizumab.first_line")
    assert toci["dose"]["dose_mg"] == 280.0 and toci["source"]["reference"]
    assert all(action["source"]["reference"] for action in payload["actions"])


def test_recommend_default_rule_set_and_regimen_for_blinatumomab(tmp_path: Path) -> None:
    path = _case("M-blin-crs3-adult", tmp_path)
    result = runner.invoke(app, ["recommend", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ruleset"]["id"] == "blinatumomab_label"
    assert payload["ruleset_chosen_by"].startswith("default")
    assert "blinatumomab_label.grade3.interrupt" in [a["id"] for a in payload["actions"]]
    assert payload["regimen"] is None or "state" in payload["regimen"]


def test_recommend_table_and_unknown_rule_set(tmp_path: Path) -> None:
    path = _case("M-lee-g1-fever", tmp_path)
    table = runner.invoke(app, ["recommend", str(path), "--ruleset", "lee2014"])
    assert table.exit_code == 0 and "Lee 2014 CRS treatment algorithm" in table.stdout
    # Clinical language (issue 15): no rule ids, file names or section numbers in the table.
    for internal in ("lee2014.", "seed 003", ".txt", "§", "None"):
        assert internal not in table.stdout, internal
    assert "not assessable" in table.stdout  # the grade legend is printed under the table
    bad = runner.invoke(app, ["recommend", str(path), "--ruleset", "nccn"])
    assert bad.exit_code == 2 and "lee2014" in bad.output


def test_dose_json_boundaries() -> None:
    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, ["dose", "tocilizumab", *args, "--json"])
        payload: dict[str, object] = json.loads(result.stdout)
        # Issue 15, point 10: a refused dose exits 1, and the JSON is still printed.
        assert result.exit_code == (0 if payload["allowed"] else 1), result.output
        return payload

    at = "2024-01-02T08:00:00Z"
    small = run("--weight-kg", "29.9", "--at", at)
    # ACTEMRA label: 12 mg/kg x 29.9 kg = 358.8 mg, written in whole mg (issue 15, point 7).
    assert (small["dose_mg"], small["mg_per_kg"], small["allowed"]) == (359.0, 12.0, True)
    assert small["exact_mg"] == 358.8
    assert run("--weight-kg", "30", "--at", at)["dose_mg"] == 240.0
    assert run("--weight-kg", "120", "--at", at)["dose_mg"] == 800.0
    early = run("--weight-kg", "70", "--at", at, "--given-at", "2024-01-02T00:01:00Z")
    assert early["allowed"] is False
    assert isinstance(early["reasons"], list) and early["reasons"][0].startswith("min_interval_8h")
    given = [
        x
        for t in ("01T00", "01T09", "01T18", "02T03")
        for x in ("--given-at", f"2024-01-{t}:00:00Z")
    ]
    fifth = run("--weight-kg", "70", "--at", "2024-01-02T12:00:00Z", *given)
    assert fifth["allowed"] is False and "max_4_total" in str(fifth["reasons"])


def test_dose_rejects_a_bad_weight() -> None:
    result = runner.invoke(app, ["dose", "tocilizumab", "--weight-kg", "0", "--json"])
    assert result.exit_code == 2 and "weight_kg" in result.output


def test_dose_refused_exits_1_and_says_when() -> None:
    """ACTEMRA label, 'at least 8 hours' apart: a dose 4 h after the last is refused, the
    command exits 1 and names the time the next dose is allowed (issue 15, points 2 and 10)."""
    args = ["dose", "tocilizumab", "--weight-kg", "70", "--at", "2024-01-02T13:00:00Z"]
    result = runner.invoke(app, [*args, "--given-at", "2024-01-02T09:00:00Z"])
    assert result.exit_code == 1
    assert "next dose allowed from 2024-01-02 17:00 UTC, 560 mg" in result.stdout
    assert not result.stdout.lstrip().lower().startswith("now")
    allowed = runner.invoke(app, args)
    assert allowed.exit_code == 0 and "Tocilizumab 560 mg IV over 60 minutes, now" in allowed.stdout


def test_dose_vial_rounding_option() -> None:
    """Site rule (off by default): 71.6 kg -> 572.8 mg -> 560 mg in whole 80/200/400 mg vials."""
    args = ["dose", "tocilizumab", "--weight-kg", "71.6", "--at", "2024-01-02T13:00:00Z", "--json"]
    assert json.loads(runner.invoke(app, args).stdout)["dose_mg"] == 573.0
    rounded = json.loads(runner.invoke(app, [*args, "--vial-rounding"]).stdout)
    assert (rounded["dose_mg"], rounded["vial_rounding"]) == (560.0, True)
