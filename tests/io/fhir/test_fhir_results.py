"""Grades as FHIR Observations and HLH/MAS alerts as DetectedIssues (docs/decisions/0047)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.hlh import screen_timelines
from crswatch.io import write_path
from crswatch.io.fhir import ALERT_SYSTEM, GRADE_SYSTEM, read_bundle, results_to_bundle
from crswatch.io.fhir._results import _grade_observation, _Sources
from crswatch.scales import Evidence, GradeResult, grade_notation, grade_timelines
from crswatch.simulate import demo_ward
from crswatch.timeline import Event, Patient, Therapy, Timeline

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ward() -> list[Timeline]:
    return demo_ward(6, clock=CLOCK)


def _results(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != kind:
            continue
        system = resource["code"]["coding"][0]["system"]
        if system in (GRADE_SYSTEM, ALERT_SYSTEM):
            found.append(resource)
    return found


def test_bundle_validates_and_reads_back(ward: list[Timeline]) -> None:
    bundle = results_to_bundle(ward, scales=["astct2019", "icans.astct2019", "lee2014"])
    Bundle.model_validate(bundle)
    # The source data are still there, exactly: the results are additions.
    back = read_bundle(bundle)
    assert back.timelines == ward


def test_one_observation_per_scale_with_the_grade(ward: list[Timeline]) -> None:
    scales = ["astct2019", "icans.astct2019", "lee2014"]
    bundle = results_to_bundle(ward, scales=scales)
    observations = _results(bundle, "Observation")
    assert len(observations) == 3 * len(ward)
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    graded = grade_timelines(ward, scales=scales)
    for timeline, expected in zip(ward, graded, strict=True):
        patient_url = next(
            url
            for url, r in urls.items()
            if r["resourceType"] == "Patient" and r["identifier"][0]["value"] == timeline.patient.id
        )
        mine = [o for o in observations if o["subject"]["reference"] == patient_url]
        for syndrome, results in (("crs", expected.crs), ("icans", expected.icans)):
            for scale_id, result in results.items():
                (obs,) = [
                    o for o in mine if o["code"]["coding"][0]["code"] == f"{syndrome}.{scale_id}"
                ]
                assert obs.get("valueInteger") == result.grade
                assert obs["interpretation"][0]["text"] == grade_notation(
                    result.grade, result.status, *result.bounds
                )
                bounds = [c["valueInteger"] for c in obs["component"]]
                assert bounds == list(result.bounds)
                # derivedFrom and the evidence extension resolve to source resources.
                for ref in obs.get("derivedFrom", []):
                    assert urls[ref["reference"]]["resourceType"] == "Observation"
                for ext in obs.get("extension", []):
                    assert urls[ext["valueReference"]["reference"]]["resourceType"] in (
                        "MedicationAdministration",
                        "Procedure",
                    )
                if result.deciding is not None:
                    assert result.deciding.rule in obs["note"][0]["text"]
    # A grade decided by a measured finding points at it.
    assert any(o.get("derivedFrom") for o in observations)


def test_alerts_are_detected_issues(ward: list[Timeline]) -> None:
    bundle = results_to_bundle(ward)
    issues = _results(bundle, "DetectedIssue")
    met = [r for s in screen_timelines(ward) for r in s.results.values() if r.status == "met"]
    assert len(issues) == len(met) >= 1
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for issue in issues:
        assert issue["severity"] == "high"
        assert issue["patient"]["reference"] in urls
        assert issue["code"]["coding"][0]["code"].startswith("hlh.")
        for detail in issue.get("evidence", [{"detail": []}])[0]["detail"]:
            assert detail["reference"] in urls


def _result(status: str, grade: int | None, bounds: tuple[int, int]) -> GradeResult:
    evidence = Evidence(
        "astct2019.hypoxia_low_flow",
        2,
        None,
        "respiratory",
        True,
        "Hypoxia requiring low-flow nasal cannula",
        "Lee 2019 (ASTCT), CRS grading table",
        {},
        ("o2_flow@2026-03-01T11:00:00Z",),
    )
    return GradeResult(
        "astct2019",
        "2019",
        CLOCK,
        grade,
        status,
        bounds,  # type: ignore[arg-type]
        evidence=(evidence,),
        missing=("sbp",),
    )


@pytest.mark.parametrize(
    ("status", "grade", "bounds", "value", "fhir_status", "shown"),
    [
        ("graded", 2, (2, 2), 2, "final", "2"),
        ("provisional", 2, (2, 3), 2, "preliminary", "2 (provisional, ≤ 3)"),
        ("ambiguous", None, (2, 3), None, "final", "2–3 (ambiguous)"),
        ("not_assessable", None, (0, 4), None, "final", "0–4 (not assessable)"),
    ],
)
def test_the_four_statuses(
    status: str,
    grade: int | None,
    bounds: tuple[int, int],
    value: int | None,
    fhir_status: str,
    shown: str,
) -> None:
    timeline = Timeline(
        Patient("p1", Therapy("car_t", CLOCK - timedelta(days=2))),
        (Event(CLOCK - timedelta(hours=1), "o2_flow", 2.0, "L/min"),),
    )
    sources = _Sources(timeline, json.dumps(["p1"]), {})
    obs = _grade_observation(
        "crs", _result(status, grade, bounds), "urn:uuid:p", sources, "urn:uuid:r"
    )
    assert obs["status"] == fhir_status
    assert obs.get("valueInteger") == value
    assert obs["interpretation"][0]["coding"][0]["code"] == status
    assert obs["interpretation"][0]["text"] == shown
    if value is None:
        assert obs["dataAbsentReason"]["coding"][0]["code"] == "unknown"
    assert "Missing data: sbp." in [n["text"] for n in obs["note"]]
    Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:r", "resource": obs}],
        }
    )


def test_convert_results(tmp_path: Path, ward: list[Timeline]) -> None:
    source = tmp_path / "ward.json"
    write_path(ward[:2], source)
    output = tmp_path / "ward.fhir.json"
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(output), "--results"])
    assert result.exit_code == 0, result.output
    bundle = json.loads(output.read_text())
    Bundle.model_validate(bundle)
    expected = sum(len(g.crs) + len(g.icans) for g in grade_timelines(ward[:2]))
    assert len(_results(bundle, "Observation")) == expected
    refused = CliRunner().invoke(
        app, ["convert", str(source), "-o", str(tmp_path / "x.json"), "--results"]
    )
    assert refused.exit_code == 2
