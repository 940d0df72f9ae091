"""JSON, CSV and Parquet forms hold the same timeline: write one, read it back, compare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crswatch.errors import TimelineFormatError
from crswatch.io import find_table_pairs, read_json_document, read_path, write_path
from crswatch.timeline import Timeline
from tests.conftest import BASE_DOCUMENT

RICH_EVENTS: list[dict[str, Any]] = [
    {
        "time": "2024-03-02T06:00:00Z",
        "item": "crp",
        "value": 12.5,
        "unit": "mg/dL",
        "ref_low": 0,
        "ref_high": 0.5,
        "id": "lab-1",
        "source": "LIS",
    },
    {
        "time": "2024-03-02T06:00:00Z",
        "item": "il6",
        "value": 1.5,
        "unit": "pg/mL",
        "censored": "below_lod",
    },
    {
        "time": "2024-03-02T07:00:00+02:00",
        "item": "temperature",
        "value": 39.1,
        "unit": "Cel",
        "cause": "other",
    },
    {
        "time": "2024-03-02T12:00:00Z",
        "end": "2024-03-02T18:00:00Z",
        "item": "vasopressin",
        "value": 0.03,
        "unit": "U/min",
    },
    {"time": "2024-03-02T12:00:00Z", "item": "ice_score", "value": 7},
    {"time": "2024-03-02T13:00:00Z", "item": "ice_naming", "value": "not_assessed"},
    {"time": "2024-03-02T12:00:00Z", "item": "splenomegaly", "value": True},
    {"time": "2024-03-02T12:00:00Z", "item": "consciousness", "value": "awakens_to_voice"},
    {"time": "2024-03-01T10:00:00Z", "item": "car_t_infusion", "value": 5e8, "unit": "{cells}"},
    {"time": "2024-03-02T06:00:00Z", "item": "d_dimer", "value": 2.0, "unit": "ug/mL{DDU}"},
    {"time": "2024-03-02T06:00:00Z", "item": "il2r", "value": 2500, "unit": "U/mL"},
]


def _rich_timeline() -> Timeline:
    document = json.loads(json.dumps(BASE_DOCUMENT))
    document["events"].extend(RICH_EVENTS)
    result = read_json_document(document, "rich.json")
    assert result.report.ok, [issue.message for issue in result.report.issues]
    return result.timelines[0]


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_round_trip_is_lossless(tmp_path: Path, fmt: str) -> None:
    original = _rich_timeline()
    written = write_path([original], tmp_path / f"out.{fmt}", to=fmt)
    result = read_path(written)
    assert result.report.ok, [issue.message for issue in result.report.issues]
    assert result.timelines == [original]


def test_two_patients_in_tables_are_grouped_by_patient_id(tmp_path: Path) -> None:
    first = _rich_timeline()
    document = json.loads(json.dumps(BASE_DOCUMENT))
    document["patient"]["id"] = "P-002"
    second = read_json_document(document, "x").timelines[0]
    directory = write_path([first, second], tmp_path / "pair", to="csv")
    result = read_path(directory / "patients.csv")  # either file of the pair finds the other
    assert [t.patient.id for t in result.timelines] == ["P-001", "P-002"]
    assert result.timelines == [first, second]


def test_csv_issue_names_the_row_of_the_events_table(tmp_path: Path) -> None:
    directory = write_path([_rich_timeline()], tmp_path / "pair", to="csv")
    events = (directory / "events.csv").read_text().splitlines()
    events[3] = events[3].replace("Z,", ",", 1)  # drop the offset of the third event's time
    (directory / "events.csv").write_text("\n".join(events) + "\n")
    result = read_path(directory)
    (issue,) = result.report.issues
    assert (issue.kind, issue.field, issue.event_index) == ("bad_time", "time", 2)


def test_events_of_a_patient_without_a_row_are_reported(tmp_path: Path) -> None:
    directory = write_path([_rich_timeline()], tmp_path / "pair", to="csv")
    with (directory / "events.csv").open("a") as handle:
        handle.write("P-404,2024-03-02T06:00:00Z,crp,12,mg/L,,,,,,,\n")
    result = read_path(directory)
    (issue,) = result.report.issues
    assert (issue.patient_id, issue.field) == ("P-404", "patient_id")
    assert result.report.events_rejected == 1


def test_sharded_tables_are_read_shard_by_shard(tmp_path: Path) -> None:
    timeline = _rich_timeline()
    for shard in ("part-00000", "part-00001"):
        write_path([timeline], tmp_path / "tmp" / shard, to="parquet")
    for table in ("patients", "events"):
        (tmp_path / "cohort" / table).mkdir(parents=True)
        for shard in ("part-00000", "part-00001"):
            (tmp_path / "tmp" / shard / f"{table}.parquet").rename(
                tmp_path / "cohort" / table / f"{shard}.parquet"
            )
    assert len(find_table_pairs(tmp_path / "cohort")) == 2
    assert len(read_path(tmp_path / "cohort").timelines) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "crswatch.timeline/2", "patient": {}}', "is not 'crswatch.timeline/1'"),
        ('{"format": "crswatch.timeline/1"}', "needs a 'patient'"),
        ('"a string"', "must be a JSON object"),
    ],
)
def test_documents_that_are_not_timelines_raise_format_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(content)
    with pytest.raises(TimelineFormatError, match=message) as caught:
        read_path(path)
    assert str(path) in str(caught.value)


def test_missing_path_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(TimelineFormatError, match="no such file"):
        read_path(tmp_path / "absent.json")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(range(len(BASE_DOCUMENT["events"]) + len(RICH_EVENTS))))
def test_event_order_in_the_input_does_not_matter(order: list[int]) -> None:
    document = json.loads(json.dumps(BASE_DOCUMENT))
    events = document["events"] + RICH_EVENTS
    document["events"] = [events[i] for i in order]
    assert read_json_document(document, "x").timelines[0] == _rich_timeline()
