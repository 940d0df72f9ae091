"""Plain rows vouched for by the short path are the rows the full checks make, bit for bit.

A plain row (a quantity in one of its canonical units, a short decimal value, no end, reference
range, censoring, cause, id or source) is vouched for by ``_vouch_plain`` with a few
expressions; every other row, and every plain row it cannot vouch for, goes through
``_check_events`` (and the Python path after it), in batches of ``chunk_events`` rows that wait
for their chunks (docs/decisions/0072-shard-reader-at-half-the-cpu.md).  The reads below
compare the frames and the report with the full checks alone (``_vouch_plain`` turned off) and
with the per-event reference path, whole and in chunks of every small size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crswatch.io import TablePair, _frames, read_table_frames
from tests.io.test_reader_identity import (
    assert_identical,
    assert_reads_as_reference,
    count_full_checks,
)

#: (item, value, unit, extra fields): plain rows, near-plain rows, and rows of every other kind.
ROWS: list[tuple[str, Any, Any, dict[str, Any]]] = [
    ("temperature", "38.7", "Cel", {}),
    ("temperature", "-0", "Cel", {}),  # out of bounds: rejected by the full checks
    ("ferritin", "0", "ng/mL", {}),
    ("ferritin", "-0", "ng/mL", {}),  # the identity's affine map makes it 0
    ("ferritin", "-0.0", "ng/mL", {}),
    ("ferritin", "1e2", "ng/mL", {}),
    ("ferritin", "000123.4500", "ng/mL", {}),  # 11 characters: plain, unrounded
    ("ferritin", "3.4000000000000004", "ng/mL", {}),  # rounded to 12 digits: full checks
    ("ferritin", "1e-320", "ng/mL", {}),  # subnormal: full checks
    ("ferritin", "123456789012", "ng/mL", {}),
    ("ferritin", "1234567890123", "ng/mL", {}),
    ("ferritin", " 12", "ng/mL", {}),  # read by the Python path
    ("ferritin", "1_000", "ng/mL", {}),
    ("ferritin", "abc", "ng/mL", {}),  # bad value
    ("ferritin", "600000", "ng/mL", {}),  # above the item's bound
    ("ferritin", "5", "ug/L", {}),  # a non-canonical unit: converted
    ("ferritin", "5", "", {}),  # no unit
    ("ferritin", "5", None, {}),
    ("ferritin", "250", "ng/mL", {"ref_low": 10.0, "ref_high": 300.0}),
    ("il2r", "800", "U/mL", {}),  # the second canonical unit of an item
    ("il2r", "800", "pg/mL", {}),
    ("fio2", "40", "%", {}),
    ("fio2", "0.4", "1", {}),  # a fraction: times 100, not plain
    ("fio2", "0.4", "", {}),
    ("fio2", "0.4", None, {}),
    ("spo2", "97", "%", {}),
    ("heart_rate", "100", "/min", {"id": "hr-1", "source": "monitor"}),
    ("heart_rate", "101", "/min", {"censored": "above"}),
    ("heart_rate", "102", "/min", {"cause": "other"}),
    ("ice_score", "8", None, {}),  # a score: plain
    ("ice_score", "-0", None, {}),  # plain, read as 0
    ("ice_score", "8.0", None, {}),  # a whole number written with a decimal: plain
    ("ice_score", "8.5", None, {}),  # not a whole number: rejected
    ("ice_score", "11", None, {}),  # above the score's bound: rejected
    ("ice_score", "8", "{score}", {}),  # a score unit: full checks
    ("ice_score", "8", "mg", {}),  # a unit a score does not take: rejected
    ("ice_score", "not_assessed", None, {}),  # full checks
    ("capd_score", "12", None, {"ref_low": 0.0}),  # a reference range: rejected
    ("o2_device", "nasal_cannula", None, {}),  # a code: plain
    ("o2_device", "nasal_cannula", "L/min", {}),  # a code's unit is neither checked nor kept
    ("o2_device", "nasal cannula", None, {}),  # not one of the item's codes: rejected
    ("o2_device", "prolonged", None, {}),  # another item's code: rejected
    ("seizure", "focal_resolved", None, {"cause": "other"}),  # a cause: full checks
    ("norepinephrine", "5", "ug/min", {"end": "2024-03-03T12:00:00Z"}),  # an end: plain
    ("norepinephrine", "5", "ug/min", {"end": "2024-02-01T12:00:00Z"}),  # ends before: rejected
    ("norepinephrine", "5", "ug/min", {"end": "2199-01-01T00:00:00Z"}),  # beyond the window
    ("o2_device", "face_mask", None, {"end": "2024-03-03T12:00:00Z"}),  # a code with an end
    ("sbp", "120", "mm[Hg]", {"end": "2024-03-01T12:00:00Z"}),  # may end before its instant
    ("heart_rate_bpm", "100", "/min", {}),  # unknown item
]


def _pair(directory: Path, repeat: int = 3, *, shuffled: bool = False) -> TablePair:
    """One patient with ``ROWS`` ``repeat`` times, a minute apart, in time order."""
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
    events = []
    for n in range(len(ROWS) * repeat):
        item, value, unit, extra = ROWS[n % len(ROWS)]
        minute = n // 2  # two rows per minute: neighbours share an instant
        time = f"2024-03-0{1 + minute // 1440}T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z"
        events.append(
            {
                "patient_id": "P1",
                "time": time,
                "item": item,
                "value": value,
                "unit": unit,
                "end": None,
                "ref_low": None,
                "ref_high": None,
                "censored": None,
                "cause": None,
                "id": None,
                "source": None,
            }
            | extra
        )
    if shuffled:
        events = events[1::2] + events[::2]
    directory.mkdir(parents=True, exist_ok=True)
    pair = TablePair(directory / "patients.parquet", directory / "events.parquet")
    pq.write_table(patients, pair.patients)
    pq.write_table(pa.Table.from_pylist(events), pair.events)
    return pair


def _report(result: Any) -> str:
    return json.dumps(result.report.to_dict())


#: The rows without a column only the full checks check: the other rows' short path is tried
#: only when no row of theirs has one (decision 0080).
_BARE_ROWS = [row for row in ROWS if set(row[3]) <= {"end"}]


@pytest.mark.parametrize("bare_only", [False, True])
@pytest.mark.parametrize("shuffled", [False, True])
def test_plain_rows_read_as_the_full_checks_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, shuffled: bool, bare_only: bool
) -> None:
    if bare_only:
        monkeypatch.setattr(sys.modules[__name__], "ROWS", _BARE_ROWS)
    pair = _pair(tmp_path, shuffled=shuffled)
    want = assert_reads_as_reference(pair)

    vouched: list[int] = []
    vouch_plain = _frames._vouch_plain

    def counting(
        events: pl.DataFrame, bounds: Any, **shapes: bool
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        plain, others = vouch_plain(events, bounds, **shapes)
        vouched.append(plain.height)
        return plain, others

    monkeypatch.setattr(_frames, "_vouch_plain", counting)
    whole = read_table_frames(pair)
    assert 0 < sum(vouched) < 3 * len(ROWS)  # the short path vouched for some rows, not all

    def nothing_plain(
        events: pl.DataFrame, bounds: Any, **shapes: bool
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        return _frames._no_plain_rows(), events

    monkeypatch.setattr(_frames, "_vouch_plain", nothing_plain)
    full = read_table_frames(pair)
    assert _report(whole) == _report(full)
    assert_identical(whole.events, full.events)
    assert_identical(whole.patients, full.patients)
    assert_identical(whole.events, want)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 40, 10**9])
def test_plain_rows_in_chunks_of_any_size(tmp_path: Path, size: int) -> None:
    """Chunks of plain rows only, of other rows only, and of both; the other rows wait for
    ``size`` of them across chunks before they are checked."""
    pair = _pair(tmp_path)
    whole = read_table_frames(pair, chunk_events=10**9)
    got = read_table_frames(pair, chunk_events=size)
    assert _report(got) == _report(whole)
    assert_identical(got.events, whole.events)
    assert_identical(got.patients, whole.patients)


def test_a_monitored_record_needs_no_full_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vital signs, ICE scores, an oxygen device and an infusion with an end are all vouched for
    by the short path (decision 0080): the full checks, whose fixed cost was a fifth of reading
    a patient's month, are not called; the frames are the reference path's."""
    shapes = [
        ("temperature", "38.7", "Cel", {}),
        ("ice_score", "8", None, {}),
        ("o2_device", "nasal_cannula", None, {}),
        ("norepinephrine", "5", "ug/min", {"end": "2024-03-03T12:00:00Z"}),
    ]
    monkeypatch.setattr(sys.modules[__name__], "ROWS", shapes)
    pair = _pair(tmp_path)
    calls = count_full_checks(monkeypatch)
    assert_reads_as_reference(pair)
    assert calls == []
