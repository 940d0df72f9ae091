"""Small timeline builders for engine, property and conformance tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crswatch.io import read_json_document
from crswatch.timeline import Timeline, format_time

START = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def ev(
    hours: float, item: str, value: Any, unit: str | None = None, **extra: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {"time": format_time(at(hours)), "item": item, "value": value}
    if unit is not None:
        event["unit"] = unit
    if "end_hours" in extra:
        extra["end"] = format_time(at(extra.pop("end_hours")))
    event.update(extra)
    return event


def timeline(events: list[dict[str, Any]], patient_id: str = "P", **patient: Any) -> Timeline:
    record: dict[str, Any] = {
        "id": patient_id,
        "age_years": 50,
        "weight_kg": 70.0,
        "height_cm": 170,
        "therapy": {"kind": "car_t", "start": format_time(START)},
    }
    record.update(patient)
    result = read_json_document(
        {"format": "crswatch.timeline/1", "patient": record, "events": events}, "builder"
    )
    assert result.report.ok, [issue.message for issue in result.report.issues]
    return result.timelines[0]
