"""Timelines as Polars frames: the long, patient-sorted table the vectorized engines work on.

The state engine runs the same Polars expressions over one patient or a shard of many
(``shared/design/ARCHITECTURE.md``: one engine), so it needs timelines as a table sorted by
patient and time, with the value split by type: ``value_num`` for quantities and scores,
``value_code`` for codes (and ``not_assessed``), ``value_bool`` for booleans.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from crswatch.timeline._model import Timeline

__all__ = ["EVENT_FRAME_SCHEMA", "PATIENT_FRAME_SCHEMA", "to_frames"]

_UTC = pl.Datetime("us", "UTC")
EVENT_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "time": _UTC,
    "item": pl.String(),
    "value_num": pl.Float64(),
    "value_code": pl.String(),
    "value_bool": pl.Boolean(),
    "unit": pl.String(),
    "end": _UTC,
    "ref_low": pl.Float64(),
    "ref_high": pl.Float64(),
    "censored": pl.String(),
    "attributable": pl.Boolean(),
    "event_id": pl.String(),
    "source": pl.String(),
}
PATIENT_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "age_years": pl.Float64(),
    "birth_date": pl.Date(),
    "weight_kg": pl.Float64(),
    "height_cm": pl.Float64(),
    "bsa_m2": pl.Float64(),
    "sex": pl.String(),
    "high_risk": pl.Boolean(),
    "therapy_kind": pl.String(),
    "therapy_product": pl.String(),
    "therapy_start": _UTC,
    # Optional (docs/decisions/0022-response-field.md): null when the patient has none.
    "response": pl.String(),
    "response_date": pl.Date(),
}


def to_frames(timelines: Iterable[Timeline]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(patients, events)`` frames; events sorted by patient, time and item.

    ``bsa_m2`` is the body-surface area in use (given, or Mosteller from weight and height).
    """
    patients: dict[str, list[object]] = {name: [] for name in PATIENT_FRAME_SCHEMA}
    events: dict[str, list[object]] = {name: [] for name in EVENT_FRAME_SCHEMA}
    for timeline in timelines:
        patient = timeline.patient
        for name, value in (
            ("patient_id", patient.id),
            ("age_years", patient.age_years),
            ("birth_date", patient.birth_date),
            ("weight_kg", patient.weight_kg),
            ("height_cm", patient.height_cm),
            ("bsa_m2", patient.bsa_m2),
            ("sex", patient.sex),
            ("high_risk", patient.high_risk),
            ("therapy_kind", patient.therapy.kind),
            ("therapy_product", patient.therapy.product),
            ("therapy_start", patient.therapy.start),
            ("response", patient.response),
            ("response_date", patient.response_date),
        ):
            patients[name].append(value)
        for event in timeline.events:
            value = event.value
            is_bool = isinstance(value, bool)
            events["patient_id"].append(patient.id)
            events["time"].append(event.time)
            events["item"].append(event.item)
            events["value_num"].append(value if isinstance(value, float) and not is_bool else None)
            events["value_code"].append(value if isinstance(value, str) else None)
            events["value_bool"].append(value if is_bool else None)
            events["unit"].append(event.unit)
            events["end"].append(event.end)
            events["ref_low"].append(event.ref_low)
            events["ref_high"].append(event.ref_high)
            events["censored"].append(event.censored)
            events["attributable"].append(event.attributable)
            events["event_id"].append(event.id)
            events["source"].append(event.source)
    patient_frame = pl.DataFrame(patients, schema=PATIENT_FRAME_SCHEMA)
    event_frame = pl.DataFrame(events, schema=EVENT_FRAME_SCHEMA).sort(
        "patient_id", "time", "item", maintain_order=True
    )
    return patient_frame, event_frame
