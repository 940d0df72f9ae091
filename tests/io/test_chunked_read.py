"""A shard read in chunks of rows is the same read as the shard at once, rejected rows included.

``read_table_frames`` reads and checks the events ``chunk_events`` rows at a time, so that its
memory does not grow with the shard (docs/decisions/0066-shard-read-in-bounded-memory.md).
Everything that looks across rows must not see the chunks: a patient's rows on both sides of a
boundary, a conflict whose two rows straddle it, an unknown patient named in several chunks (one
issue, its count and first row), a patient row the checks do not vouch for whose events span
chunks, rows the Python path reads (and the Arrow rows it reads them from), conversions counted,
the warning about fields outside the format, and the order of the frame.  Each read is compared
with the whole read and with the reference path, bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crswatch.io import TablePair, _frames, read_table_frames, read_table_pair
from crswatch.timeline import to_frames
from tests.io.test_reader_identity import assert_identical

#: Chunk sizes: many small chunks, a few, and the whole table in one.
CHUNKS = (97, 1000, 10**9)


def _damaged(shard: TablePair, directory: Path, variant: str) -> TablePair:
    """The shard with bad rows on and around chunk boundaries (multiples of 97 and 1000).

    ``in-order``: rows in order, with conflicts between rows the checks vouch for (so the rows
    are not in strict order until those are rejected); ``python-conflict``: the only conflict
    is between a row vouched for and one that the Python path accepts, in another chunk;
    ``shuffled``: the rows of ``in-order`` in a random order.
    """
    patients = pq.read_table(shard.patients).to_pylist()
    events = pq.read_table(shard.events).to_pylist()
    assert len(events) > 4_000 and len(patients) == 4
    for row in (96, 97, 999, 1000, 1940, 3001):
        events[row]["value"] = "abc"  # bad_value, or a bad text for a code item
    if variant != "python-conflict":
        # Conflicts whose two rows straddle a boundary of 1000 and one of 97.
        events[1999] = dict(events[2000])
        events[4170] = dict(events[4171])
    events[193]["time"] = None  # missing_field
    events[194]["item"] = "heart_rate_bpm"  # unknown_item
    for row in (291, 1001, 2999):
        events[row]["patient_id"] = "GHOST"  # one patient with no row, in three chunks
    events[388]["patient_id"] = None  # the key 'None'
    temperatures = [n for n, row in enumerate(events) if row["item"] == "temperature"]
    for row in temperatures[::7]:  # converted in every chunk
        events[row]["unit"] = "[degF]"
        events[row]["value"] = repr(round(float(events[row]["value"]) * 9 / 5 + 32, 2))
    for row in temperatures[3::11]:
        events[row]["value"] = " " + events[row]["value"]  # read by Python, not vouched for
    for row in temperatures[5::13]:
        events[row]["value"] = "101"  # out_of_bounds
    for number, row in enumerate(events):
        row["note"] = f"n{number}" if number % 500 == 0 else None  # a field outside the format
    if variant == "python-conflict":
        # Row 4850 (read by Python: the value has a space) repeats row `vouched` of 4100-4849.
        vouched = next(
            row
            for row in temperatures
            if row > 4_120 and events[row]["unit"] == "Cel" and events[row]["value"][0] != " "
        )
        events[4850] = {**events[vouched], "value": " " + events[vouched]["value"], "note": None}
    patients[2]["sex"] = "f"  # not vouched for: its events (rows 2931-4109) go to Python
    patients.append(dict(patients[0]))  # a duplicate patient row
    if variant == "shuffled":
        order = np.random.default_rng(5).permutation(len(events))
        events = [events[n] for n in order]
    pair = TablePair(directory / "patients.parquet", directory / "events.parquet")
    schema = pq.read_schema(shard.events).append(pa.field("note", pa.string()))
    pq.write_table(
        pa.Table.from_pylist(patients, schema=pq.read_schema(shard.patients)), pair.patients
    )
    pq.write_table(pa.Table.from_pylist(events, schema=schema), pair.events)
    return pair


def _report(result: Any) -> str:
    return json.dumps(result.report.to_dict())


@pytest.mark.parametrize("variant", ["in-order", "python-conflict", "shuffled"])
def test_a_chunked_read_is_the_whole_read(
    shard: TablePair, tmp_path: Path, variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = _damaged(shard, tmp_path, variant)
    reference = read_table_pair(pair)
    want_patients, want_events = to_frames(reference.timelines)
    kinds = {issue.kind for issue in reference.report.issues}
    assert kinds >= {"bad_value", "conflict", "missing_field", "unknown_item", "bad_patient"}
    assert kinds >= {"out_of_bounds"} and reference.report.events_converted > 50
    assert reference.report.warnings and reference.report.patients_rejected == 2

    # Which way the order was found each time: strictly in order or not.
    orders: list[bool] = []
    strictly_ordered = _frames._strictly_ordered

    def spy(*args: Any) -> bool:
        orders.append(strictly_ordered(*args))
        return orders[-1]

    monkeypatch.setattr(_frames, "_strictly_ordered", spy)
    whole = read_table_frames(pair, chunk_events=CHUNKS[-1])
    assert orders == {"in-order": [False, True], "python-conflict": [True]}.get(
        variant, [False, False]
    )
    # Read in chunks, the events file is never read whole as Arrow: the Python path's rows are
    # taken from it batch by batch.
    whole_reads: list[Path] = []
    read_parquet = _frames._read_parquet

    def recording(path: Path) -> pa.Table:
        whole_reads.append(path)
        return read_parquet(path)

    monkeypatch.setattr(_frames, "_read_parquet", recording)
    for size in CHUNKS:
        whole_reads.clear()
        got = read_table_frames(pair, chunk_events=size)
        assert _report(got) == _report(whole) == _report(reference), size
        assert got.report.issues == reference.report.issues
        assert got.report.events_rejected == reference.report.events_rejected
        assert got.report.events_accepted == whole.events.height == got.events.height
        assert_identical(got.patients, want_patients)
        assert_identical(got.events, want_events)
        if size < 4_000:
            assert pair.events not in whole_reads, size


def test_an_empty_events_table_in_chunks(shard: TablePair, tmp_path: Path) -> None:
    pair = TablePair(tmp_path / "patients.parquet", tmp_path / "events.parquet")
    pq.write_table(pq.read_table(shard.patients), pair.patients)
    pq.write_table(pq.read_table(shard.events).slice(0, 0), pair.events)
    got = read_table_frames(pair, chunk_events=10)
    reference = read_table_pair(pair)
    assert _report(got) == _report(reference)
    assert got.events.is_empty() and got.patients.height == 4


def test_chunk_events_must_be_positive(shard: TablePair) -> None:
    with pytest.raises(ValueError, match="chunk_events=0"):
        read_table_frames(shard, chunk_events=0)
