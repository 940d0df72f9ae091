"""The optional patient field ``response`` (docs/decisions/0022): every reader, writer and frame."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B.bundle import Bundle

from crswatch.io import (
    iter_frames,
    read_bundle,
    read_json_document,
    read_path,
    read_table_frames,
    timelines_to_bundle,
    write_path,
    write_tables,
)
from crswatch.io._tabular import find_table_pairs
from crswatch.io.fhir._urls import EXT_RESPONSE
from crswatch.timeline import (
    PATIENT_FRAME_SCHEMA,
    RESPONSES,
    IngestIssue,
    ReadResult,
    Timeline,
    is_responder,
    response_codes,
    to_frames,
)
from tests.conftest import BASE_DOCUMENT


def _document(**patient: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"].update(patient)
    return document


def _read(document: Any) -> ReadResult:
    return read_json_document(document)


def _one(result: ReadResult) -> Timeline:
    assert result.report.ok, [issue.message for issue in result.report.issues]
    (timeline,) = result.timelines
    return timeline


# ------------------------------------------------------------------------------ vocabulary


def test_the_vocabulary_is_the_documented_one_and_every_code_names_its_source() -> None:
    assert RESPONSES == (
        "CR",
        "CRh",
        "CRi",
        "MRD_negative",
        "PR",
        "SD",
        "PD",
        "NR",
        "not_evaluable",
    )
    for code in response_codes().values():
        assert code.meaning and code.source
        assert "Seed" in code.source or "et al." in code.source or "usage" in code.source


def test_responders_are_seed_004s_strata_and_not_evaluable_is_neither() -> None:
    assert [code for code in RESPONSES if is_responder(code)] == [
        "CR",
        "CRh",
        "CRi",
        "MRD_negative",
    ]
    assert [code for code in RESPONSES if is_responder(code) is False] == ["PR", "SD", "PD", "NR"]
    assert is_responder("not_evaluable") is None
    assert is_responder(None) is None


# ------------------------------------------------------------------------------ JSON reader


@pytest.mark.parametrize("code", RESPONSES)
def test_every_code_is_accepted_and_reaches_the_frame(code: str) -> None:
    timeline = _one(_read(_document(response=code, response_date="2024-03-29")))
    assert timeline.patient.response == code
    assert timeline.patient.response_date == date(2024, 3, 29)
    assert timeline.to_dict()["patient"]["response"] == code
    patients, _ = to_frames([timeline])
    assert patients.schema["response"] == pl.String
    assert patients.schema["response_date"] == pl.Date
    assert patients.row(0, named=True)["response"] == code
    assert patients.row(0, named=True)["response_date"] == date(2024, 3, 29)


def test_absent_response_is_null_and_the_document_is_unchanged() -> None:
    timeline = _one(_read(copy.deepcopy(BASE_DOCUMENT)))
    assert timeline.patient.response is None and timeline.patient.response_date is None
    assert "response" not in timeline.to_dict()["patient"]
    assert "response_date" not in timeline.to_dict()["patient"]
    patients, _ = to_frames([timeline])
    assert dict(patients.schema) == PATIENT_FRAME_SCHEMA
    assert patients["response"].to_list() == [None]
    assert patients["response_date"].to_list() == [None]


def test_a_response_without_a_date_is_kept_without_one() -> None:
    timeline = _one(_read(_document(response="PR")))
    assert (timeline.patient.response, timeline.patient.response_date) == ("PR", None)
    assert "response_date" not in timeline.to_dict()["patient"]


def _only_issue(result: ReadResult) -> IngestIssue:
    assert result.timelines == []
    assert result.report.patients_rejected == 1
    (issue,) = result.report.issues
    return issue


@pytest.mark.parametrize(
    ("fields", "field", "value", "reason"),
    [
        ({"response": "CRH"}, "response", "CRH", "must be one of CR, CRh, CRi"),
        ({"response": "complete remission"}, "response", "complete remission", "must be one"),
        ({"response": 1}, "response", 1, "must be one of"),
        ({"response": "CR", "response_date": "2024-02-30"}, "response_date", "2024-02-30", "YYYY"),
        ({"response_date": "2024-03-29"}, "response_date", "2024-03-29", "without response"),
    ],
)
def test_a_bad_response_is_rejected_naming_patient_field_and_value(
    fields: dict[str, Any], field: str, value: Any, reason: str
) -> None:
    issue = _only_issue(_read(_document(**fields)))
    assert (issue.kind, issue.patient_id, issue.field, issue.value) == (
        "bad_patient",
        "P-001",
        field,
        value,
    )
    assert reason in issue.reason
    assert "P-001" in issue.message and field in issue.message and repr(value) in issue.message


# ------------------------------------------------------------------------------ tables


def _written(tmp_path: Path, suffix: str, document: dict[str, Any]) -> Path:
    """The document as a table pair (through the writer), returning the directory."""
    timeline = _one(_read(_document(response="CR", response_date="2024-03-29")))
    directory = tmp_path / suffix.strip(".")
    pair = write_tables([timeline], directory, suffix=suffix)
    # Overwrite the patient row with the document's patient fields, as a site's export would.
    if suffix == ".csv":
        rows = pair.patients.read_text().splitlines()
        header = rows[0].split(",")
        cells = dict(zip(header, rows[1].split(","), strict=True))
        for key in ("response", "response_date"):
            cells[key] = str(document["patient"].get(key) or "")
        pair.patients.write_text(",".join(header) + "\n" + ",".join(cells.values()) + "\n")
    else:
        table = pq.read_table(pair.patients)
        for key in ("response", "response_date"):
            column = pa.array([document["patient"].get(key)], pa.string())
            table = table.set_column(table.schema.get_field_index(key), key, column)
        pq.write_table(table, pair.patients)
    return directory


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("code", ["CR", "CRi", "MRD_negative", "not_evaluable"])
def test_table_readers_accept_every_code_row_wise_and_column_wise(
    tmp_path: Path, suffix: str, code: str
) -> None:
    directory = _written(tmp_path, suffix, _document(response=code, response_date="2024-04-02"))
    timeline = _one(read_path(directory))
    assert (timeline.patient.response, timeline.patient.response_date) == (code, date(2024, 4, 2))
    (pair,) = find_table_pairs(directory)
    frames = read_table_frames(pair)
    assert frames.report.ok
    assert frames.patients.select("response", "response_date").row(0) == (code, date(2024, 4, 2))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        ({"response": "CRH"}, "response", "CRH"),
        ({"response": "CR", "response_date": "2024-13-01"}, "response_date", "2024-13-01"),
        ({"response_date": "2024-03-29"}, "response_date", "2024-03-29"),
    ],
)
def test_table_readers_reject_a_bad_response_as_the_json_reader_does(
    tmp_path: Path, suffix: str, fields: dict[str, Any], field: str, value: str
) -> None:
    directory = _written(tmp_path, suffix, _document(**fields))
    row_wise = _only_issue(read_path(directory))
    (pair,) = find_table_pairs(directory)
    column_wise = read_table_frames(pair)
    assert column_wise.patients.height == 0
    assert column_wise.report.issues == [row_wise]
    assert (row_wise.patient_id, row_wise.field, row_wise.value) == ("P-001", field, value)
    assert row_wise.reason == _only_issue(_read(_document(**fields))).reason


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_without_the_response_columns_still_read_with_null_response(
    tmp_path: Path, suffix: str
) -> None:
    """A table written before the extension (no response columns) reads as before."""
    timeline = _one(_read(copy.deepcopy(BASE_DOCUMENT)))
    pair = write_tables([timeline], tmp_path, suffix=suffix)
    if suffix == ".csv":
        frame = pl.read_csv(pair.patients, infer_schema=False)
        frame.drop("response", "response_date").write_csv(pair.patients)
    else:
        table = pq.read_table(pair.patients)
        pq.write_table(table.drop_columns(["response", "response_date"]), pair.patients)
    assert _one(read_path(tmp_path)) == timeline
    frames = read_table_frames(pair)
    assert frames.report.ok
    assert dict(frames.patients.schema) == PATIENT_FRAME_SCHEMA
    assert frames.patients["response"].to_list() == [None]


def test_a_typed_date_column_reads_too(tmp_path: Path) -> None:
    directory = _written(tmp_path, ".parquet", _document(response="CRh"))
    (pair,) = find_table_pairs(directory)
    table = pq.read_table(pair.patients)
    index = table.schema.get_field_index("response_date")
    table = table.set_column(index, "response_date", pa.array([date(2024, 4, 1)], pa.date32()))
    pq.write_table(table, pair.patients)
    assert _one(read_path(directory)).patient.response_date == date(2024, 4, 1)
    assert read_table_frames(pair).patients["response_date"].to_list() == [date(2024, 4, 1)]


# ------------------------------------------------------------------------------ FHIR


def test_fhir_carries_the_response_in_a_patient_extension() -> None:
    timeline = _one(_read(_document(response="MRD_negative", response_date="2024-03-29")))
    bundle = timelines_to_bundle([timeline])
    patient = bundle["entry"][0]["resource"]
    (extension,) = [ext for ext in patient["extension"] if ext["url"] == EXT_RESPONSE]
    assert extension["extension"] == [
        {"url": "best", "valueCode": "MRD_negative"},
        {"url": "assessed", "valueDate": "2024-03-29"},
    ]
    Bundle.model_validate(bundle)  # R4B is R4 for Patient and its extensions
    assert _one(read_bundle(bundle)) == timeline


def test_fhir_without_a_response_has_no_extension_and_a_bad_code_is_rejected() -> None:
    timeline = _one(_read(copy.deepcopy(BASE_DOCUMENT)))
    bundle = timelines_to_bundle([timeline])
    patient = bundle["entry"][0]["resource"]
    assert EXT_RESPONSE not in [ext["url"] for ext in patient["extension"]]
    patient["extension"].append(
        {"url": EXT_RESPONSE, "extension": [{"url": "best", "valueCode": "remission"}]}
    )
    issue = _only_issue(read_bundle(bundle))
    assert (issue.patient_id, issue.field, issue.value) == ("P-001", "response", "remission")


# ------------------------------------------------------------------------------ round trip


def test_round_trip_json_tables_parquet_sharded_json_fhir(tmp_path: Path) -> None:
    documents = [
        _document(id="A", response="CR", response_date="2024-03-29"),
        _document(id="B", response="not_evaluable"),
        _document(id="C"),
        _document(id="D", response="PD", response_date="2024-05-01"),
    ]
    original = read_json_document(documents)
    assert original.report.ok
    csv_dir = write_path(original.timelines, tmp_path / "tables", to="csv")
    from_csv = read_path(csv_dir)
    parquet_dir = write_path(from_csv.timelines, tmp_path / "parquet", to="parquet")
    from_parquet = read_path(parquet_dir)
    # Sharded: two shards of the same layout, read shard by shard.
    shards = tmp_path / "sharded"
    for number, part in enumerate((from_parquet.timelines[:2], from_parquet.timelines[2:])):
        pair = write_tables(part, tmp_path / f"shard-{number}", suffix=".parquet")
        for name, path in (("patients", pair.patients), ("events", pair.events)):
            (shards / name).mkdir(parents=True, exist_ok=True)
            path.rename(shards / name / f"part-{number:05d}.parquet")
    from_shards = read_path(shards)
    json_path = write_path(from_shards.timelines, tmp_path / "back.json")
    from_json = read_path(json_path)
    from_fhir = read_bundle(timelines_to_bundle(from_json.timelines))
    for result in (from_csv, from_parquet, from_shards, from_json, from_fhir):
        assert result.report.ok
        assert result.timelines == original.timelines
    back = json.loads(json_path.read_text())
    assert [doc["patient"].get("response") for doc in back] == ["CR", "not_evaluable", None, "PD"]
    frames = pl.concat([part.patients for part in iter_frames(shards)])
    assert frames.select("patient_id", "response", "response_date").rows() == [
        ("A", "CR", date(2024, 3, 29)),
        ("B", "not_evaluable", None),
        ("C", None, None),
        ("D", "PD", date(2024, 5, 1)),
    ]
