"""A shard of simulated patients as Arrow tables in ``PATIENT_SCHEMA`` and ``EVENT_SCHEMA``.

Columns are built from the patients' numpy arrays in one pass (``take`` from small dictionaries
for item, unit, code and patient id; one float-to-text cast for every numeric value), so a shard
of a million events never becomes a million Python objects.  The text of a numeric value is the
shortest text that reads back as the same float, as ``crswatch.io`` writes it (``7`` for 7.0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crswatch.io import EVENT_SCHEMA, PATIENT_SCHEMA
from crswatch.simulate._events import ABOVE_ULOQ, BELOW_LOD, NO_TIME
from crswatch.simulate._items import CODES, ITEMS, UNITS
from crswatch.simulate._patient import SimulatedPatient, patient_record

__all__ = ["event_table", "patient_table"]

_TIMESTAMP = pa.timestamp("us", tz="UTC")
_ITEMS = pa.array(ITEMS, pa.string())
_CODES = pa.array(CODES, pa.string())
_UNIT_NAMES = sorted({unit for unit in UNITS if unit is not None})
_UNITS = pa.array(_UNIT_NAMES, pa.string())
_UNIT_OF_ITEM = np.array(
    [-1 if unit is None else _UNIT_NAMES.index(unit) for unit in UNITS], dtype=np.int32
)
_CENSORING_LABELS = {BELOW_LOD: "below_lod", ABOVE_ULOQ: "above_uloq"}
_CENSORING = pa.array([_CENSORING_LABELS.get(number, "") for number in range(3)], pa.string())
_CAUSE = pa.array(["other"], pa.string())


def _timestamps(microseconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(microseconds, type=pa.int64(), mask=missing).cast(_TIMESTAMP)


def _take(names: pa.Array, indices: np.ndarray, missing: np.ndarray) -> pa.Array:
    return names.take(pa.array(indices, type=pa.int32(), mask=missing))


def _value_text(value: np.ndarray, code: np.ndarray) -> pa.Array:
    numeric = code < 0
    text = pc.cast(pa.array(np.where(numeric, value, 0.0)), pa.string())
    # Arrow and Python agree on the shortest round-trip text except for exponent forms, which
    # only very small or very large numbers take; write those as Python does.
    odd = numeric & (value != 0.0) & ((np.abs(value) < 1e-4) | (np.abs(value) >= 1e15))
    if odd.any():
        listed = text.to_pylist()
        for row in np.flatnonzero(odd):
            listed[row] = repr(float(value[row]))
        text = pa.array(listed, pa.string())
    codes = _take(_CODES, np.where(numeric, 0, code), numeric)
    return pc.if_else(pa.array(numeric), text, codes)


def event_table(patients: Sequence[SimulatedPatient]) -> pa.Table:
    """The events of a shard, sorted by patient then (time, item)."""
    parts = [patient.events for patient in patients]
    sizes = np.array([len(part) for part in parts], dtype=np.int64)
    item = np.concatenate([part.item for part in parts]).astype(np.int32)
    value = np.concatenate([part.value for part in parts])
    code = np.concatenate([part.code for part in parts]).astype(np.int32)
    end_us = np.concatenate([part.end_us for part in parts])
    ref_low = np.concatenate([part.ref_low for part in parts])
    ref_high = np.concatenate([part.ref_high for part in parts])
    censored = np.concatenate([part.censored for part in parts]).astype(np.int32)
    other = np.concatenate([part.cause_other for part in parts])
    units = _UNIT_OF_ITEM[item]
    no_unit = (units < 0) | (code >= 0)
    size = int(sizes.sum())
    columns = {
        "patient_id": _take(
            pa.array([patient.patient_id for patient in patients], pa.string()),
            np.repeat(np.arange(len(patients), dtype=np.int32), sizes),
            np.zeros(size, dtype=bool),
        ),
        "time": _timestamps(np.concatenate([part.time_us for part in parts])),
        "item": _take(_ITEMS, item, np.zeros(size, dtype=bool)),
        "value": _value_text(value, code),
        "unit": _take(_UNITS, np.where(no_unit, 0, units), no_unit),
        "end": _timestamps(end_us, end_us == NO_TIME),
        "ref_low": pa.array(ref_low, mask=np.isnan(ref_low)),
        "ref_high": pa.array(ref_high, mask=np.isnan(ref_high)),
        "censored": _take(_CENSORING, censored, censored == 0),
        "cause": _take(_CAUSE, np.zeros(size, dtype=np.int32), ~other),
        "id": pa.nulls(size, pa.string()),
        "source": pa.nulls(size, pa.string()),
    }
    return pa.table(columns, schema=EVENT_SCHEMA)


def patient_table(patients: Sequence[SimulatedPatient]) -> pa.Table:
    """One row per patient, therapy fields flattened."""
    # The optional response fields exactly as to_timeline gives them (one rule, one place).
    records = [patient_record(patient) for patient in patients]
    return pa.table(
        {
            "id": pa.array([patient.patient_id for patient in patients], pa.string()),
            "age_years": pa.array(
                [patient.demographics.age_years for patient in patients], pa.float64()
            ),
            "birth_date": pa.nulls(len(patients), pa.string()),
            "weight_kg": pa.array(
                [patient.demographics.weight_kg for patient in patients], pa.float64()
            ),
            "height_cm": pa.array(
                [patient.demographics.height_cm for patient in patients], pa.float64()
            ),
            "bsa_m2": pa.nulls(len(patients), pa.float64()),
            "sex": pa.array([patient.demographics.sex for patient in patients], pa.string()),
            "high_risk": pa.array(
                [patient.demographics.high_risk for patient in patients], pa.bool_()
            ),
            "therapy_kind": pa.array([patient.kind for patient in patients], pa.string()),
            "therapy_product": pa.array([patient.product for patient in patients], pa.string()),
            "therapy_start": _timestamps(
                np.array([patient.start_us for patient in patients], dtype=np.int64)
            ),
            "response": pa.array([record.get("response") for record in records], pa.string()),
            "response_date": pa.array(
                [record.get("response_date") for record in records], pa.string()
            ),
        },
        schema=PATIENT_SCHEMA,
    )
