"""A Parquet table of more than one chunk is checked in one streaming pass (decision 0083).

The pass numbers each row by its place and reads the rows it does not vouch for in a second
output of the same scan; the frame is then made part by part, the checked rows written over and
the rejected ones dropped.  These tests pin down which path reads what, and that a pass whose
rows come back out of order is not trusted: the chunks read the table instead, with the same
result.  The results themselves are compared with the reference path by
``tests/io/test_chunked_read.py``, ``test_plain_rows.py`` and ``test_frames.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crswatch.io import TablePair, _frames, read_table_frames, read_table_pair
from crswatch.state import UNREAD_ITEMS, events_read
from crswatch.timeline import to_frames
from tests.io.test_reader_identity import assert_identical, count_full_checks


def _paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records which path checked each read: ``table`` or ``chunks``."""
    taken: list[str] = []
    reader = _frames._ShardReader
    check_table, check_chunks = reader._check_table, reader._check_chunks

    def table(self: Any, patients: pl.DataFrame) -> Any:
        checked = check_table(self, patients)
        taken.append("table" if checked is not None else "table refused")
        return checked

    def chunks(self: Any, patients: pl.DataFrame) -> Any:
        taken.append("chunks")
        return check_chunks(self, patients)

    monkeypatch.setattr(_frames._ShardReader, "_check_table", table)
    monkeypatch.setattr(_frames._ShardReader, "_check_chunks", chunks)
    return taken


def _assert_reference(pair: TablePair, got: Any) -> None:
    reference = read_table_pair(pair)
    patients, events = to_frames(reference.timelines)
    assert json.dumps(got.report.to_dict()) == json.dumps(reference.report.to_dict())
    assert_identical(got.patients, patients)
    assert_identical(got.events, events)


def test_which_path_reads_a_table(shard: TablePair, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _paths(monkeypatch)
    rows = pl.scan_parquet(shard.events).select(pl.len()).collect().item()
    read_table_frames(shard, chunk_events=rows)  # one chunk: the chunks' path
    read_table_frames(shard, chunk_events=rows - 1)  # two chunks: the whole-table pass
    assert taken == ["chunks", "table"]


def test_rows_out_of_order_are_read_by_the_chunks(
    shard: TablePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass's rows are numbered by their place; if they came back in another order, the
    row numbers of its second output would not match, and the chunks read the table."""
    marked_rows = _frames._marked_rows

    def reversed_rows(*args: Any) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        numbers, others = marked_rows(*args)
        return numbers.reverse(), others

    monkeypatch.setattr(_frames, "_marked_rows", reversed_rows)
    taken = _paths(monkeypatch)
    got = read_table_frames(shard, chunk_events=500)
    assert taken == ["table refused", "chunks"]
    _assert_reference(shard, got)


def test_a_table_without_other_rows(
    shard: TablePair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row vouched for by the pass: no second output, no full checks."""
    events = pl.read_parquet(shard.events)
    plain = events.filter(
        pl.col("item").is_in(["temperature", "heart_rate", "sbp"])
        & pl.all_horizontal(pl.col(name).is_null() for name in ("censored", "cause", "ref_low"))
    )
    assert plain.height > 200
    pair = TablePair(tmp_path / "patients.parquet", tmp_path / "events.parquet")
    pl.read_parquet(shard.patients).write_parquet(pair.patients)
    plain.write_parquet(pair.events)
    calls = count_full_checks(monkeypatch)
    taken = _paths(monkeypatch)
    got = read_table_frames(pair, chunk_events=50)
    assert taken == ["table"] and calls == []
    _assert_reference(pair, got)


# ------------------------------------------------------------ a read for unread items

UNREAD = UNREAD_ITEMS  # the vital signs the cohort kernel reads only at a record's bounds


def _counts(events: pl.DataFrame) -> pl.DataFrame:
    return (
        events.group_by("patient_id")
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .sort("patient_id")
    )


def _assert_shows_what_is_read(pair: TablePair, got: Any, whole: Any) -> None:
    """What the kernel reads of the events (``events_read``) and every event's count are the
    whole read's; the report and the patients are the same."""
    assert json.dumps(got.report.to_dict()) == json.dumps(whole.report.to_dict())
    assert_identical(got.patients, whole.patients)
    assert_identical(events_read(got.events), events_read(whole.events))
    counts = got.event_counts if got.event_counts is not None else _counts(got.events)
    assert_identical(counts, _counts(whole.events))


def test_a_read_for_unread_items_leaves_them_out(
    shard: TablePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = read_table_frames(shard, chunk_events=500)
    taken = _paths(monkeypatch)
    got = read_table_frames(shard, chunk_events=500, unread_items=UNREAD)
    assert taken == ["table"] and got.event_counts is not None
    assert got.events.height < whole.events.height * 0.6
    shown = got.events.filter(pl.col("item").is_in(UNREAD))
    # Of the unread items, only rows at each record's first and last instants.
    bounds = whole.events.group_by("patient_id").agg(
        pl.col("time").min().alias("first"), pl.col("time").max().alias("last")
    )
    at_bounds = shown.join(bounds, on="patient_id").filter(
        (pl.col("time") == pl.col("first")) | (pl.col("time") == pl.col("last"))
    )
    assert at_bounds.height == shown.height > 0
    _assert_shows_what_is_read(shard, got, whole)


def test_a_read_for_unread_items_in_one_chunk_gives_every_event(shard: TablePair) -> None:
    got = read_table_frames(shard, unread_items=UNREAD)
    assert got.event_counts is None
    _assert_shows_what_is_read(shard, got, read_table_frames(shard))


def test_a_record_whose_first_event_moves_is_read_again_whole(
    shard: TablePair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two readings of one unread item at one instant before a record's first are a conflict,
    and rejected: the record's first event is then at its next instant, among the rows the
    pass left out, so the table is read again with every event."""
    events = pl.read_parquet(shard.events)
    first = (
        events.filter(pl.col("patient_id") == events["patient_id"][0])
        .sort("time")
        .row(0, named=True)
    )
    earlier = first["time"] - timedelta(minutes=1)
    twins = pl.DataFrame(
        [
            {**first, "time": earlier, "item": "dbp", "value": "60", "unit": "mm[Hg]"},
            {**first, "time": earlier, "item": "dbp", "value": "61", "unit": "mm[Hg]"},
        ],
        schema=events.schema,
    )
    pair = TablePair(tmp_path / "patients.parquet", tmp_path / "events.parquet")
    pl.read_parquet(shard.patients).write_parquet(pair.patients)
    pl.concat([twins, events]).write_parquet(pair.events)
    whole = read_table_frames(pair, chunk_events=500)
    assert {issue.kind for issue in whole.report.issues} == {"conflict"}
    reader = _frames._ShardReader
    reads: list[bool] = []
    result = reader._result

    def recording(self: Any) -> Any:
        got = result(self)
        reads.append(got is not None)
        return got

    monkeypatch.setattr(reader, "_result", recording)
    got = read_table_frames(pair, chunk_events=500, unread_items=UNREAD)
    assert reads == [False, True] and got.event_counts is None
    _assert_shows_what_is_read(pair, got, whole)
