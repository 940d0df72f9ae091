"""The table form of a timeline: a ``patients`` table and an ``events`` table (CSV or Parquet).

Layout (``shared/spec/timeline.md`` §1): ``patients`` has one row per patient with the patient
fields and ``therapy_kind``, ``therapy_product``, ``therapy_start`` flattened; ``events`` has one
row per event with a ``patient_id`` column.  The ``value`` column is text in both CSV and Parquet
(it holds numbers, codes and booleans alike); times are ISO 8601 with ``Z`` in CSV and UTC
timestamps in Parquet.  Large cohorts are *sharded by patient*: ``patients/part-NNNNN.parquet``
and ``events/part-NNNNN.parquet`` with the same name hold the same patients, and an optional
``shard`` column says which shard a row belongs to.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crswatch.errors import TimelineFormatError
from crswatch.timeline import (
    IngestIssue,
    IngestReport,
    ReadResult,
    Timeline,
    TimeWindow,
    build_timeline,
    format_time,
)

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "PATIENT_COLUMNS",
    "PATIENT_SCHEMA",
    "TablePair",
    "find_table_pairs",
    "iter_table_results",
    "read_table_pair",
    "timelines_to_tables",
    "write_tables",
]

PATIENT_COLUMNS = (
    "id",
    "age_years",
    "birth_date",
    "weight_kg",
    "height_cm",
    "bsa_m2",
    "sex",
    "high_risk",
    "therapy_kind",
    "therapy_product",
    "therapy_start",
    # Optional, after the contract's own columns (docs/decisions/0022-response-field.md).
    "response",
    "response_date",
)
EVENT_COLUMNS = (
    "patient_id",
    "time",
    "item",
    "value",
    "unit",
    "end",
    "ref_low",
    "ref_high",
    "censored",
    "cause",
    "id",
    "source",
)
_TIMESTAMP = pa.timestamp("us", tz="UTC")
PATIENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("age_years", pa.float64()),
        ("birth_date", pa.string()),
        ("weight_kg", pa.float64()),
        ("height_cm", pa.float64()),
        ("bsa_m2", pa.float64()),
        ("sex", pa.string()),
        ("high_risk", pa.bool_()),
        ("therapy_kind", pa.string()),
        ("therapy_product", pa.string()),
        ("therapy_start", _TIMESTAMP),
        ("response", pa.string()),
        ("response_date", pa.string()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("time", _TIMESTAMP),
        ("item", pa.string()),
        ("value", pa.string()),
        ("unit", pa.string()),
        ("end", _TIMESTAMP),
        ("ref_low", pa.float64()),
        ("ref_high", pa.float64()),
        ("censored", pa.string()),
        ("cause", pa.string()),
        ("id", pa.string()),
        ("source", pa.string()),
    ]
)
_SUFFIXES = (".csv", ".parquet")


@dataclass(frozen=True, slots=True)
class TablePair:
    """The two files of one table-form timeline set (or of one shard of it)."""

    patients: Path
    events: Path


# ------------------------------------------------------------------------------------ finding


def _sibling(path: Path, this: str, other: str) -> Path:
    return path.with_name(path.name.replace(this, other))


def find_table_pairs(path: Path) -> list[TablePair]:
    """The table pairs at ``path``: a directory, a sharded directory, or one file of a pair."""
    if path.is_dir():
        for suffix in _SUFFIXES:
            patients, events = path / f"patients{suffix}", path / f"events{suffix}"
            if patients.is_file() and events.is_file():
                return [TablePair(patients, events)]
        if (path / "patients").is_dir() and (path / "events").is_dir():
            return _shard_pairs(path)
        raise TimelineFormatError(
            "a table timeline directory needs patients.csv and events.csv "
            "(or .parquet), or patients/ and events/ shard folders",
            path=str(path),
        )
    if path.suffix not in _SUFFIXES:
        raise TimelineFormatError("not a .csv or .parquet table", path=str(path))
    if "patients" in path.name:
        pair = TablePair(path, _sibling(path, "patients", "events"))
    elif "events" in path.name:
        pair = TablePair(_sibling(path, "events", "patients"), path)
    else:
        raise TimelineFormatError(
            "a table file's name must contain 'patients' or 'events' so its pair can be found",
            path=str(path),
        )
    for member in (pair.patients, pair.events):
        if not member.is_file():
            raise TimelineFormatError("the other table of the pair is missing", path=str(member))
    return [pair]


def _shard_pairs(root: Path) -> list[TablePair]:
    pairs = []
    for patients in sorted((root / "patients").glob("*")):
        if patients.suffix not in _SUFFIXES:
            continue
        events = root / "events" / patients.name
        if not events.is_file():
            raise TimelineFormatError("shard has no events file", path=str(events))
        pairs.append(TablePair(patients, events))
    if not pairs:
        raise TimelineFormatError("no shards found", path=str(root / "patients"))
    return pairs


# ------------------------------------------------------------------------------------ reading


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV or Parquet table as dicts."""
    if path.suffix == ".csv":
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        except UnicodeDecodeError as exc:
            raise TimelineFormatError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TimelineFormatError(f"not a readable Parquet file ({exc})", path=str(path)) from None
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _require_columns(rows: list[dict[str, Any]], required: Sequence[str], path: Path) -> None:
    if rows and (missing := [name for name in required if name not in rows[0]]):
        raise TimelineFormatError(f"missing column(s) {missing}", path=str(path))


def _patient_record(row: Mapping[str, Any]) -> dict[str, Any]:
    record = {
        key: row.get(key)
        for key in PATIENT_COLUMNS
        if not key.startswith("therapy_") and row.get(key) not in (None, "")
    }
    if record.get("id") is not None and not isinstance(record["id"], str):
        record["id"] = str(record["id"])
    record["therapy"] = {
        "kind": row.get("therapy_kind"),
        "product": row.get("therapy_product"),
        "start": row.get("therapy_start"),
    }
    return record


def _event_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in ("patient_id", "shard")}


def read_table_pair(pair: TablePair, *, window: TimeWindow | None = None) -> ReadResult:
    """Read one pair of tables; events are grouped by ``patient_id`` and keep their row numbers.

    ``window`` is the contract's plausible time window (default :class:`TimeWindow`).
    """
    report = IngestReport(source=str(pair.events.parent))
    patient_rows = _read_rows(pair.patients)
    event_rows = _read_rows(pair.events)
    _require_columns(patient_rows, ("id", "therapy_kind", "therapy_start"), pair.patients)
    _require_columns(event_rows, ("patient_id", "time", "item", "value"), pair.events)

    by_patient: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for row_number, row in enumerate(event_rows):
        by_patient[str(row.get("patient_id"))].append((row_number, _event_record(row)))

    timelines: list[Timeline] = []
    seen: set[str] = set()
    for row in patient_rows:
        record = _patient_record(row)
        patient_id = record.get("id")
        if isinstance(patient_id, str) and patient_id in seen:
            report.patients_read += 1
            report.patients_rejected += 1
            report.issues.append(
                IngestIssue("bad_patient", patient_id, "id", patient_id, "duplicate patient row")
            )
            continue
        events = by_patient.pop(str(patient_id), [])
        timeline = build_timeline(
            record,
            [event for _, event in events],
            report,
            # The value column is text by contract (it mixes numbers, codes and booleans).
            from_text=True,
            positions=[position for position, _ in events],
            window=window,
        )
        if isinstance(patient_id, str):
            seen.add(patient_id)
        if timeline is not None:
            timelines.append(timeline)
    for orphan, events in by_patient.items():
        report.events_read += len(events)
        report.events_rejected += len(events)
        report.issues.append(
            IngestIssue(
                "bad_patient",
                orphan,
                "patient_id",
                orphan,
                f"{len(events)} event row(s) name a patient with no row in {pair.patients.name}",
                event_index=events[0][0],
            )
        )
    return ReadResult(timelines, report)


# ------------------------------------------------------------------------------------ writing


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def timelines_to_tables(timelines: Iterable[Timeline]) -> tuple[pa.Table, pa.Table]:
    """The patients and events tables (Arrow) of some timelines, in canonical units."""
    patients: dict[str, list[Any]] = {name: [] for name in PATIENT_COLUMNS}
    events: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for timeline in timelines:
        patient = timeline.patient
        patients["id"].append(patient.id)
        patients["age_years"].append(patient.age_years)
        patients["birth_date"].append(
            patient.birth_date.isoformat() if patient.birth_date else None
        )
        patients["weight_kg"].append(patient.weight_kg)
        patients["height_cm"].append(patient.height_cm)
        patients["bsa_m2"].append(patient.bsa_m2_given)
        patients["sex"].append(patient.sex)
        patients["high_risk"].append(patient.high_risk)
        patients["therapy_kind"].append(patient.therapy.kind)
        patients["therapy_product"].append(patient.therapy.product)
        patients["therapy_start"].append(patient.therapy.start)
        patients["response"].append(patient.response)
        patients["response_date"].append(
            patient.response_date.isoformat() if patient.response_date else None
        )
        for event in timeline.events:
            events["patient_id"].append(patient.id)
            events["time"].append(event.time)
            events["item"].append(event.item)
            events["value"].append(_text_value(event.value))
            events["unit"].append(event.unit)
            events["end"].append(event.end)
            events["ref_low"].append(event.ref_low)
            events["ref_high"].append(event.ref_high)
            events["censored"].append(event.censored)
            events["cause"].append(event.cause)
            events["id"].append(event.id)
            events["source"].append(event.source)
    return (
        pa.Table.from_pydict(patients, schema=PATIENT_SCHEMA),
        pa.Table.from_pydict(events, schema=EVENT_SCHEMA),
    )


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write_csv(table: pa.Table, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(table.column_names)
        columns = [table.column(name).to_pylist() for name in table.column_names]
        for row in zip(*columns, strict=True):
            writer.writerow([_csv_cell(cell) for cell in row])


def write_tables(timelines: Iterable[Timeline], directory: Path, *, suffix: str) -> TablePair:
    """Write ``patients`` and ``events`` tables (``.csv`` or ``.parquet``) into ``directory``."""
    if suffix not in _SUFFIXES:
        raise ValueError(f"suffix={suffix!r} must be one of {_SUFFIXES}")
    directory.mkdir(parents=True, exist_ok=True)
    patients, events = timelines_to_tables(timelines)
    pair = TablePair(directory / f"patients{suffix}", directory / f"events{suffix}")
    if suffix == ".csv":
        _write_csv(patients, pair.patients)
        _write_csv(events, pair.events)
    else:
        pq.write_table(patients, pair.patients)
        pq.write_table(events, pair.events)
    return pair


def iter_table_results(path: Path) -> Iterator[ReadResult]:
    """Read a table timeline set pair by pair (shard by shard), holding one shard at a time."""
    for pair in find_table_pairs(path):
        yield read_table_pair(pair)
