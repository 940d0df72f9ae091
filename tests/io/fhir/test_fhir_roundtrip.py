"""timeline -> FHIR R4 Bundle -> timeline is lossless for the whole vocabulary."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.io import read_json_document, read_path, write_path
from crswatch.io.fhir import read_bundle, timelines_to_bundle
from crswatch.timeline import ItemSpec, Timeline, vocabulary
from tests.io.fhir.conftest import FULL_PATIENT, full_timeline, full_vocabulary_events

EVENTS = full_vocabulary_events()


def _round_trip(timelines: list[Timeline]) -> list[Timeline]:
    result = read_bundle(timelines_to_bundle(timelines), "round-trip")
    assert result.report.ok, [issue.message for issue in result.report.issues]
    assert result.report.warnings == []
    return result.timelines


def test_the_fixture_uses_every_item_value_and_field(full: Timeline) -> None:
    assert {event.item for event in full.events} == set(vocabulary())
    for spec in vocabulary().values():
        if spec.kind == "code":
            assert {e.value for e in full.of(spec.name)} == set(spec.values), spec.name
    for field in ("end", "ref_low", "ref_high", "censored", "cause", "id", "source"):
        assert any(getattr(event, field) is not None for event in full.events), field
    assert {event.censored for event in full.events} >= {"below_lod", "above_uloq"}


def test_every_item_round_trips(full: Timeline) -> None:
    assert _round_trip([full]) == [full]


def test_round_trip_keeps_the_patient_fields(full: Timeline) -> None:
    (back,) = _round_trip([full])
    assert back.patient == full.patient
    assert back.patient.to_dict() == full.patient.to_dict()
    assert full.patient.to_dict()["bsa_m2"] == FULL_PATIENT["bsa_m2"]


def test_several_patients_and_a_repeated_id_round_trip(full: Timeline) -> None:
    minimal = full_timeline(events=[])
    renamed = Timeline(patient=dataclasses.replace(full.patient, id="P-2"), events=full.events)
    timelines = [full, renamed, minimal]
    result = read_bundle(timelines_to_bundle(timelines))
    assert result.timelines == timelines
    assert any("appears more than once" in warning for warning in result.report.warnings)


def test_writing_is_deterministic_and_idempotent(full: Timeline) -> None:
    first = timelines_to_bundle([full])
    assert timelines_to_bundle([full]) == first
    assert timelines_to_bundle(_round_trip([full])) == first


def test_round_trip_through_files(tmp_path: Path, full: Timeline) -> None:
    bundle_path = write_path([full], tmp_path / "out.fhir.json")
    assert json.loads(bundle_path.read_text())["resourceType"] == "Bundle"
    assert read_path(bundle_path).timelines == [full]
    json_path = write_path(read_path(bundle_path).timelines, tmp_path / "back.json")
    assert read_path(json_path).timelines == [full]


def test_crswatch_convert_json_to_fhir_and_back(tmp_path: Path, full: Timeline) -> None:
    source = write_path([full], tmp_path / "in.json")
    runner = CliRunner()
    to_fhir = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "b.fhir.json")])
    assert to_fhir.exit_code == 0, to_fhir.output
    back = runner.invoke(
        app, ["convert", str(tmp_path / "b.fhir.json"), "-o", str(tmp_path / "c.json")]
    )
    assert back.exit_code == 0, back.output
    assert read_path(tmp_path / "c.json").timelines == [full]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(range(len(EVENTS))), max_size=40))
def test_any_subset_of_events_round_trips(chosen: set[int]) -> None:
    timeline = full_timeline([EVENTS[index] for index in sorted(chosen)])
    assert _round_trip([timeline]) == [timeline]


_QUANTITIES = [spec for spec in vocabulary().values() if spec.kind == "quantity"]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(_QUANTITIES).flatmap(
        lambda spec: st.tuples(
            st.just(spec),
            st.floats(spec.low or 0.0, spec.high or 1e6, allow_nan=False, allow_infinity=False),
            st.sampled_from(spec.units),
        )
    )
)
def test_any_value_of_any_quantity_round_trips(case: tuple[ItemSpec, float, str]) -> None:
    spec, value, unit = case
    event = {"time": "2024-03-02T08:00:00Z", "item": spec.name, "value": value, "unit": unit}
    timeline = full_timeline([event])
    assert _round_trip([timeline]) == [timeline]


def test_a_patient_with_only_the_required_fields_round_trips() -> None:
    document = {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": "P-min",
            "therapy": {"kind": "blinatumomab", "start": "2024-03-01T10:00:00Z"},
        },
        "events": [
            {"time": "2024-03-01T10:00:00Z", "item": "blinatumomab", "value": 9, "unit": "ug/d"}
        ],
    }
    (timeline,) = read_json_document(document).timelines
    assert _round_trip([timeline]) == [timeline]
    assert timeline.patient.to_dict() == document["patient"]
