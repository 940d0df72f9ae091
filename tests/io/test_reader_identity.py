"""The fast table reader changes no value: its frames are the reference path's, bit for bit.

``read_table_frames`` reads a Parquet pair of the contract's types with Polars, takes values in
their canonical unit without conversion, and rounds to 12 significant digits only what the
rounding can change (docs/decisions/0053-reader-at-the-speed-of-parquet.md).  The reference is
the per-event path, ``read_table_pair`` + ``to_frames``, which converts and rounds every value
(``Conversion.apply``) as the reader always did.  Floats are compared by their bits, so a
``-0.0`` for a ``0.0`` or a last-digit difference fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crswatch.io import (
    EVENT_SCHEMA,
    PATIENT_SCHEMA,
    TablePair,
    _frames,
    find_table_pairs,
    read_table_frames,
    read_table_pair,
    write_path,
)
from crswatch.io._json import load_json
from crswatch.simulate import write_cohort
from crswatch.timeline import _units, conversion_for, to_frames
from tests.conftest import BASE_DOCUMENT

EXAMPLE = Path(__file__).parents[2] / "examples" / "patient.json"


def assert_identical(got: pl.DataFrame, want: pl.DataFrame) -> None:
    """Equal frames, exactly: every float column the same bits, nulls in the same places."""
    assert_frame_equal(got, want, check_exact=True)
    for name, dtype in got.schema.items():
        if dtype == pl.Float64:
            mine = got[name].fill_null(np.nan).to_numpy().view(np.uint64)
            theirs = want[name].fill_null(np.nan).to_numpy().view(np.uint64)
            assert (mine == theirs).all(), name


def count_full_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows of each call of the reader's full checks (``_check_events``), from now on."""
    calls: list[int] = []
    check_events = _frames._check_events

    def counting(events: pl.DataFrame, *args: Any) -> pl.DataFrame:
        calls.append(events.height)
        return check_events(events, *args)

    monkeypatch.setattr(_frames, "_check_events", counting)
    return calls


def assert_reads_as_reference(pair: TablePair) -> pl.DataFrame:
    """The fast reader's frames and report are the reference path's; returns the events."""
    reference = read_table_pair(pair)
    patients, events = to_frames(reference.timelines)
    got = read_table_frames(pair)
    assert json.dumps(got.report.to_dict()) == json.dumps(reference.report.to_dict())
    assert_identical(got.patients, patients)
    assert_identical(got.events, events)
    return got.events


# ------------------------------------------------------------------------ example timelines


def _raw_tables(document: dict[str, Any], directory: Path) -> TablePair:
    """A timeline document as it was sent (units as given, values as text), as Parquet tables."""
    patient = document["patient"]
    therapy = patient["therapy"]
    patients = pa.Table.from_pylist(
        [
            {
                "id": patient["id"],
                "age_years": patient.get("age_years"),
                "weight_kg": patient.get("weight_kg"),
                "height_cm": patient.get("height_cm"),
                "sex": patient.get("sex"),
                "therapy_kind": therapy["kind"],
                "therapy_product": therapy.get("product"),
                "therapy_start": therapy["start"],
            }
        ]
    )
    events = pa.Table.from_pylist(
        [
            {
                "patient_id": patient["id"],
                "time": event["time"],
                "item": event["item"],
                "value": str(event["value"]).lower()
                if isinstance(event["value"], bool)
                else str(event["value"]),
                "unit": event.get("unit"),
                "end": event.get("end"),
            }
            for event in document["events"]
        ]
    )
    directory.mkdir(parents=True, exist_ok=True)
    pair = TablePair(directory / "patients.parquet", directory / "events.parquet")
    pq.write_table(patients, pair.patients)
    pq.write_table(events, pair.events)
    return pair


@pytest.mark.parametrize("form", ["parquet", "csv"])
def test_example_timeline_in_canonical_units(tmp_path: Path, form: str) -> None:
    from crswatch.io import read_json_document

    timelines = read_json_document(load_json(EXAMPLE), str(EXAMPLE)).timelines
    directory = write_path(timelines, tmp_path / "example", to=form)
    (pair,) = find_table_pairs(directory)
    events = assert_reads_as_reference(pair)
    assert events.height == len(timelines[0].events)


def test_example_timeline_as_sent_with_its_mixed_units(tmp_path: Path) -> None:
    """The example as charted: [degF], ug/kg/min and ug/min beside canonical units."""
    document = load_json(EXAMPLE)
    assert isinstance(document, dict)
    units = {event.get("unit") for event in document["events"]}
    assert {"[degF]", "ug/kg/min", "Cel"} <= units
    events = assert_reads_as_reference(_raw_tables(document, tmp_path))
    assert events.height == len(document["events"])


def test_base_document_as_tables(tmp_path: Path) -> None:
    assert_reads_as_reference(_raw_tables(BASE_DOCUMENT, tmp_path))


# ------------------------------------------------- simulated patients, canonical and mixed


#: Canonical value -> (unit, value as charted), text as a chart or device would write it.
MIXED_UNITS: dict[str, tuple[str, Any]] = {
    "temperature": ("[degF]", lambda c: repr(c * 9 / 5 + 32)),
    "creatinine": ("umol/L", lambda c: repr(c * 88.42)),
    "crp": ("mg/dL", lambda c: f"{c / 10:.3f}"),
    "platelets": ("10*9/L", lambda c: repr(c)),
    "hemoglobin": ("g/L", lambda c: repr(c * 10)),
    "fibrinogen": ("g/L", lambda c: repr(c / 100)),
}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> TablePair:
    path = tmp_path_factory.mktemp("simulated") / "cohort"
    write_cohort(path, 6, seed=5, shard_size=6)
    (pair,) = find_table_pairs(path)
    return pair


def test_simulated_patients_in_canonical_units(simulated: TablePair) -> None:
    events = assert_reads_as_reference(simulated)
    assert events.height > 1_000


def test_simulated_patients_in_shuffled_rows(simulated: TablePair, tmp_path: Path) -> None:
    """Rows in any order (patients interleaved, times and items shuffled): the frames are
    sorted by patient id, time and item, as ``to_frames`` sorts them."""
    events = pq.read_table(simulated.events)
    order = np.random.default_rng(3).permutation(events.num_rows)
    pair = TablePair(tmp_path / "patients.parquet", tmp_path / "events.parquet")
    # Patient rows in reverse, so that row order and id order differ too.
    patients = pq.read_table(simulated.patients)
    pq.write_table(patients.take(np.arange(patients.num_rows)[::-1]), pair.patients)
    pq.write_table(events.take(order), pair.events)
    got = assert_reads_as_reference(pair)
    assert got["patient_id"].n_unique() == patients.num_rows > 1


def test_simulated_patients_with_mixed_units(simulated: TablePair, tmp_path: Path) -> None:
    """Every other row of six items in another unit, long texts, and canonical values written
    with more than 12 significant digits (those are rounded, as they always were)."""
    rows = pq.read_table(simulated.events).to_pylist()
    changed = 0
    for number, row in enumerate(rows):
        if row["value"] is None or number % 2:
            continue
        if row["item"] in MIXED_UNITS:
            unit, write = MIXED_UNITS[row["item"]]
            row["unit"], row["value"] = unit, write(float(row["value"]))
            changed += 1
        elif row["item"] in ("heart_rate", "spo2") and number % 4 == 0:
            row["value"] = repr(float(row["value"]) + 1e-11)  # 13+ digits, canonical unit
            changed += 1
    assert changed > 100
    pair = TablePair(tmp_path / "patients.parquet", tmp_path / "events.parquet")
    pq.write_table(pq.read_table(simulated.patients), pair.patients)
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(simulated.events)), pair.events)
    events = assert_reads_as_reference(pair)
    assert events.filter(pl.col("item") == "temperature")["unit"].unique().to_list() == ["Cel"]


# ----------------------------------------------------------------- values, one by one

#: Items with a wide plausible range, in their canonical unit.
WIDE = {"ferritin": "ng/mL", "il6": "pg/mL", "fluid_bolus": "mL"}


def _one_value_pair(directory: Path, values: list[str], item: str) -> TablePair:
    patients = pa.Table.from_pylist(
        [
            {
                "id": "P1",
                "weight_kg": 70.0,
                "therapy_kind": "car_t",
                "therapy_start": "2024-03-01T10:00:00Z",
            }
        ]
    )
    events = pa.Table.from_pylist(
        [
            {
                "patient_id": "P1",
                "time": f"2024-03-0{1 + n // 1440}T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
                "item": item,
                "value": value,
                "unit": WIDE[item],
            }
            for n, value in enumerate(values)
        ]
    )
    directory.mkdir(parents=True, exist_ok=True)
    pair = TablePair(directory / "patients.parquet", directory / "events.parquet")
    pq.write_table(patients, pair.patients)
    pq.write_table(events, pair.events)
    return pair


_DECIMALS = st.decimals(min_value=0, max_value=10**6, allow_nan=False, allow_infinity=False)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        _DECIMALS.map(str)
        | st.floats(min_value=0, max_value=1e6).map(repr)
        | st.floats(min_value=0, max_value=1e6).map(lambda x: f"{x:.12g}")
        | st.floats(min_value=0, max_value=1e6).map(lambda x: f"{x:.13g}")
        | st.floats(min_value=0, max_value=1e6).map(lambda x: f"{x:e}"),
        min_size=1,
        max_size=40,
    ),
    item=st.sampled_from(sorted(WIDE)),
)
@example(
    values=["0", "-0", "0.0", "-0.0", "1e2", "000123.4500", "3.4000000000000004", "1e-320"],
    item="ferritin",
)
@example(values=["123456789012", "1234567890123", "0.1234567890123", ".5", "5."], item="il6")
def test_canonical_values_are_the_reference_paths_bit_for_bit(
    tmp_path: Path, values: list[str], item: str
) -> None:
    """Short texts skip the rounding; long ones are rounded: both give the reference's doubles."""
    directory = tmp_path / f"v{abs(hash((tuple(values), item)))}"
    assert_reads_as_reference(_one_value_pair(directory, values, item))


# -------------------------------------------------------------------- the unit registry


def test_canonical_parquet_is_read_without_the_unit_registry(
    simulated: TablePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_registry() -> Any:
        raise AssertionError("the unit registry was loaded")

    for cached in (conversion_for, _units._parse, _units._valid):
        cached.cache_clear()
    monkeypatch.setattr(_units, "registry", no_registry)
    try:
        result = read_table_frames(simulated)
    finally:
        conversion_for.cache_clear()
    assert result.report.ok and result.events.height > 1_000


def test_a_non_canonical_unit_loads_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    registry = _units.registry

    def counted() -> Any:
        calls.append(1)
        return registry()

    for cached in (conversion_for, _units._parse, _units._valid):
        cached.cache_clear()
    monkeypatch.setattr(_units, "registry", counted)
    try:
        result = read_table_frames(_raw_tables(load_json(EXAMPLE), tmp_path))
    finally:
        conversion_for.cache_clear()
    assert result.report.ok and calls


def test_schemas_of_the_table_contract_are_read_by_polars(simulated: TablePair) -> None:
    """The simulator writes the contract's schemas: the fast route, no Arrow table read."""
    from crswatch.io._frames import _EVENT_TYPES, _PATIENT_TYPES, _read_table

    assert pq.read_schema(simulated.events).equals(EVENT_SCHEMA, check_metadata=False)
    assert pq.read_schema(simulated.patients).remove_metadata().names == PATIENT_SCHEMA.names
    for path, types in ((simulated.events, _EVENT_TYPES), (simulated.patients, _PATIENT_TYPES)):
        table = _read_table(path, types)
        assert table is not None and table.known is not None and table.arrow is None
    # The events are only opened: Polars reads them chunk by chunk (decision 0066).
    table = _read_table(simulated.events, _EVENT_TYPES, scan=True)
    assert table is not None and table.scan is not None
    assert table.known is None and table.arrow is None
