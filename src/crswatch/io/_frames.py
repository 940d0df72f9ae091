"""The table form read column-wise (Polars) into the frames the engines use, with its ingest report.

``read_table_pair`` + ``to_frames`` validates event by event in Python (some 50,000 events/s); a
100,000-patient cohort holds about 10^8 events.  This reader gives the same result, column-wise:

- Every check of :func:`crswatch.timeline.build_timeline` is an expression over a whole shard
  (required fields, patient bounds and codes, times with a UTC offset, vocabulary, values, units,
  plausibility bounds, ``end >= time``, censoring, cause).  Each (item, unit) conversion is
  computed once with :func:`~crswatch.timeline.conversion_for` and applied as the same affine
  map, with the patient's weight or body-surface area looked up by patient, and the same
  rounding to 12 significant digits (:func:`_round_significant`, bit for bit).
- The expressions only ever *vouch* for a row: they accept what the Python path accepts in the
  usual written forms (``2024-03-02T08:00:00Z``, ``38.7``, ``true``) and compute the same values.
  Every other row (rejected, or written in a form the expressions do not parse, such as
  ``1_000`` or a time with a seven-digit fraction) goes through ``build_timeline`` itself, and so
  does a patient row they cannot vouch for, with all its events.  Each issue is therefore the
  Python path's own (kind, field, value, reason), never a second rendering of it.
- Conflicts (one item twice at one instant) are found column-wise over every accepted row; the
  members of each conflict are then run through ``build_timeline`` together, which reports them
  exactly as the full read does.
- Tables outside the types of the table contract (an integer ``id`` column, nanosecond or
  non-UTC timestamps, a ragged CSV) are read by the Python path, whole.
- A Parquet file of the contract's types is read by Polars (its Arrow rows only if the Python
  path needs some); a value in its canonical unit is neither converted nor, when its text has
  at most 12 characters, rounded (the rounding cannot change it); the unit registry is not
  loaded for canonical units (docs/decisions/0053-reader-at-the-speed-of-parquet.md).

- A *plain* row (a quantity in one of its canonical units, a decimal value of at most 12
  characters, nothing but patient, time, item, value and unit) is vouched for by a few
  expressions (:func:`_vouch_plain`, the value's text read once per distinct text); the other
  rows wait, a few chunks at a time, and go through every check together
  (docs/decisions/0072-shard-reader-at-half-the-cpu.md).
- A Parquet table of more than one chunk (a cohort shard) is checked instead in one streaming
  pass with the same verdict (:meth:`_ShardReader._check_table`): the rows it does not vouch
  for come out of the same scan and go through every check; the frame is made part by part,
  and a read for ``unread_items`` (the cohort's) leaves out the rows its caller does not read
  (docs/decisions/0083-shard-read-in-one-streaming-pass.md).

Counts, conversions, unknown items, warnings and issues (in the Python path's order) are the same;
``tests/io/test_frames.py`` checks it on generated tables mixing every issue kind.
"""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from crswatch.errors import TimelineFormatError, UnitError
from crswatch.io._paths import iter_read
from crswatch.io._tabular import (
    EVENT_COLUMNS,
    PATIENT_COLUMNS,
    TablePair,
    _event_record,
    _patient_record,
    find_table_pairs,
    read_table_pair,
)
from crswatch.timeline import (
    EVENT_FRAME_SCHEMA,
    NOT_ASSESSED,
    PATIENT_FRAME_SCHEMA,
    PATIENT_ID_PATTERN,
    RESPONSES,
    Event,
    IngestIssue,
    IngestReport,
    Timeline,
    TimeWindow,
    build_timeline,
    conversion_for,
    parse_time,
    to_frames,
    unknown_field_note,
    vocabulary,
)
from crswatch.timeline._model import CAUSES, CENSORING, SEXES, THERAPY_KINDS

# The reference validation's own constants, so that the two readers cannot drift apart.
from crswatch.timeline._parse import _EVENT_FIELDS, _FRACTION_UNITS, _PATIENT_BOUNDS

__all__ = ["FrameResult", "iter_frames", "read_frames", "read_table_frames"]

FloatArray = npt.NDArray[np.float64]

_UTC = pl.Datetime("us", "UTC")
#: Internal column names (prefixed so that they cannot meet a column of the input).
_ROW, _POS, _KEY, _OK = "__crswatch_row", "__crswatch_pos", "__crswatch_key", "__crswatch_ok"

# ------------------------------------------------------------------- written forms vouched for
# Each pattern is a subset of what the Python path reads the same way.  ASCII only: Python's
# ``float`` and ``str.strip`` also accept Unicode digits and spaces; those go to the Python path.

#: Decimal numbers that ``float()`` and Polars read to the same double (bounded length).
_NUMBER = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$"
_NUMBER_MAX_BYTES = 40
#: ISO 8601 date-times with an offset, as ``datetime.fromisoformat`` reads them (years 1000-2999:
#: the far ends of ``datetime``'s range can overflow when moved to UTC).
_TIME = (
    r"^(?P<date>[12][0-9]{3}-[0-9]{2}-[0-9]{2})[T ](?P<hm>(?:[01][0-9]|2[0-3]):[0-5][0-9])"
    r"(?::(?P<s>[0-5][0-9])(?:\.(?P<frac>[0-9]{1,6}))?)?"
    r"(?P<tz>Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_DATE = r"^[12][0-9]{3}-[0-9]{2}-[0-9]{2}$"
_SPACE = r"[ \t\n\r\x0b\x0c]*"
_BOOLEAN = rf"^{_SPACE}(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]){_SPACE}$"
_TRUE = r"[Tt][Rr][Uu][Ee]"
#: A product name must not be blank: one visible ASCII character is enough to be sure.
_VISIBLE = r"[!-~]"
_SCORE_UNITS = ("", "1", "{score}", "{points}")
#: A patient id of the contract (crswatch.timeline._limits).
_PATIENT_ID = rf"^{PATIENT_ID_PATTERN.pattern}$"
#: Free text within the contract's limits: 1-200 characters, no control character.
_TEXT_OK = r"^[^\x00-\x1F\x7F-\x{9F}]{1,200}$"

# Column types the expressions read; any other type sends the whole pair to the Python path.
_TEXT, _NUMBER_TYPE, _TIME_TYPE, _DATE_TYPE, _BOOL_TYPE = "text", "number", "time", "date", "bool"
_PATIENT_TYPES = {
    "id": _TEXT,
    "age_years": _NUMBER_TYPE,
    "birth_date": _DATE_TYPE,
    "weight_kg": _NUMBER_TYPE,
    "height_cm": _NUMBER_TYPE,
    "bsa_m2": _NUMBER_TYPE,
    "sex": _TEXT,
    "high_risk": _BOOL_TYPE,
    "therapy_kind": _TEXT,
    "therapy_product": _TEXT,
    "therapy_start": _TIME_TYPE,
    "response": _TEXT,
    "response_date": _DATE_TYPE,
}
_EVENT_TYPES = {
    "patient_id": _TEXT,
    "time": _TIME_TYPE,
    "item": _TEXT,
    "value": _TEXT,
    "unit": _TEXT,
    "end": _TIME_TYPE,
    "ref_low": _NUMBER_TYPE,
    "ref_high": _NUMBER_TYPE,
    "censored": _TEXT,
    "cause": _TEXT,
    "id": _TEXT,
    "source": _TEXT,
}
assert tuple(_PATIENT_TYPES) == PATIENT_COLUMNS and tuple(_EVENT_TYPES) == EVENT_COLUMNS


@dataclass(slots=True)
class FrameResult:
    """One part read: frames of the accepted records and the ingest report.

    ``patients`` has ``PATIENT_FRAME_SCHEMA`` (input order), ``events`` has
    ``EVENT_FRAME_SCHEMA`` (sorted by patient, time and item), as ``to_frames`` makes them.
    """

    patients: pl.DataFrame
    events: pl.DataFrame
    report: IngestReport
    #: With ``unread_items`` (:func:`read_table_frames`) and when the read left some events
    #: out: ``patient_id``, ``events`` (Int64), every accepted event of each patient with
    #: events counted.  ``None`` when ``events`` holds every accepted event.
    event_counts: pl.DataFrame | None = None


def iter_frames(path: str | Path) -> Iterator[FrameResult]:
    """Frames and report part by part: a table set shard by shard, a JSON or FHIR file at once.

    Tables are read column-wise (:func:`read_table_frames`); JSON and FHIR go through their
    readers and :func:`crswatch.timeline.to_frames`.
    """
    path = Path(path)
    if not path.exists():
        raise TimelineFormatError("no such file or directory", path=str(path))
    if path.is_file() and path.suffix == ".json":
        for part in iter_read(path):
            patients, events = to_frames(part.timelines)
            yield FrameResult(patients, events, part.report)
        return
    for pair in find_table_pairs(path):
        yield read_table_frames(pair)


#: Event rows read and validated at once.  The checks hold some 40 intermediate columns per row
#: (about 0.8 kB a row: 1.3 GB for a shard of 1.4 million events when it was checked whole), so
#: a shard is read and checked in chunks of this many rows and only the frame's columns are kept
#: of each: the reader's peak is the frames it returns (about 62 bytes an event with 5-minute
#: vitals) plus one chunk's checks (~0.1 GB), not a multiple of the shard.  Each chunk costs a
#: few milliseconds of planning (some 60 small Polars steps); 100,000 rows cost 0.05-0.2 s of
#: CPU more per 1.4 million events than 200,000, for ~45 MB less at the peak
#: (docs/decisions/0066-shard-read-in-bounded-memory.md).
CHUNK_EVENTS = 100_000


def read_frames(path: str | Path) -> FrameResult:
    """Every part at ``path`` as one pair of frames with one merged report (``read_path``'s
    frames, without a ``Timeline`` object per patient)."""
    parts = list(iter_frames(path))
    report = IngestReport(source=str(path))
    for part in parts:
        report.merge(part.report)
    if not parts:
        return FrameResult(*to_frames([]), report)
    return FrameResult(
        pl.concat([part.patients for part in parts]),
        pl.concat([part.events for part in parts]),
        report,
    )


def read_table_frames(
    pair: TablePair, *, chunk_events: int | None = None, unread_items: Collection[str] = ()
) -> FrameResult:
    """Read one table pair column-wise: the same frames and report as ``read_table_pair``.

    Events are read and validated ``chunk_events`` rows at a time (default
    :data:`CHUNK_EVENTS`; Parquet of the contract's types is read chunk by chunk, a CSV table
    is read whole, then validated in chunks); the result does not depend on it
    (``tests/io/test_chunked_read.py``).

    ``unread_items``: items whose events the caller reads only at each record's bounds (its
    first and last events, by time and then item), as the cohort kernel reads the vital signs
    no state column reads (``crswatch.state.events_read``).  A table read by the whole-table
    pass then leaves their other events out of ``events``: it keeps every event of any other
    item and, of these, at least each patient's first and last events, and gives every
    accepted event's count per patient in ``event_counts``.  The report is the same; every row
    is checked.  Other reads give every event (``event_counts`` is ``None``).
    """
    if chunk_events is None:
        chunk_events = CHUNK_EVENTS
    if chunk_events < 1:
        raise ValueError(f"chunk_events={chunk_events!r} must be a positive integer")
    tables = _load(pair)
    if tables is None:
        result = read_table_pair(pair)
        patients, events = to_frames(result.timelines)
        return FrameResult(patients, events, result.report)
    unread = frozenset(unread_items)
    read = _ShardReader(pair, *tables, chunk_events=chunk_events, unread_items=unread).read()
    if read is None:
        # A record's first or last event was among those left out (a conflict or the Python
        # path moved it): read again, every event.
        return read_table_frames(pair, chunk_events=chunk_events)
    return read


# ----------------------------------------------------------------------------------- loading


@dataclass(slots=True)
class _Table:
    """One table: its column names, the known columns as Polars, and (on demand) as Arrow.

    A Parquet file of the contract's column types is read by Polars alone: the patients whole,
    the events chunk by chunk (``scan``: the known columns, read ``CHUNK_EVENTS`` rows at a
    time and never held whole).  The Arrow table, whose rows the Python path reads as records,
    is read only if some row needs that path, and then, for events read in chunks, only the
    rows it needs (:meth:`records`).  Any other file is read as Arrow first, as
    ``read_table_pair`` reads it.
    """

    path: Path
    names: list[str]
    rows: int
    known: pl.DataFrame | None = None
    arrow: pa.Table | None = None
    #: The known columns, when Polars reads them from the Parquet file chunk by chunk.
    scan: list[str] | None = None

    def table(self) -> pa.Table:
        if self.arrow is None:
            self.arrow = _read_parquet(self.path)
        return self.arrow

    def frame(self, types: Mapping[str, str]) -> pl.DataFrame:
        """The known columns (absent or all-null ones as null text), with a row number."""
        if self.known is None and self.scan is not None:
            self.known = _read_known(self.path, self.scan)
        if self.known is None:
            self.known = _known(self.table(), types)
        return _complete(self.known, 0, self.rows, types)

    def chunks(self, types: Mapping[str, str], size: int) -> Iterator[pl.DataFrame]:
        """:meth:`frame` in consecutive slices of at most ``size`` rows (one, when empty)."""
        if self.rows == 0:
            yield self.frame(types)
            return
        for offset in range(0, self.rows, size):
            rows = min(size, self.rows - offset)
            yield _complete(self._known_slice(types, offset, rows), offset, rows, types)

    def lazy(self, types: Mapping[str, str]) -> pl.LazyFrame:
        """The known columns of a Parquet file Polars reads, as one scan: :meth:`frame`'s
        columns and row numbers, never held whole."""
        assert self.scan is not None
        scan = pl.scan_parquet(self.path, hive_partitioning=False).select(self.scan)
        schema = scan.collect_schema()
        return scan.with_row_index(_ROW).with_columns(
            *(pl.lit(None, dtype=pl.String).alias(name) for name in types if name not in schema),
            *(pl.col(name).cast(pl.String) for name in schema if schema[name] == pl.Null),
        )

    def _known_slice(self, types: Mapping[str, str], offset: int, length: int) -> pl.DataFrame:
        if self.known is None and self.scan is not None:
            scan = pl.scan_parquet(self.path, hive_partitioning=False).select(self.scan)
            try:
                return scan.slice(offset, length).collect()
            except (pl.exceptions.PolarsError, OSError):
                # What Polars cannot read, Arrow reads or reports (as _read_known does): these
                # rows and the rest come from the Arrow table, converted as pl.from_arrow does.
                self.scan = None
        if self.known is None:
            self.known = _known(self.table(), types)
        return self.known.slice(offset, length)

    def records(self, rows: Sequence[int], size: int) -> list[dict[str, Any]]:
        """Rows ``rows`` (in that order) of the Arrow table as Python values (``to_pylist``).

        Events read in chunks are not read whole as Arrow: the file is read ``size`` rows at a
        time and only the wanted rows are kept, so memory follows the rows asked for.
        """
        if self.arrow is not None or self.scan is None or self.rows <= size:
            return list(self.table().take(pa.array(rows, pa.int64())).to_pylist())
        wanted = np.unique(np.asarray(rows, dtype=np.int64))
        found: dict[int, dict[str, Any]] = {}
        offset = 0
        try:
            with pq.ParquetFile(self.path) as handle:
                for batch in handle.iter_batches(batch_size=size, use_threads=True):
                    end = offset + batch.num_rows
                    here = wanted[(wanted >= offset) & (wanted < end)]
                    if len(here):
                        taken = batch.take(pa.array(here - offset, pa.int64())).to_pylist()
                        found.update(zip(here.tolist(), taken, strict=True))
                    offset = end
        except (pa.ArrowInvalid, OSError) as exc:
            raise TimelineFormatError(
                f"not a readable Parquet file ({exc})", path=str(self.path)
            ) from None
        return [found[row] for row in rows]


def _load(pair: TablePair) -> tuple[_Table, _Table] | None:
    """Both tables, or ``None`` when they are outside the types read column-wise."""
    patients = _read_table(pair.patients, _PATIENT_TYPES)
    events = _read_table(pair.events, _EVENT_TYPES, scan=True)
    if patients is None or events is None:
        return None
    # The same checks, in the same order and words, as read_table_pair's.
    _require_columns(patients, ("id", "therapy_kind", "therapy_start"), pair.patients)
    _require_columns(events, ("patient_id", "time", "item", "value"), pair.events)
    return patients, events


#: Arrow types Polars reads from Parquet exactly as ``pl.from_arrow`` converts them.
_POLARS_READS = (
    pa.string(),
    pa.large_string(),
    pa.float64(),
    pa.int64(),
    pa.bool_(),
    pa.null(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("ms", tz="UTC"),
    pa.timestamp("us"),
    pa.timestamp("ms"),
)


def _read_table(path: Path, types: Mapping[str, str], *, scan: bool = False) -> _Table | None:
    """The table at ``path``, or ``None`` when its types are not read column-wise.

    With ``scan``, a Parquet file Polars reads is only opened here (schema and row count from
    its footer); its rows are read chunk by chunk (:meth:`_Table.chunks`).
    """
    if path.suffix == ".csv":
        arrow = _read_csv(path)
        if arrow is None:
            return None
        table = _Table(path, arrow.schema.names, arrow.num_rows, arrow=arrow)
    else:
        try:
            with pq.ParquetFile(path) as handle:
                schema, rows = handle.schema_arrow, handle.metadata.num_rows
        except (pa.ArrowInvalid, OSError, ValueError):
            schema = None
        if schema is None:
            arrow = _read_parquet(path)  # raises, with read_table's own message
            table = _Table(path, arrow.schema.names, arrow.num_rows, arrow=arrow)
        else:
            table = _Table(path, schema.names, rows)
            if not _readable(schema, types):
                return None
            known = [name for name in schema.names if name in types]
            if known and all(schema.field(name).type in _POLARS_READS for name in known):
                if scan:
                    table.scan = known
                else:
                    table.known = _read_known(path, known)
            else:
                table.arrow = _read_parquet(path)
            return table
    return table if _readable(table.table().schema, types) else None


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TimelineFormatError(f"not a readable Parquet file ({exc})", path=str(path)) from None


def _read_known(path: Path, known: list[str]) -> pl.DataFrame:
    try:
        return pl.read_parquet(path, columns=known)
    except (pl.exceptions.PolarsError, OSError):
        # Whatever Polars cannot read, Arrow reads or reports, as read_table_pair does.
        return _known(_read_parquet(path), dict.fromkeys(known, _TEXT))


#: Characters with a meaning to the csv module beyond "," and "\n" (and NUL, which it refuses).
_CSV_SPECIAL = ('"', "\r", "\x00")


def _read_csv(path: Path) -> pa.Table | None:
    """A CSV table as text columns, as ``csv.DictReader`` reads it; ``None`` if ragged.

    A file without quotes, carriage returns or blank lines, whose lines all have the header's
    number of fields, is split column-wise: that is exactly what the csv module does with it.
    Any other file is read by the csv module itself.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return _read_csv_rows(path)  # raises as read_table_pair does
    if not text or any(mark in text for mark in _CSV_SPECIAL):
        return _read_csv_rows(path)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    header = lines[0].split(",")
    if "" in lines or len(set(header)) != len(header):
        return _read_csv_rows(path)
    body = pl.Series(lines[1:], dtype=pl.String)
    if (
        len(lines[0]) > csv.field_size_limit()
        or (body.str.len_chars() > csv.field_size_limit()).any()
        or (body.str.count_matches(",", literal=True) != len(header) - 1).any()
    ):
        return _read_csv_rows(path)
    fields_of = body.str.split_exact(",", len(header) - 1).struct.unnest()
    # Arrow, not Polars, names the columns: a header may hold any text, the empty name too.
    return pa.table(
        {name: fields_of.to_series(number).to_arrow() for number, name in enumerate(header)}
    )


def _read_csv_rows(path: Path) -> pa.Table | None:
    """A CSV table read row by row with the csv module; ``None`` if ragged."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise TimelineFormatError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    if not rows:
        return pa.table({})
    header, body = rows[0], [row for row in rows[1:] if row]  # DictReader skips blank rows
    if len(set(header)) != len(header) or any(len(row) != len(header) for row in body):
        return None  # DictReader's restkey, restval and last-name-wins cases
    columns = list(zip(*body, strict=True)) if body else [() for _ in header]
    return pa.table(
        {name: pa.array(column, pa.string()) for name, column in zip(header, columns, strict=True)}
    )


def _require_columns(table: _Table, required: Sequence[str], path: Path) -> None:
    if table.rows and (missing := [name for name in required if name not in table.names]):
        if table.scan is not None:
            # read_table_pair reads the file before it looks at the columns: an unreadable
            # file is reported as such first.
            table.frame(dict.fromkeys(table.scan, _TEXT))
        raise TimelineFormatError(f"missing column(s) {missing}", path=str(path))


def _readable(schema: pa.Schema, types: Mapping[str, str]) -> bool:
    """True when every known column has a type the expressions read as Python reads it."""
    names = schema.names
    if len(set(names)) != len(names):
        return False
    for name in names:
        wanted = types.get(name)
        if wanted is None:
            continue
        kind = schema.field(name).type
        if pa.types.is_null(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind):
            continue
        if wanted == _NUMBER_TYPE and (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            continue
        if (
            wanted == _TIME_TYPE
            and pa.types.is_timestamp(kind)
            and kind.unit in ("ms", "us")
            and kind.tz in (None, "UTC")
        ):
            continue
        if wanted == _DATE_TYPE and pa.types.is_date32(kind):
            continue
        if wanted == _BOOL_TYPE and pa.types.is_boolean(kind):
            continue
        return False
    return True


def _known(table: pa.Table, types: Mapping[str, str]) -> pl.DataFrame:
    """The known columns of an Arrow table as Polars."""
    known = [name for name in table.schema.names if name in types]
    if not known:
        return pl.DataFrame()
    frame = pl.from_arrow(table.select(known))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _complete(
    frame: pl.DataFrame, offset: int, rows: int, types: Mapping[str, str]
) -> pl.DataFrame:
    """The known columns of ``rows`` rows with their row numbers (from ``offset``), absent or
    all-null ones as null text."""
    numbers = pl.int_range(offset, offset + rows, dtype=pl.UInt32, eager=True).alias(_ROW)
    frame = frame.with_columns(numbers) if frame.width else numbers.to_frame()
    missing = [
        pl.repeat(None, rows, dtype=pl.String).alias(name)
        for name in types
        if name not in frame.columns
    ]
    nulls = [
        pl.col(name).cast(pl.String) for name in frame.columns if frame.schema[name] == pl.Null
    ]
    return frame.with_columns(*missing, *nulls)


# ------------------------------------------------------------------------------ expressions


def _present(name: str, dtype: pl.DataType) -> pl.Expr:
    """``_present`` of the Python path: not null, and not the empty string."""
    column = pl.col(name)
    if dtype == pl.String:
        return column.is_not_null() & (column != "")
    return column.is_not_null()


def _number(name: str, dtype: pl.DataType) -> pl.Expr:
    """The number in a cell, or null when it is absent or not written in a form vouched for."""
    column = pl.col(name)
    if dtype == pl.String:
        vouched = column.str.contains(_NUMBER) & (column.str.len_bytes() <= _NUMBER_MAX_BYTES)
        return pl.when(vouched).then(column.cast(pl.Float64, strict=False))
    return column.cast(pl.Float64)


def _time(name: str, dtype: pl.DataType) -> pl.Expr:
    """The instant in UTC, or null when absent, naive, or not written in a form vouched for."""
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:  # a naive timestamp: bad_time, from the Python path
            return pl.lit(None, dtype=_UTC)
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    parts = column.str.extract_groups(_TIME)
    part = parts.struct.field
    offset = pl.when(part("tz") == "Z").then(pl.lit("+00:00")).otherwise(part("tz"))
    text = pl.concat_str(
        part("date"),
        pl.lit("T"),
        part("hm"),
        pl.lit(":"),
        part("s").fill_null("00"),
        pl.lit("."),
        part("frac").fill_null("").str.pad_end(6, "0"),
        offset,
    )
    return text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.6f%:z", time_unit="us", strict=False)


def _date(name: str, dtype: pl.DataType) -> pl.Expr:
    """A ``YYYY-MM-DD`` date, or null when absent or not written in a form vouched for."""
    if dtype == pl.Date:
        return pl.col(name)
    column = pl.col(name)
    return (
        pl.when(column.str.contains(_DATE))
        .then(column.str.to_date("%Y-%m-%d", strict=False))
        .otherwise(None)
    )


def _without_negative_zero(number: pl.Expr) -> pl.Expr:
    """``number + 0.0`` as Python computes it (-0.0 becomes 0.0), spelled out: Polars simplifies
    ``number + 0.0`` to ``number``, which kept a -0 text's -0.0 until decision 0072."""
    return pl.when(number == 0.0).then(pl.lit(0.0)).otherwise(number)


def _within(value: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """``_check_bounds`` passes: inclusive, and a missing bound does not bound."""
    return (low.is_null() | (value >= low)) & (high.is_null() | (value <= high))


_POWERS_OF_TEN = np.array([float(10**power) for power in range(23)])


def _round_significant(values: FloatArray) -> FloatArray:
    """``float(f"{v:.12g}")`` for every ``v`` (the rounding of ``Conversion.apply``), bit for bit.

    The 12-digit mantissa is ``rint(|v| * 10**k)``; dividing it by the exact power of ten is
    correctly rounded, as parsing the decimal is.  The product ``|v| * 10**k`` is off by at most
    half an ulp (< 1.3e-4 below 1e12), so where it is within 1e-3 of a rounding tie, or the
    exponent estimate may be off, the value is rounded by Python instead.
    """
    out = values.copy()
    magnitude = np.abs(values)
    fast = np.flatnonzero(np.isfinite(values) & (magnitude >= 1e-10) & (magnitude < 1e21))
    size = magnitude[fast]
    shift = 11 - np.floor(np.log10(size)).astype(np.int64)
    scale = _POWERS_OF_TEN[np.abs(shift)]
    up = shift >= 0
    if up.all():
        scaled = size * scale
        mantissa = np.rint(scaled)
        rounded = mantissa / scale
    else:
        scaled = np.where(up, size * scale, size / scale)
        mantissa = np.rint(scaled)
        rounded = np.where(up, mantissa / scale, mantissa * scale)
    tie = np.abs(scaled - np.floor(scaled) - 0.5) <= 1e-3
    sure = ~tie & (scaled >= 1e11 + 1) & (scaled < 1e12 - 1)
    out[fast] = np.copysign(rounded, values[fast])
    unsure = np.ones(len(values), dtype=bool)
    unsure[fast[sure]] = False
    # Zeros (either sign), infinities and NaN are their own rounding.
    unsure &= (values != 0.0) & np.isfinite(values)
    for index in np.flatnonzero(unsure):
        out[index] = float(f"{values[index]:.12g}")
    return out


#: A decimal number written in at most this many characters has at most 12 significant digits.
_EXACT_TEXT_BYTES = 12
#: Well inside the normal doubles (subnormals lose digits, so the argument below needs this).
_NORMAL_MAGNITUDE = 1e-290


def _rounded(frame: pl.DataFrame, name: str, *, exact: str | None = None) -> pl.Expr:
    """Column ``name`` rounded as ``Conversion.apply`` rounds (nulls stay null).

    Rows where column ``exact`` is true are left as they are, without rounding.  That is the
    same double, bit for bit: a decimal ``d`` of at most 12 significant digits is read as the
    double ``x`` nearest to it, within half an ulp (a relative 1.1e-16 for a normal double),
    while the 12-digit decimals next to ``d`` are at least a relative 1e-12 away; so ``d`` is
    the 12-digit decimal nearest to ``x``, ``f"{x:.12g}"`` writes ``d``, and ``float`` reads it
    back as ``x``.  ``tests/io/test_reader_identity.py`` compares the bits with the reference
    path's on generated texts (decision 0053).
    """
    column = frame[name]
    todo = column.is_not_null()
    if exact is not None:
        todo = todo & ~frame[exact]
    rows = todo.arg_true()
    if rows.is_empty():
        return pl.col(name)
    rounded = _round_significant(column.gather(rows).to_numpy())
    return pl.lit(column.clone().scatter(rows, rounded))


_KIND_CODES = {"quantity": 0, "code": 1, "boolean": 2, "score": 3, "any": 4}


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    """The vocabulary as arrays indexed by item number (``vocabulary()`` order)."""

    names: list[str]
    names_series: pl.Series
    #: Each name's position in the names sorted as text.
    name_ranks: pl.Series
    kinds: pl.Series
    lows: pl.Series
    highs: pl.Series
    #: Every code of any code item, and the allowed (item number, code number) pairs.
    code_values: list[str]
    code_values_series: pl.Series
    code_pairs: list[int]


@cache
def _vocabulary_arrays() -> _Vocabulary:
    specs = list(vocabulary().values())
    code_values = sorted({code for spec in specs for code in spec.values})
    return _Vocabulary(
        names=[spec.name for spec in specs],
        names_series=pl.Series([spec.name for spec in specs], dtype=pl.String),
        name_ranks=pl.Series(
            [sorted(spec.name for spec in specs).index(spec.name) for spec in specs],
            dtype=pl.UInt32,
        ),
        kinds=pl.Series([_KIND_CODES[spec.kind] for spec in specs], dtype=pl.UInt8),
        lows=pl.Series([spec.low for spec in specs], dtype=pl.Float64),
        highs=pl.Series([spec.high for spec in specs], dtype=pl.Float64),
        code_values=code_values,
        code_values_series=pl.Series(code_values, dtype=pl.String),
        code_pairs=[
            number * len(code_values) + code_values.index(code)
            for number, spec in enumerate(specs)
            if spec.kind == "code"
            for code in spec.values
        ],
    )


#: How a conversion scales by body size: not, by weight, per weight, by BSA, per BSA.
_NO_SIZE, _WEIGHT, _PER_WEIGHT, _BSA, _PER_BSA = range(5)


def _conversion_arrays(pairs: Sequence[tuple[str, str]]) -> dict[str, pl.Series]:
    """Per (item, unit) pair, in order: the cached conversion as arrays (``c_ok`` false where
    ``conversion_for`` fails or assumes an annotation: those rows go to the Python path)."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for item, unit in pairs:
        try:
            conversion = conversion_for(item, unit)
        except UnitError:
            conversion = None
        columns["c_ok"].append(conversion is not None and conversion.assumption is None)
        columns["c_unit"].append(conversion.unit if conversion else None)
        columns["c_factor"].append(conversion.factor if conversion else None)
        columns["c_offset"].append(conversion.offset if conversion else None)
        columns["c_identity"].append(conversion.identity if conversion else None)
        size = _NO_SIZE
        if conversion is not None and conversion.body is not None:
            by_weight = conversion.body == "weight"
            if conversion.power == 1:
                size = _WEIGHT if by_weight else _BSA
            else:
                size = _PER_WEIGHT if by_weight else _PER_BSA
        columns["c_size"].append(size)
    dtypes = {
        "c_ok": pl.Boolean,
        "c_unit": pl.String,
        "c_factor": pl.Float64,
        "c_offset": pl.Float64,
        "c_identity": pl.Boolean,
        "c_size": pl.UInt8,
    }
    return {name: pl.Series(name, columns[name], dtype=dtype) for name, dtype in dtypes.items()}


@dataclass(frozen=True, slots=True)
class _Sizes:
    """Per patient row (by position): its id and body size as ``Conversion.apply`` uses it."""

    owner_id: pl.Series
    weight: pl.Series
    bsa: pl.Series
    #: ``size ** -1`` computed by Python, exactly as ``Conversion.apply`` computes it.
    weight_inverse: pl.Series
    bsa_inverse: pl.Series


def _gather(values: pl.Series, index: str) -> pl.Expr:
    return pl.lit(values).gather(pl.col(index))


def _index(column: str, names: Sequence[str] | pl.Series, alias: str) -> pl.Expr:
    """The position of each cell's value in ``names`` (null when it is not there)."""
    if len(names) == 0:
        return pl.lit(None, dtype=pl.UInt32).alias(alias)
    # The physical value of an Enum of the names is the position (a text not among them: null).
    return (
        pl.col(column).cast(pl.Enum(names), strict=False).to_physical().cast(pl.UInt32).alias(alias)
    )


def _index_of(key: pl.Expr, keys: Sequence[int]) -> pl.Expr:
    if not keys:
        return pl.lit(None, dtype=pl.UInt32)
    return key.replace_strict(keys, range(len(keys)), default=None, return_dtype=pl.UInt32)


def _text_ok(name: str) -> pl.Expr:
    """``_parse._text`` passes (a visible ASCII character makes sure it is not blank)."""
    column = pl.col(name)
    return column.str.contains(_VISIBLE) & column.str.contains(_TEXT_OK)


def _in_window(column: pl.Expr, bounds: tuple[datetime, datetime]) -> pl.Expr:
    """The time lies within the contract's plausible window (``TimeWindow.problem`` is None)."""
    return column.is_between(*_window_literals(bounds))


@lru_cache(maxsize=8)
def _window_literals(bounds: tuple[datetime, datetime]) -> tuple[pl.Expr, pl.Expr]:
    # One read's window is used by every chunk; an aware datetime literal costs ~0.3-1 ms.
    return pl.lit(bounds[0]).cast(_UTC), pl.lit(bounds[1]).cast(_UTC)


def _window_bounds() -> tuple[datetime, datetime]:
    window = TimeWindow()
    return window.earliest, datetime.now(UTC) + window.future


def _check_events(
    events: pl.DataFrame, sizes: _Sizes, bounds: tuple[datetime, datetime]
) -> pl.DataFrame:
    """Every check of ``_build_event`` as columns; ``_OK`` where the row is certainly accepted,
    with its values (canonical unit, rounded) in the columns of ``EVENT_FRAME_SCHEMA``.

    Vocabulary, conversions and body sizes are looked up by integer index (gathers from small
    arrays), so the shard's columns are never copied through a join.  Each row is checked on
    its own (``bounds``, the plausible time window, is fixed once per read), so the rows can be
    checked in chunks.
    """
    schema = events.schema
    words = _vocabulary_arrays()
    item, unit, value = pl.col("item"), pl.col("unit"), pl.col("value")

    def present(name: str) -> pl.Expr:
        return _present(name, schema[name])

    units = events["unit"].drop_nulls().unique().sort().to_list()
    indexed = events.with_columns(
        _index("item", words.names, "v_index"),
        _index("unit", units, "u_index"),
        _index("value", words.code_values, "code_index"),
        present("unit").alias("unit_present"),
        ((item == "fio2") & (unit.is_null() | unit.is_in(sorted(_FRACTION_UNITS)))).alias(
            "fraction"
        ),
    ).with_columns(_gather(words.kinds, "v_index").alias("v_kind"))
    kind = pl.col("v_kind")
    quantity = kind == _KIND_CODES["quantity"]
    pair_index = pl.col("v_index").cast(pl.UInt64) * max(len(units), 1) + pl.col("u_index")
    pairs = (
        indexed.select(
            pair_index.alias("pair"),
            "v_index",
            "u_index",
            (quantity & pl.col("unit_present") & ~pl.col("fraction")).alias("wanted"),
        )
        .filter("wanted")
        .unique(["pair"])
        .sort("pair")
        .drop("wanted")
    )
    conversions = _conversion_arrays([(words.names[v], units[u]) for _, v, u in pairs.iter_rows()])

    looked_up = (
        indexed.lazy()
        .with_columns(
            _index_of(pair_index, pairs["pair"].to_list()).alias("c_index"),
            _gather(words.lows, "v_index").alias("v_low"),
            _gather(words.highs, "v_index").alias("v_high"),
            _time("time", schema["time"]).alias("t"),
            _time("end", schema["end"]).alias("end_t"),
            _number("value", schema["value"]).alias("num"),
            pl.when(present("ref_low"))
            .then(_number("ref_low", schema["ref_low"]))
            .alias("ref_low_num"),
            pl.when(present("ref_high"))
            .then(_number("ref_high", schema["ref_high"]))
            .alias("ref_high_num"),
        )
        .with_columns(
            *(_gather(series, "c_index").alias(name) for name, series in conversions.items()),
        )
    )
    size_code = pl.col("c_size")
    size = (
        pl.when(size_code == _WEIGHT)
        .then(_gather(sizes.weight, _POS))
        .when(size_code == _PER_WEIGHT)
        .then(_gather(sizes.weight_inverse, _POS))
        .when(size_code == _BSA)
        .then(_gather(sizes.bsa, _POS))
        .when(size_code == _PER_BSA)
        .then(_gather(sizes.bsa_inverse, _POS))
        .otherwise(1.0)
    )
    body_known = ((size_code == _NO_SIZE) | size.is_not_null()).fill_null(value=False)

    def affine(number: pl.Expr, fraction_offset: float | None) -> pl.Expr:
        """``value * factor + offset``, times ``size ** power``: not yet rounded."""
        general = (number * pl.col("c_factor") + pl.col("c_offset")) * size
        if fraction_offset is None:  # the value of an FiO2 fraction is not rounded
            return pl.when(pl.col("fraction")).then(number * 100.0).otherwise(general)
        return pl.when(pl.col("fraction")).then(number * 100.0 + fraction_offset).otherwise(general)

    frame = looked_up.with_columns(
        body_known.alias("body_known"),
        affine(pl.col("num"), None).alias("value_raw"),
        affine(pl.col("ref_low_num"), 0.0).alias("ref_low_raw"),
        affine(pl.col("ref_high_num"), 0.0).alias("ref_high_raw"),
        # Values the rounding to 12 digits leaves as they are (see _round_significant): an
        # FiO2 fraction (not rounded), and a value in its canonical unit written in at most 12
        # characters, so at most 12 significant digits, of a normal magnitude.
        (
            pl.col("fraction")
            | (
                pl.col("c_identity").fill_null(value=False)
                & (value.str.len_bytes() <= _EXACT_TEXT_BYTES)
                & (
                    (pl.col("num") == 0.0)
                    | pl.col("num").abs().is_between(_NORMAL_MAGNITUDE, 1.0 / _NORMAL_MAGNITUDE)
                )
            )
        )
        .fill_null(value=False)
        .alias("value_exact"),
    ).collect()
    frame = frame.with_columns(
        _rounded(frame, "value_raw", exact="value_exact").alias("value_conv"),
        _rounded(frame, "ref_low_raw").alias("ref_low_conv"),
        _rounded(frame, "ref_high_raw").alias("ref_high_conv"),
    )

    num, low, high = pl.col("num"), pl.col("v_low"), pl.col("v_high")
    converted = pl.col("value_conv")
    quantity_ok = num.is_finite() & (
        pl.when(pl.col("fraction"))
        .then(num.is_between(0.0, 1.0) & _within(num * 100.0, low, high))
        .otherwise(
            pl.col("unit_present")
            & pl.col("c_ok")
            & pl.col("body_known")
            & converted.is_finite()
            & _within(converted, low, high)
        )
    )
    for name in ("ref_low", "ref_high"):
        quantity_ok = quantity_ok & (
            ~present(name)
            | (pl.col(f"{name}_num").is_finite() & pl.col(f"{name}_conv").is_finite())
        )
    is_score, is_code = kind == _KIND_CODES["score"], kind == _KIND_CODES["code"]
    is_boolean, is_any = kind == _KIND_CODES["boolean"], kind == _KIND_CODES["any"]
    not_assessed = value == NOT_ASSESSED
    score_ok = not_assessed | (
        num.is_finite()
        & (num == num.floor())
        & (unit.is_null() | unit.is_in(_SCORE_UNITS))
        & _within(num, low, high)
    )
    code_pair = pl.col("v_index") * len(words.code_values) + pl.col("code_index")
    no_reference = ~present("ref_low") & ~present("ref_high")
    kind_ok = (
        pl.when(quantity)
        .then(quantity_ok)
        .when(is_score)
        .then(score_ok & no_reference)
        .when(is_code)
        .then(code_pair.is_in(words.code_pairs) & no_reference)
        .when(is_boolean)
        .then(value.str.contains(_BOOLEAN) & no_reference)
        .when(is_any)
        .then(num.is_finite() & no_reference)
        .otherwise(pl.lit(value=False))
    )
    end_ok = ~present("end") | (
        pl.col("end_t").is_not_null()
        & (pl.col("end_t") >= pl.col("t"))
        & _in_window(pl.col("end_t"), bounds)
    )
    ordered_reference = (
        ~present("ref_low")
        | ~present("ref_high")
        | (pl.col("ref_low_conv") <= pl.col("ref_high_conv"))
    )
    text_ok = (
        (~present("id") | _text_ok("id"))
        & (~present("source") | _text_ok("source"))
        & (~is_any | ~present("unit") | _text_ok("unit"))
    )
    ok = (
        pl.col("t").is_not_null()
        & _in_window(pl.col("t"), bounds)
        & ordered_reference
        & text_ok
        & kind_ok
        & end_ok
        & (~present("censored") | pl.col("censored").is_in(CENSORING))
        & (~present("cause") | pl.col("cause").is_in(CAUSES))
    )
    return (
        frame.lazy()
        .select(
            pl.col(_POS, _ROW, "v_index", "t"),
            ok.fill_null(value=False).alias(_OK),
            _gather(sizes.owner_id, _POS).alias("patient_id"),
            pl.col("t").alias("time"),
            item,
            pl.when(quantity)
            .then(converted)
            .when(is_score & ~not_assessed)
            .then(_without_negative_zero(num))  # float(int(x)): -0 is 0
            .when(is_any)
            .then(num)
            .alias("value_num"),
            pl.when(is_code)
            .then(value)
            .when(is_score & not_assessed)
            .then(pl.lit(NOT_ASSESSED))
            .alias("value_code"),
            pl.when(is_boolean).then(value.str.contains(_TRUE)).alias("value_bool"),
            pl.when(quantity & pl.col("fraction"))
            .then(pl.lit("%"))
            .when(quantity)
            .then(pl.col("c_unit"))
            .when(is_any & pl.col("unit_present"))
            .then(unit)
            .alias("unit"),
            pl.when(present("end")).then(pl.col("end_t")).alias("end"),
            pl.when(quantity & present("ref_low")).then(pl.col("ref_low_conv")).alias("ref_low"),
            pl.when(quantity & present("ref_high")).then(pl.col("ref_high_conv")).alias("ref_high"),
            pl.when(present("censored")).then(pl.col("censored")).alias("censored"),
            (pl.col("cause").fill_null("") != "other").alias("attributable"),
            pl.when(present("id")).then(pl.col("id")).alias("event_id"),
            pl.when(present("source")).then(pl.col("source")).alias("source"),
            (quantity & (pl.col("fraction") | ~pl.col("c_identity").fill_null(value=True))).alias(
                "changed"
            ),
            unit.alias("unit_as_sent"),
        )
        .collect()
    )


# ----------------------------------------------------------------------------- the fast path
# Nearly every row of a monitored patient's table is a vital sign: a quantity item in its
# canonical unit, a short decimal value, and nothing else (no end, reference range, censoring,
# cause, id or source).  For such a row ``_check_events`` converts by the identity and leaves the
# value unrounded (``value_exact``), so its checks reduce to the instant's window, the value's
# text and the item's bounds.  ``_vouch_plain`` checks those rows with these few expressions and
# sends every other row, and every row it cannot vouch for, to ``_check_events``; the frame rows
# it makes are the ones ``_check_events`` makes (``tests/io/test_plain_rows.py``,
# docs/decisions/0072-shard-reader-at-half-the-cpu.md).  The other rows of a monitored record
# are mostly of three more shapes, vouched for the same way (decision 0080): a score (ICE, CAPD)
# as a whole number without a unit, a code of a coded item (the oxygen device), and a row with
# an end (an infusion); a record of only these shapes needs no full check at all, whose fixed
# cost (~8 ms a call) was a fifth of reading one patient's month.

#: Columns a plain row leaves absent (null); a row with any of them is checked in full.
_PLAIN_ABSENT = ("ref_low", "ref_high", "censored", "cause", "id", "source")
#: The columns kept of each checked row (``_Checked.clean``).
_CLEAN_SCHEMA: dict[str, pl.DataType] = {
    _ROW: pl.UInt32(),
    _POS: pl.UInt32(),
    "v_index": pl.UInt32(),
    "t": _UTC,
    **EVENT_FRAME_SCHEMA,
}


def _plain_unit(item: str, unit: str) -> bool:
    """``unit`` is one of quantity item ``item``'s canonical units, taken as it is.

    ``conversion_for`` returns the identity for a canonical unit without the unit registry; an
    FiO2 written as a fraction is multiplied by 100, so it is not plain.
    """
    spec = vocabulary()[item]
    if spec.kind != "quantity" or unit not in spec.units:
        return False
    if item == "fio2" and unit in _FRACTION_UNITS:
        return False
    conversion = conversion_for(item, unit)
    return conversion.identity and conversion.assumption is None and conversion.unit == unit


@dataclass(frozen=True, slots=True)
class _PlainUnits:
    """Every canonical unit of the vocabulary, and which (item, unit) pairs are plain."""

    units: list[str]
    units_series: pl.Series
    #: ``plain[item number * len(units) + unit number]``.
    plain: pl.Series


@cache
def _plain_units() -> _PlainUnits:
    names = _vocabulary_arrays().names
    units = sorted({unit for spec in vocabulary().values() for unit in spec.units if unit})
    plain = [_plain_unit(item, unit) for item in names for unit in units]
    return _PlainUnits(units, pl.Series(units, dtype=pl.String), pl.Series(plain, dtype=pl.Boolean))


@cache
def _code_allowed() -> pl.Series:
    """``allowed[item number * len(code_values) + code number]``: the code is one of the item's
    (``_check_events``' ``code_pair.is_in(code_pairs)``)."""
    words = _vocabulary_arrays()
    allowed = [False] * (len(words.names) * max(len(words.code_values), 1))
    for pair in words.code_pairs:
        allowed[pair] = True
    return pl.Series(allowed, dtype=pl.Boolean)


def _short_number(dtype: pl.DataType) -> pl.Expr:
    """The number ``_check_events`` reads from column ``value`` when it leaves the number
    unrounded (``value_exact``: at most 12 characters, of a normal magnitude), else null."""
    number = _number("value", dtype)
    exact = (pl.col("value").str.len_bytes() <= _EXACT_TEXT_BYTES) & (
        (number == 0.0) | number.abs().is_between(_NORMAL_MAGNITUDE, 1.0 / _NORMAL_MAGNITUDE)
    )
    return pl.when(exact.fill_null(value=False)).then(number)


def _plain_numbers(values: pl.Series, dtype: pl.DataType) -> tuple[pl.Series, pl.Series]:
    """The distinct texts of ``values`` and, for each, its :func:`_short_number`.

    Texts repeat (a few thousand distinct in 10^5 vital signs), so the regular expression and
    the cast run once per distinct text rather than once per row.
    """
    texts = values.drop_nulls().unique()
    return texts, texts.to_frame("value").select(_short_number(dtype).alias("num")).to_series()


def _vouch_marks(schema: Mapping[str, pl.DataType], *, shapes: bool) -> list[pl.Expr]:
    """The columns :func:`_vouch_verdict` reads, besides the number and the code: the item's and
    the unit's numbers, the instant, whether the columns a plain row leaves absent are, and
    (``shapes``) the end and the unit as written."""
    words, canonical = _vocabulary_arrays(), _plain_units()
    absent = _PLAIN_ABSENT if shapes else (*_PLAIN_ABSENT, "end")
    marks = [
        _index("item", words.names, "v_index"),
        _index("unit", canonical.units, "u_index"),
        _time("time", schema["time"]).alias("t"),
        pl.all_horizontal(pl.col(name).is_null() for name in absent).alias("bare"),
    ]
    if shapes:
        marks += [_time("end", schema["end"]).alias("end_t"), pl.col("unit", "end")]
    return marks


def _vouch_verdict(
    bounds: tuple[datetime, datetime], num: pl.Expr, code_index: pl.Expr, *, shapes: bool
) -> tuple[pl.Expr, list[pl.Expr]]:
    """Over :func:`_vouch_marks`' columns, with the row's :func:`_short_number` ``num`` and
    its code's number ``code_index`` (read only with ``shapes``): the row is vouched for, and
    its columns ``value_num`` and ``unit`` (and ``value_code`` and ``end`` with ``shapes``)."""
    words, canonical = _vocabulary_arrays(), _plain_units()
    # A unit that is no item's canonical unit has no number: its rows are not plain.
    pair = pl.col("v_index") * len(canonical.units) + pl.col("u_index")
    t = pl.col("t")
    within = _within(num, _gather(words.lows, "v_index"), _gather(words.highs, "v_index"))
    quantity_ok = pl.lit(canonical.plain).gather(pair) & num.is_not_null() & within
    value_num = _without_negative_zero(num)  # (value * 1.0 + 0.0) * 1.0 makes a -0 a 0
    unit = _gather(canonical.units_series, "u_index")
    # A plain quantity's code and end are null: left to _clean_chunk, not made a row at a time.
    shaped: list[pl.Expr] = []
    kind_ok, end_ok = quantity_ok, pl.lit(value=True)
    if shapes:
        code_pair = pl.col("v_index") * max(len(words.code_values), 1) + code_index
        kind = _gather(words.kinds, "v_index")
        is_quantity, is_score = kind == _KIND_CODES["quantity"], kind == _KIND_CODES["score"]
        is_code = kind == _KIND_CODES["code"]
        kind_ok = (
            pl.when(is_quantity)
            .then(quantity_ok)
            .when(is_score)
            .then(pl.col("unit").is_null() & num.is_not_null() & (num == num.floor()) & within)
            .when(is_code)
            .then(pl.lit(_code_allowed()).gather(code_pair))
            .otherwise(pl.lit(value=False))
        )
        end = pl.col("end_t")
        end_ok = pl.col("end").is_null() | (
            end.is_not_null() & (end >= t) & _in_window(end, bounds)
        )
        value_num = pl.when(~is_code).then(value_num)
        unit = pl.when(is_quantity).then(unit)
        shaped = [
            pl.when(is_code)
            .then(pl.lit(words.code_values_series).gather(code_index))
            .alias("value_code"),
            end.alias("end"),
        ]
    ok = (pl.col("bare") & kind_ok & end_ok & t.is_not_null() & _in_window(t, bounds)).fill_null(
        value=False
    )
    return ok, [value_num.alias("value_num"), unit.alias("unit"), *shaped]


def _vouch_plain(
    events: pl.DataFrame, bounds: tuple[datetime, datetime], *, shapes: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The plain rows of ``events`` vouched for, and the other rows (all of ``events``'
    columns, in row order), which ``_check_events`` checks.

    The rows vouched for (row order) have their keys, ``value_num``, ``value_code``, ``unit``
    and ``end``: their other columns are null or constant (:func:`_clean_chunk` completes them).
    Plain rows are, as ``_check_events`` checks them (its ``kind_ok``, ``end_ok`` and ``ok``):
    a quantity in one of its canonical units, its value within the item's bounds, written in
    the short form ``_plain_numbers`` vouches for; an instant in the plausible window; no
    reference range, censoring, cause, id, source or end.  With ``shapes`` (for the few rows
    that are not plain, decision 0080, and for every row of a table of one chunk, decision
    0081), also:

    - a score without a unit, a whole number within the item's bounds in that short form (the
      same number as a quantity's: ``float(int(x))`` makes a -0 a 0, as the identity's affine
      map does);
    - a code of a coded item, without a number (a code row's unit is neither checked nor kept);
    - any of these with an end at or after the instant, within the window.

    The shapes cost a few more expressions a row: every row of a chunk is asked only the
    plain quantity's few, and the rest, some per cent of a monitored record, the shapes'.
    """
    schema = events.schema
    if events.is_empty() or schema["value"] != pl.String or schema["item"] != pl.String:
        return _no_plain_rows(), events
    texts, numbers = _plain_numbers(events["value"], schema["value"])
    code_index = pl.lit(None, dtype=pl.UInt32)
    if shapes:
        # Each distinct text's code number (null when it is no item's code), looked up once.
        words = _vocabulary_arrays()
        codes = texts.to_frame("value").select(_index("value", words.code_values, "c"))
        code_index = _gather(codes.to_series(), "text_index")
    ok, columns = _vouch_verdict(bounds, _gather(numbers, "text_index"), code_index, shapes=shapes)
    marked = (
        events.lazy()
        .select(
            pl.col(_ROW, _POS),
            _index("value", texts, "text_index"),
            *_vouch_marks(schema, shapes=shapes),
        )
        .select(pl.col(_ROW, _POS, "v_index", "t"), *columns, ok.alias(_OK))
        .collect()
    )
    vouched = marked.filter(pl.col(_OK)).drop(_OK)
    if vouched.height == events.height:
        return vouched, events.clear()
    return vouched, events.filter(~marked[_OK])


#: The fewest table rows a part of the whole-table read is made of (however small the chunks
#: asked for): a part costs ~1 ms to make, and below some thousand rows its memory is nothing.
_PART_ROWS = 1_000
#: A row's verdict in :func:`_marked_rows`.
_VOUCHED, _OTHER, _OWNER_NOT_VOUCHED, _ORPHAN = range(4)


def _small_index(count: int) -> pl.DataType:
    """The narrowest unsigned integer type that numbers ``count`` things."""
    return pl.UInt8() if count <= 2**8 else pl.UInt16() if count <= 2**16 else pl.UInt32()


def _bound_candidates(
    marked: pl.DataFrame,
    owner: npt.NDArray[np.uint32],
    keep: npt.NDArray[np.bool_],
    unread: frozenset[str],
    patients: int,
) -> npt.NDArray[np.bool_]:
    """The rows a read for ``unread`` items shows: every row of another item, and the rows at
    each patient's first and last instants among the rows ``keep`` marks (``owner``: each
    row's patient position, 0 for none).  Its record's first and last events are among them
    unless a conflict moves them: the read then checks, :func:`_bounds_shown`."""
    words = _vocabulary_arrays()
    unread_codes = np.array([name in unread for name in words.names], dtype=np.bool_)
    instant = marked["t"].dt.epoch("us")
    kept = (
        pl.DataFrame({_POS: marked[_POS], "t": instant})
        .lazy()
        .filter(pl.Series(keep))
        .group_by(_POS)
        .agg(pl.col("t").min().alias("first"), pl.col("t").max().alias("last"))
        .collect(engine="in-memory")
    )
    first = np.full(max(patients, 1), np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(max(patients, 1), np.iinfo(np.int64).min, dtype=np.int64)
    where = kept[_POS].to_numpy()
    first[where], last[where] = kept["first"].to_numpy(), kept["last"].to_numpy()
    at = instant.fill_null(0).to_numpy()
    item = marked["v_index"].fill_null(0).to_numpy()
    shown: npt.NDArray[np.bool_] = ~unread_codes[item] | (at == first[owner]) | (at == last[owner])
    return shown


def _marked_rows(
    scan: pl.LazyFrame,
    schema: Mapping[str, pl.DataType],
    owners: pl.DataFrame,
    bounds: tuple[datetime, datetime],
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Two queries over one pass of ``scan``: each event row's numbers (its owner, as
    :meth:`_ShardReader._assign_owners` finds it, its verdict ``status``, and what the frame
    columns of :func:`_vouch_plain` with ``shapes`` are made from), and the input columns of
    the rows it does not vouch for (``_OTHER`` and ``_ORPHAN``), for the full checks.

    Collected together (``pl.collect_all``), the two share the scan and the marks: the few
    other rows are not read again (a second pass decoded the table's columns once more, ~95 MB
    for a row group of a million rows).  The number and the code are read row by row, not
    once per distinct text: the query streams, and a morsel's texts would be looked up morsel
    by morsel anyway.
    """
    words = _vocabulary_arrays()
    ok, _ = _vouch_verdict(bounds, pl.col("num"), pl.col("c"), shapes=True)
    status = (
        pl.when(pl.col(_POS).is_null())
        .then(pl.lit(_ORPHAN, dtype=pl.UInt8))
        .when(~pl.col("owner_ok"))
        .then(pl.lit(_OWNER_NOT_VOUCHED, dtype=pl.UInt8))
        .when(ok)
        .then(pl.lit(_VOUCHED, dtype=pl.UInt8))
        .otherwise(pl.lit(_OTHER, dtype=pl.UInt8))
    )
    marked = (
        scan.with_columns(pl.col("patient_id").fill_null("None").alias(_KEY))
        .with_columns(
            _index(_KEY, owners[_KEY], "owner_index"),
            _short_number(schema["value"]).alias("num"),
            _index("value", words.code_values, "c"),
            *_vouch_marks(schema, shapes=True),
        )
        .with_columns(
            _gather(owners[_POS], "owner_index").alias(_POS),
            _gather(owners[_OK], "owner_index").alias("owner_ok"),
        )
        .with_columns(status.alias("status"))
    )
    # The row's number is its place (the streaming engine keeps the rows' order; the other
    # rows' numbers check it), and the vocabulary's numbers are a byte each: 32 bytes a row.
    numbers = marked.select(
        pl.col(_POS),
        pl.col("v_index").cast(_small_index(len(words.names))),
        pl.col("u_index").cast(_small_index(len(_plain_units().units))),
        pl.col("c").cast(_small_index(len(words.code_values))),
        pl.col("t", "num", "end_t", "status"),
    )
    others = marked.filter(pl.col("status").is_in([_OTHER, _ORPHAN])).select(list(schema))
    return numbers, others


class _TableParts:
    """The rows a whole-table query keeps, in ``_CLEAN_SCHEMA``, in parts in row order.

    Made from :func:`_marked_rows`' numbers (:meth:`make`): the rows it vouched for with their
    frame columns as its verdict makes them, and the ``_OTHER`` rows ``_check_events``
    accepted with the columns it gave them, written over the verdict's in place.  Each part is
    made from one chunk of the query's rows (as the streaming engine made it, at most ``size``
    rows), and that chunk is let go as soon as its part is made: the query's rows and the
    frame are not held whole at once (decision 0083).
    """

    def __init__(self, bounds: tuple[datetime, datetime], sizes: _Sizes) -> None:
        self.parts: list[pl.DataFrame] = []
        #: With a frame mask (:meth:`make`'s ``wanted``): the keys of every row kept, by part.
        self.keys: list[pl.DataFrame] = []
        #: ``kept_before[n]``: the rows kept among the first ``n`` rows of the table.
        self.kept_before = np.zeros(1, dtype=np.int64)
        _, columns = _vouch_verdict(bounds, pl.col("num"), pl.col("c"), shapes=True)
        vouched = {expression.meta.output_name(): expression for expression in columns}
        made = [name for name in EVENT_FRAME_SCHEMA if name not in ("patient_id", "time", "item")]
        #: The columns a vouched-for row leaves constant: null, or attributable (no cause).
        self.constant = {
            name: pl.lit(value=True)
            if name == "attributable"
            else pl.lit(None, _CLEAN_SCHEMA[name])
            for name in made
            if name not in vouched
        }
        self.made = made
        words = _vocabulary_arrays()
        self.select = [
            pl.col(_ROW, _POS, "v_index", "t"),
            _gather(sizes.owner_id, _POS).alias("patient_id"),
            pl.col("t").alias("time"),
            pl.lit(words.names_series).gather(pl.col("v_index")).alias("item"),
            *(
                vouched[name] if name in vouched else self.constant[name].alias(name)
                for name in made
            ),
        ]

    def make(
        self,
        marked: list[pl.DataFrame],
        keep: npt.NDArray[np.bool_],
        size: int,
        accepted_rows: npt.NDArray[np.int64],
        accepted: pl.DataFrame | None,
        wanted: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """The parts of the rows ``keep`` marks, from ``marked`` (chunks in row order, each
        let go once its part is made), rows ``accepted_rows`` (increasing table rows, among
        them) with the columns ``_check_events`` gave them (``accepted``, in order).

        With ``wanted``, a part holds only the rows kept that it marks, and :attr:`keys` the
        keys of every row kept (the conflicts and the order are found over all of them).
        """
        shown = keep if wanted is None else keep & wanted
        self.kept_before = np.concatenate(([0], np.cumsum(shown)))
        written: set[str] = set()
        if accepted is not None:
            if wanted is not None:
                accepted = accepted.filter(pl.Series(wanted[accepted_rows]))
                accepted_rows = accepted_rows[wanted[accepted_rows]]
            written = self._written(accepted)
        begin = 0
        marked.reverse()
        while marked:
            chunk = marked.pop()
            for offset in range(0, max(chunk.height, 1), size):
                rows = chunk.slice(offset, size).with_columns(
                    pl.int_range(
                        begin, begin + min(size, chunk.height - offset), dtype=pl.UInt32
                    ).alias(_ROW)
                )
                end = begin + rows.height
                if wanted is not None:
                    self.keys.append(
                        rows.lazy()
                        .filter(pl.Series(keep[begin:end]))
                        .select(pl.col(_ROW, _POS, "t"), pl.col("v_index").cast(pl.UInt32))
                        .collect(engine="in-memory")
                    )
                part = (
                    rows.lazy()
                    .filter(pl.Series(shown[begin:end]))
                    .select(self.select)
                    .select(_cast_to(_CLEAN_SCHEMA))
                    .collect(engine="in-memory")
                )
                del rows
                first, last = np.searchsorted(accepted_rows, [begin, end])
                if accepted is not None and first < last:
                    # Keys, patient, item and instant are the query's own (the checks' same
                    # expressions).  The part is let go first, so that each column is its
                    # buffers' only owner and is written in place: scattering into columns a
                    # frame still holds copies each one.
                    landing = self._places(accepted_rows[first:last], begin)
                    values = accepted.slice(int(first), int(last - first))
                    series = part.get_columns()
                    del part
                    for column in series:
                        if column.name in written:
                            column.scatter(landing, values[column.name])
                    part = pl.DataFrame(series)
                self.parts.append(part)
                begin = end
            del chunk

    def _written(self, accepted: pl.DataFrame) -> set[str]:
        """The columns the accepted rows change: the verdict's, and any constant column in
        which an accepted row differs (a constant column stays a scalar Polars does not hold
        row by row: ~23 MB an all-null text column of a shard)."""

        def changed(values: pl.Series) -> bool:
            if values.name == "attributable":
                return not values.fill_null(value=False).all()
            return values.null_count() < values.len()

        return {name for name in self.made if name not in self.constant} | {
            name for name in self.constant if changed(accepted[name])
        }

    def _places(self, rows: npt.NDArray[np.int64], begin: int) -> pl.Series:
        """Each of ``rows``' place in the part beginning at table row ``begin`` (a part holds
        the rows kept, in row order)."""
        return pl.Series(self.kept_before[rows] - self.kept_before[begin], dtype=pl.UInt32)


def _no_plain_rows() -> pl.DataFrame:
    return pl.DataFrame(
        schema={name: _CLEAN_SCHEMA[name] for name in (_ROW, _POS, "v_index", "t", "value_num")}
        | {"unit": pl.String}
    )


def _clean_chunk(plain: pl.DataFrame, checked: pl.DataFrame, sizes: _Sizes) -> pl.DataFrame:
    """The rows vouched for of one chunk in row order, in ``_CLEAN_SCHEMA``: the plain rows
    (:func:`_vouch_plain`) and the rows ``checked`` (``_check_events``'s, in the schema).

    Patient id and item are the same gathers for both (the owner's id, the item's name), so
    they are made after the two are put in row order, and only the other columns are moved.
    (Gathering the checked rows' own columns into place instead, by their row among the
    checked ones, measured slower: 6.6-7.0 ms against 4.7-4.9 ms a chunk.)
    """
    moved = [name for name in _CLEAN_SCHEMA if name not in ("patient_id", "item", "time")]
    plain = plain.with_columns(pl.lit(value=True).alias("attributable"))
    if checked.is_empty():
        rows = plain.with_columns(
            pl.lit(None, dtype=_CLEAN_SCHEMA[name]).alias(name)
            for name in moved
            if name not in plain.columns
        )
    else:
        rows = pl.concat([plain, checked.select(moved)], how="diagonal_relaxed", rechunk=True).sort(
            _ROW
        )
    return rows.select(
        pl.col(_ROW, _POS, "v_index", "t"),
        _gather(sizes.owner_id, _POS).alias("patient_id"),
        pl.col("t").alias("time"),
        pl.lit(_vocabulary_arrays().names_series).gather(pl.col("v_index")).alias("item"),
        *(pl.col(name) for name in EVENT_FRAME_SCHEMA if name in moved),
    ).select(_cast_to(_CLEAN_SCHEMA))


#: What makes two accepted events a conflict: the patient, the item and the instant.
_KEY_COLUMNS = [_POS, "v_index", "t"]


def _same_key_rows(keys: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``keys`` whose (patient, item, instant) another row shares, by row number.

    A 64-bit fingerprint of the key is sorted to find candidates (equal fingerprints), and only
    the candidates are compared on the key itself, so a collision costs nothing but a look.
    """
    fingerprint = (
        pl.col("t").dt.epoch("us").cast(pl.UInt64) * 0x9E3779B97F4A7C15
        + pl.col(_POS).cast(pl.UInt64) * 0xC2B2AE3D27D4EB4F
        + pl.col("v_index").cast(pl.UInt64)
    )
    prints = keys.select(fingerprint).to_series().to_numpy()
    ordered = np.sort(prints)
    shared = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(shared):
        return keys.select(_ROW).clear()
    candidates = keys.filter(pl.Series(np.isin(prints, shared)))
    return candidates.filter(pl.struct(_KEY_COLUMNS).is_duplicated()).select(_ROW).sort(_ROW)


# ------------------------------------------------------------------------------- the reader


@dataclass(slots=True)
class _Fragments:
    """Issues and warnings, each with the place the Python path gives it in its report."""

    issues: list[tuple[tuple[int, int, int], IngestIssue]] = field(default_factory=list)
    warnings: list[tuple[tuple[int, int, int], str]] = field(default_factory=list)

    def add_report(self, position: int, phase: int, report: IngestReport) -> None:
        for number, issue in enumerate(report.issues):
            self.issues.append(((position, phase, number), issue))
        for number, warning in enumerate(report.warnings):
            self.warnings.append(((position, phase, number), warning))


def _accepted_frame() -> pl.DataFrame:
    return pl.DataFrame(schema={_ROW: pl.UInt32, _POS: pl.UInt32, "v_index": pl.UInt32, "t": _UTC})


@dataclass(slots=True)
class _Suspects:
    """What ``build_timeline`` made of the rows the expressions did not vouch for."""

    #: The rows it accepted: row, patient position, item number and instant.
    accepted: pl.DataFrame = field(default_factory=_accepted_frame)
    #: (patient position, row, its timeline, event) of each accepted row not in conflict there.
    events: list[tuple[int, int, Timeline, Event]] = field(default_factory=list)


@dataclass(slots=True)
class _Checked:
    """What is kept of the event rows, checked chunk by chunk (each list in row order)."""

    #: The rows vouched for: row number, patient position, item number, instant, and the
    #: columns of ``EVENT_FRAME_SCHEMA``.
    clean: list[pl.DataFrame] = field(default_factory=list)
    #: (patient position, row) of rows of patients vouched for that the checks did not vouch for.
    suspects: list[pl.DataFrame] = field(default_factory=list)
    #: (patient position, row) of rows of patients not vouched for.
    unvouched: list[pl.DataFrame] = field(default_factory=list)
    #: Per chunk, rows without a patient row: key, count and first row number.
    orphans: list[pl.DataFrame] = field(default_factory=list)
    #: Patient positions with rows vouched for (kept only when the table has extra fields).
    positions: list[pl.DataFrame] = field(default_factory=list)
    #: The keys (row, patient position, item number, instant) of every row vouched for, when
    #: ``clean`` holds only some of them (a read for unread items); else empty.
    keys: list[pl.DataFrame] = field(default_factory=list)


#: Chunks wait at most this many chunks' rows for their other rows' checks: one call of
#: ``_check_events`` per ~3 chunks of a monitored patient's shard (~10 ms each) rather than one
#: per shard, so that the waiting plain rows do not raise the reader's peak (on the issue's
#: shard: 378-386 MB against 396-403 MB when every chunk waited to the end; 384-392 MB before
#: decision 0072; docs/benchmarks.md §11).
_WAITING_CHUNKS = 3


@dataclass(slots=True)
class _Waiting:
    """Chunks whose plain rows are vouched for, waiting for the checks of their other rows."""

    #: Per chunk: its plain rows vouched for (:func:`_vouch_plain`) and the end of its rows.
    plain: list[pl.DataFrame] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    #: The other rows of these chunks (in row order), and how many.
    others: list[pl.DataFrame] = field(default_factory=list)
    others_rows: int = 0
    #: Rows of the waiting chunks, plain and others.
    rows: int = 0

    def add(self, plain: pl.DataFrame, others: pl.DataFrame) -> None:
        end = max(
            # Both are in row order: their last rows are their largest.
            (int(frame[_ROW].item(-1)) + 1 for frame in (plain, others) if not frame.is_empty()),
            default=self.ends[-1] if self.ends else 0,
        )
        self.plain.append(plain)
        self.ends.append(end)
        self.others.append(others)
        self.others_rows += others.height
        self.rows += plain.height + others.height


def _body_sizes(patients: pl.DataFrame) -> _Sizes:
    weight, bsa = patients["weight_kg_value"], patients["bsa_in_use"]
    return _Sizes(
        owner_id=patients["id"],
        weight=weight,
        bsa=bsa,
        weight_inverse=pl.Series([_inverse(size) for size in weight], dtype=pl.Float64),
        bsa_inverse=pl.Series([_inverse(size) for size in bsa], dtype=pl.Float64),
    )


class _ShardReader:
    """One table pair: patients and events validated column-wise, the rest by the Python path.

    Report entries are collected with the place the Python path gives them, ``(patient row,
    phase, n)``: phase 0 for a patient's own and its events' issues in row order, phase 1 for
    its conflicts (and the warning about fields outside the format); orphan rows come last.
    """

    def __init__(
        self,
        pair: TablePair,
        patients: _Table,
        events: _Table,
        *,
        chunk_events: int,
        unread_items: frozenset[str] = frozenset(),
    ) -> None:
        self.pair = pair
        self.chunk_events = chunk_events
        self.unread_items = unread_items
        #: The frame leaves events of ``unread_items`` out (only the whole-table pass does).
        self.filtered = False
        #: With ``filtered``: the rows vouched for and kept, counted by patient position.
        self.kept_counts = np.zeros(0, dtype=np.int64)
        #: With ``filtered``: :func:`_stats` of each frame the Python path made (shown whole).
        self.python_stats: list[pl.DataFrame] = []
        #: With ``filtered``: events counted per ``patient_id`` of the rows vouched for (less
        #: conflicts), and, when conflicts moved rows, :func:`_stats` of the rows vouched for
        #: and of those the frame shows (their first and last events are then compared).
        self.vouched_counts: pl.DataFrame | None = None
        self.bounds_to_check: tuple[pl.DataFrame, pl.DataFrame] | None = None
        self.patient_table = patients
        self.event_table = events
        self.report = IngestReport(source=str(pair.events.parent))
        self.fragments = _Fragments()
        self.event_frames: list[pl.DataFrame] = []
        self.patient_frames: list[pl.DataFrame] = []
        #: Which of ``event_frames`` is already sorted as ``to_frames`` sorts (if any).
        self.sorted_frame: int | None = None
        #: Fields of the events table outside the format (the Python path warns about them).
        self.extra_fields = sorted(set(events.names) - _EVENT_FIELDS - {"patient_id", "shard"})

    # -- records for the Python path, exactly as read_table_pair builds them

    def _patient_records(self, positions: Sequence[int]) -> dict[int, dict[str, Any]]:
        table = self.patient_table.table()
        rows = table.take(pa.array(positions, pa.int64())).to_pylist()
        return {
            position: _patient_record(row) for position, row in zip(positions, rows, strict=True)
        }

    def _event_records(self, rows: Sequence[int]) -> list[dict[str, Any]]:
        records = self.event_table.records(rows, self.chunk_events)
        return [_event_record(record) for record in records]

    # -- reading

    def read(self) -> FrameResult | None:
        patients = self.patient_table.frame(_PATIENT_TYPES)
        self.report.patients_read = patients.height
        self.report.events_read = self.event_table.rows
        patients = self._check_patients(patients)
        checked = self._check_table(patients) if self._whole_table() else None
        if checked is None:
            checked = self._check_chunks(patients)
        self._report_orphans(checked.orphans, patients.height)
        self._read_unvouched_patients(checked.unvouched, patients)
        self._read_events(checked, patients)
        return self._result()

    def _whole_table(self) -> bool:
        """A Parquet table Polars reads, of more than one chunk, is checked in one streaming
        query (:meth:`_check_table`); a table of one chunk, a CSV table and a table read as
        Arrow, chunk by chunk (:meth:`_check_chunks`)."""
        return self.event_table.scan is not None and self.event_table.rows > self.chunk_events

    def _check_table(self, patients: pl.DataFrame) -> _Checked | None:
        """Every event row of a Parquet table in one streaming query, as :meth:`_check_chunks`
        checks them chunk by chunk; ``None`` when Polars cannot read the file (the chunks then
        read it as Arrow, or report it as ``read_table_pair`` does).

        The query gives each row its owner and its verdict, and what the frame columns of the
        rows it vouches for (with every shape of :func:`_vouch_plain`) are made of.  It runs on
        Polars' streaming engine, morsel by morsel, so the ~40 intermediate columns of the
        checks are never held for the whole table (decision 0066's bound, without its ~15
        small plans a shard).  The few rows it does not vouch for (and rows of unknown
        patients) come out of the same scan with their input columns and go through
        :func:`_check_events`, as the waiting rows of the chunks do; the frame is then made
        part by part (:class:`_TableParts`, decision 0083).
        """
        table = self.event_table
        scan = table.lazy(_EVENT_TYPES)
        schema = scan.collect_schema()
        if schema["value"] != pl.String or schema["item"] != pl.String:
            return None  # no row is vouched for (as _vouch_plain): the chunks check them all
        owners = patients.filter(pl.col("owner")).select(_KEY, _POS, _OK)
        bounds = _window_bounds()
        try:
            numbers, others_query = _marked_rows(scan, schema, owners, bounds)
            marked, rows = pl.collect_all([numbers, others_query], engine="streaming")
        except (pl.exceptions.PolarsError, OSError):
            table.scan = None
            return None
        del numbers, others_query
        codes = marked["status"].to_numpy()
        again = np.flatnonzero((codes == _OTHER) | (codes == _ORPHAN))
        if marked.height != table.rows or not np.array_equal(rows[_ROW].to_numpy(), again):
            # The rows are numbered by their place: out of order (the engine keeps it), the
            # chunks read them instead.
            return None
        checked = _Checked()
        unvouched = np.flatnonzero(codes == _OWNER_NOT_VOUCHED)
        checked.unvouched.append(
            pl.DataFrame(
                {
                    _POS: marked[_POS].gather(unvouched),
                    _ROW: pl.Series(unvouched, dtype=pl.UInt32),
                }
            )
        )
        other_rows = np.flatnonzero(codes == _OTHER)
        keep = (codes == _VOUCHED) | (codes == _OTHER)
        del codes, again
        sizes = _body_sizes(patients)
        others = self._assign_owners(rows, owners, checked)
        del rows
        accepted_rows, accepted = other_rows[:0], None
        if others.is_empty():
            checked.suspects.append(others.select(_POS, _ROW))
        else:
            result = _check_events(others, sizes, bounds)
            del others
            checked.suspects.append(result.filter(~pl.col(_OK)).select(_POS, _ROW))
            ok = result[_OK].to_numpy()
            keep[other_rows[~ok]] = False
            accepted_rows = other_rows[ok]
            accepted = result.filter(pl.col(_OK))
            del result
            self._count_conversions(accepted)
            accepted = accepted.select(_cast_to(_CLEAN_SCHEMA))
        wanted = None
        if self.unread_items:
            owner = marked[_POS].fill_null(0).to_numpy()
            wanted = _bound_candidates(marked, owner, keep, self.unread_items, patients.height)
            self.kept_counts = np.bincount(owner[keep], minlength=patients.height)
            self.filtered = True
        parts = _TableParts(bounds, sizes)
        # The query's rows, chunk by chunk as the engine made them (a chunk of each column
        # holds the same rows), each let go once its part is made.
        edges = np.cumsum([0, *marked["status"].chunk_lengths()]).tolist()
        chunks = [marked.slice(begin, end - begin) for begin, end in itertools.pairwise(edges)]
        del marked
        size = max(self.chunk_events, _PART_ROWS)
        parts.make(chunks, keep, size, accepted_rows, accepted, wanted)
        del accepted
        checked.clean = parts.parts
        checked.keys = parts.keys
        if self.extra_fields:
            for keys in parts.keys or parts.parts:
                checked.positions.append(keys.select(pl.col(_POS).unique()))
        return checked

    def _check_chunks(self, patients: pl.DataFrame) -> _Checked:
        """Every event row, ``chunk_events`` at a time: its owner, and the checks of the rows of
        patients vouched for.  Only what the rest of the read needs is kept of each chunk: the
        rows vouched for in the frame's columns (with their keys), and the row numbers of the
        others; the input columns and the checks' intermediate columns are dropped.

        The plain rows of a chunk are vouched for at once (:func:`_vouch_plain`); the others
        (a few per cent of a monitored patient's rows) wait, with the plain rows of their
        chunks, until ``chunk_events`` of them are gathered, ``_WAITING_CHUNKS`` chunks' rows
        wait, or the table ends, and are then checked together: ``_check_events`` costs some
        milliseconds a call whatever the rows, so one call per few chunks, not one per chunk.
        """
        owners = patients.filter(pl.col("owner")).select(_KEY, _POS, _OK)
        sizes = _body_sizes(patients)
        bounds = _window_bounds()
        checked = _Checked()
        waiting = _Waiting()
        # A table of one chunk (a patient's record at the bedside) is asked the shapes in its
        # one pass: over up to a chunk of rows they cost less than the second pass's fixed cost
        # (60,815 rows: 7.5 ms in one pass against 7.0 + 3.3 ms in two).  Over the chunks of a
        # cohort shard they cost ~40 % more a chunk, and the second pass runs once per few
        # chunks (decision 0081).
        shapes = self.event_table.rows <= self.chunk_events
        for chunk in self.event_table.chunks(_EVENT_TYPES, self.chunk_events):
            events = self._assign_owners(chunk, owners, checked)
            del chunk
            checked.unvouched.append(events.filter(~pl.col(_OK)).select(_POS, _ROW))
            plain, others = _vouch_plain(events.filter(pl.col(_OK)), bounds, shapes=shapes)
            del events
            waiting.add(plain, others)
            del plain, others
            if (
                waiting.others_rows >= self.chunk_events
                or waiting.rows >= _WAITING_CHUNKS * self.chunk_events
            ):
                self._check_waiting(waiting, sizes, bounds, checked)
        self._check_waiting(waiting, sizes, bounds, checked)
        return checked

    def _check_waiting(
        self, waiting: _Waiting, sizes: _Sizes, bounds: tuple[datetime, datetime], checked: _Checked
    ) -> None:
        """The waiting other rows checked in full, and each waiting chunk's rows vouched for
        (plain and checked, in row order) added to ``checked.clean``."""
        if not waiting.plain:
            return  # the last chunk's rows were checked with it
        others = pl.concat(waiting.others) if waiting.others else None
        waiting.others.clear()
        waiting.others_rows = waiting.rows = 0
        if others is None or others.is_empty():
            clean = pl.DataFrame(schema=_CLEAN_SCHEMA)
            if others is not None:
                checked.suspects.append(others.select(_POS, _ROW))
        else:
            # Scores, codes and rows with an end are vouched for as plain rows are, when that
            # may spare the full checks (~8 ms a call whatever the rows): when no row has a
            # column that only they check (decision 0080).  Otherwise the short path would cost
            # its own fixed ~10 ms beside them (a shard with lab reference ranges: 15 % more).
            clean = pl.DataFrame(schema=_CLEAN_SCHEMA)
            bare = pl.all_horizontal(pl.col(name).is_null() for name in _PLAIN_ABSENT)
            if others.select(bare.all()).item():
                shaped, others = _vouch_plain(others, bounds, shapes=True)
                clean = _clean_chunk(shaped, clean, sizes)
                del shaped
            if others.is_empty():
                checked.suspects.append(others.select(_POS, _ROW))  # none, in the schema
            else:
                rows = _check_events(others, sizes, bounds)
                del others
                checked.suspects.append(rows.filter(~pl.col(_OK)).select(_POS, _ROW))
                full = rows.filter(pl.col(_OK))
                del rows
                self._count_conversions(full)
                full = full.select(_cast_to(_CLEAN_SCHEMA))
                clean = pl.concat([clean, full]).sort(_ROW) if clean.height else full
        # The checked rows are in row order: each chunk's are those before its end.
        ends = np.searchsorted(clean[_ROW].to_numpy(), waiting.ends)
        starts = [0, *ends[:-1].tolist()]
        # Each waiting chunk's plain rows are let go as soon as its frame rows are made, so the
        # waiting chunks (~44 bytes a row) and the frame rows (~80) never add up to more than
        # the frame rows alone: the waiting costs no memory beyond one chunk.
        waiting.plain.reverse()
        for start, end in zip(starts, ends.tolist(), strict=True):
            rows = _clean_chunk(waiting.plain.pop(), clean.slice(start, end - start), sizes)
            if self.extra_fields:
                checked.positions.append(rows.select(pl.col(_POS).unique()))
            checked.clean.append(rows)
        waiting.ends.clear()

    def _check_patients(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Patient rows: key, duplicate, owner of their events, vouched for, and frame values."""
        schema = frame.schema

        def present(name: str) -> pl.Expr:
            return _present(name, schema[name])

        def number(name: str) -> pl.Expr:
            return pl.when(present(name)).then(_number(name, schema[name]))

        checks = [
            present("id") & pl.col("id").str.contains(_PATIENT_ID),
            _in_window(pl.col("therapy_start_value"), _window_bounds()),
            ~present("therapy_product") | _text_ok("therapy_product"),
            ~present("birth_date") | pl.col("birth_date_value").is_not_null(),
            ~present("sex") | pl.col("sex").is_in(SEXES),
            ~present("high_risk") | pl.col("high_risk_value").is_not_null(),
            present("therapy_kind") & pl.col("therapy_kind").is_in(THERAPY_KINDS),
            pl.col("therapy_start_value").is_not_null(),
            ~present("therapy_product") | pl.col("therapy_product").str.contains(_VISIBLE),
            ~present("response") | pl.col("response").is_in(RESPONSES),
            # A response_date needs a valid date and a response (_parse._response).
            ~present("response_date")
            | (pl.col("response_date_value").is_not_null() & present("response")),
        ]
        for name, (low, high, _) in _PATIENT_BOUNDS.items():
            value = pl.col(f"{name}_value")
            checks.append(~present(name) | (value.is_finite() & value.is_between(low, high)))

        if schema["high_risk"] == pl.Boolean:
            high_risk = pl.col("high_risk")
        else:
            high_risk = (
                pl.when(pl.col("high_risk").str.contains(_BOOLEAN))
                .then(pl.col("high_risk").str.contains(_TRUE))
                .otherwise(None)
            )
        weight, height, given = (
            pl.col(f"{name}_value") for name in ("weight_kg", "height_cm", "bsa_m2")
        )
        frame = frame.with_columns(
            birth_date_value=_date("birth_date", schema["birth_date"]),
            response_date_value=_date("response_date", schema["response_date"]),
            high_risk_value=high_risk,
            therapy_start_value=_time("therapy_start", schema["therapy_start"]),
            **{f"{name}_value": number(name) for name in _PATIENT_BOUNDS},
        )
        key = pl.when(present("id")).then(pl.col("id")).otherwise(pl.lit("None"))
        return frame.with_columns(
            pl.col(_ROW).alias(_POS),
            key.alias(_KEY),
            (present("id") & ~pl.col("id").is_first_distinct()).alias("duplicate"),
            key.is_first_distinct().alias("owner"),
            pl.all_horizontal(checks).fill_null(value=False).alias(_OK),
            # Patient.bsa_m2: as given, else Mosteller sqrt(height_cm * weight_kg / 3600).
            pl.when(given.is_not_null())
            .then(given)
            .otherwise((height * weight / 3600.0).sqrt())
            .alias("bsa_in_use"),
        ).with_columns((pl.col(_OK) & ~pl.col("duplicate")).alias(_OK))

    @staticmethod
    def _assign_owners(
        events: pl.DataFrame, owners: pl.DataFrame, checked: _Checked
    ) -> pl.DataFrame:
        """Each event row with the patient row that reads it (the first with its key), if any.

        As in ``read_table_pair``: events are grouped by ``str(patient_id)``, so a missing
        patient id is the key ``'None'``; rows whose key no patient row has are counted in
        ``checked.orphans`` (by key, in order of appearance) and dropped.
        """
        # The owners' keys are distinct: the owner of a row is the position of its key among
        # them (an Enum cast, cheaper than a join that keeps the rows' order).
        events = events.with_columns(pl.col("patient_id").fill_null("None").alias(_KEY))
        events = events.with_columns(_index(_KEY, owners[_KEY], "owner_index")).select(
            pl.exclude("owner_index"),
            pl.lit(owners[_POS]).gather(pl.col("owner_index")).alias(_POS),
            pl.lit(owners[_OK]).gather(pl.col("owner_index")).alias(_OK),
        )
        stray = events[_POS].has_nulls()
        checked.orphans.append(
            (events.filter(pl.col(_POS).is_null()) if stray else events.clear())
            .group_by(_KEY, maintain_order=True)
            .agg(pl.len().alias("count"), pl.col(_ROW).first().alias("first"))
        )
        return events.filter(pl.col(_POS).is_not_null()) if stray else events

    def _report_orphans(self, parts: list[pl.DataFrame], base: int) -> None:
        """Rows whose key no patient row has: one issue per key, after every patient's."""
        # Chunks are in row order, so a key's first chunk holds its first row, and keys keep
        # the order in which they first appear in the table.
        orphans = (
            pl.concat(parts)
            .group_by(_KEY, maintain_order=True)
            .agg(pl.col("count").sum(), pl.col("first").first())
        )
        for number, (orphan, count, first) in enumerate(orphans.iter_rows()):
            issue = IngestIssue(
                "bad_patient",
                orphan,
                "patient_id",
                orphan,
                f"{count} event row(s) name a patient with no row in {self.pair.patients.name}",
                event_index=first,
            )
            self.fragments.issues.append(((base + number, 0, 0), issue))
            self.report.events_rejected += count

    def _read_unvouched_patients(self, owned: list[pl.DataFrame], patients: pl.DataFrame) -> None:
        """Duplicates, and every patient row not vouched for, with its events: the Python path."""
        for position, patient_id in patients.filter("duplicate").select(_POS, "id").iter_rows():
            issue = IngestIssue(
                "bad_patient", patient_id, "id", patient_id, "duplicate patient row"
            )
            self.fragments.issues.append(((position, 0, 0), issue))
            self.report.patients_rejected += 1
        unvouched = patients.filter(~pl.col(_OK) & ~pl.col("duplicate"))[_POS].to_list()
        if not unvouched:
            return
        records = self._patient_records(unvouched)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for position, row in pl.concat(owned).iter_rows():
            rows_of[position].append(row)
        raws = iter(self._event_records([row for p in unvouched for row in rows_of[p]]))
        timelines: list[tuple[int, Timeline]] = []
        for position in unvouched:
            rows = rows_of[position]
            scratch = IngestReport()
            timeline = build_timeline(
                records[position],
                [next(raws) for _ in rows],
                scratch,
                from_text=True,
                positions=rows,
            )
            self._count(scratch)
            self.fragments.add_report(position, 0, scratch)
            if timeline is not None:
                timelines.append((position, timeline))
        self._add_python_frames(timelines)

    def _count(self, scratch: IngestReport, *, with_outcomes: bool = True) -> None:
        report = self.report
        if with_outcomes:
            report.patients_rejected += scratch.patients_rejected
            report.events_rejected += scratch.events_rejected
        report.events_converted += scratch.events_converted
        report.conversions.update(scratch.conversions)
        report.unknown_items.update(scratch.unknown_items)

    def _add_python_frames(
        self, timelines: Sequence[tuple[int, Timeline]], *, with_patients: bool = True
    ) -> None:
        if not timelines:
            return
        patients, events = to_frames(timeline for _, timeline in timelines)
        self.event_frames.append(events)  # shown whole: a few rows of a shard
        if self.filtered:
            self.python_stats.append(_frame_stats(events))
        if with_patients:
            positions = pl.Series(_POS, [position for position, _ in timelines], dtype=pl.UInt32)
            self.patient_frames.append(patients.with_columns(positions))

    # -- events of the patients vouched for

    def _read_events(self, checked: _Checked, patients: pl.DataFrame) -> None:
        """The events of the patients vouched for: the rows vouched for, less conflicts, and
        what the Python path makes of the others."""
        vouched = patients.filter(pl.col(_OK))
        self.patient_frames.append(self._patient_frame(vouched))
        suspects = self._read_suspects(pl.concat(checked.suspects))
        parts = checked.clean
        # The conflicts and the order are found over every row vouched for (``keys``, when
        # the frame shows only some of them: it is then in order if they all are).
        keys = checked.keys or parts
        order = _frame_order(vouched, patients.height)
        ordered = _strictly_ordered(keys, order)
        conflicts = self._report_conflicts(keys, suspects.accepted, ordered=ordered)
        self._warn_extra_fields(checked.positions, suspects.accepted, vouched)
        if not conflicts.is_empty():
            # Chunk by chunk, so that only one chunk is ever copied at a time.
            for number, part in enumerate(parts):
                parts[number] = part.join(conflicts, on=_ROW, how="anti", maintain_order="left")
            # Rows in order stay in order; rows that were not may be, without their conflicts.
            ordered = ordered or _strictly_ordered(parts, order)
        if self.filtered:
            self._count_vouched(checked, conflicts, vouched)
        self.event_frames.append(_in_frame_order(parts, order, ordered=ordered))
        self.sorted_frame = len(self.event_frames) - 1
        rejected = set(conflicts[_ROW].to_list())
        kept: dict[int, list[Event]] = defaultdict(list)
        timeline_of: dict[int, Timeline] = {}
        for position, row, timeline, event in suspects.events:
            if row not in rejected:
                kept[position].append(event)
                timeline_of[position] = timeline
        self._add_python_frames(
            [
                (position, Timeline(timeline_of[position].patient, tuple(found)))
                for position, found in kept.items()
            ],
            with_patients=False,
        )

    def _read_suspects(self, suspects: pl.DataFrame) -> _Suspects:
        """Rows the expressions did not vouch for, through ``build_timeline`` patient by patient.

        Issues other than conflicts are kept as they are; the rows it accepts (with item and
        instant) go on to the conflict check with the other accepted rows of their patient.
        """
        result = _Suspects()
        if suspects.is_empty():
            return result
        rows_of: dict[int, list[int]] = defaultdict(list)
        for position, row in suspects.iter_rows():
            rows_of[position].append(row)
        records = self._patient_records(list(rows_of))
        # Only the format's fields: the Python path warns about others once per patient, here too.
        raws = iter(
            {key: value for key, value in raw.items() if key in _EVENT_FIELDS}
            for raw in self._event_records([row for rows in rows_of.values() for row in rows])
        )
        accepted: dict[str, list[Any]] = defaultdict(list)
        index_of = {name: number for number, name in enumerate(vocabulary())}
        for position, rows in rows_of.items():
            scratch = IngestReport()
            raw_events = [next(raws) for _ in rows]
            timeline = build_timeline(
                records[position], raw_events, scratch, from_text=True, positions=rows
            )
            self._count(scratch, with_outcomes=False)
            refused = set()
            for number, issue in enumerate(scratch.issues):
                if issue.kind == "conflict":
                    continue  # reported below, against every accepted row of the patient
                refused.add(issue.event_index)
                self.fragments.issues.append(((position, 0, number), issue))
            self.report.events_rejected += len(refused)
            for number, warning in enumerate(scratch.warnings):
                self.fragments.warnings.append(((position, 0, number), warning))
            assert timeline is not None  # the patient row was vouched for
            events = {(event.item, event.time): event for event in timeline.events}
            for row, raw in zip(rows, raw_events, strict=True):
                if row in refused:
                    continue
                instant = parse_time(raw["time"])
                accepted[_ROW].append(row)
                accepted[_POS].append(position)
                accepted["v_index"].append(index_of[raw["item"]])
                accepted["t"].append(instant)
                event = events.get((raw["item"], instant))
                if event is not None:
                    result.events.append((position, row, timeline, event))
        result.accepted = pl.DataFrame(accepted, schema=_accepted_frame().schema)
        return result

    def _report_conflicts(
        self, parts: Sequence[pl.DataFrame], accepted: pl.DataFrame, *, ordered: bool
    ) -> pl.DataFrame:
        """Rows of one patient, item and instant, reported by ``build_timeline`` as conflicts.

        ``parts``: the rows vouched for, with their row, patient position, item number and
        instant; ``ordered``: they are in strictly increasing order of (patient, time, item), so
        no two of them share a key, and only those that share one with a row ``accepted`` by
        the Python path can be in a conflict.
        """
        if ordered and accepted.is_empty():
            # No two rows vouched for share a key and there is no other row: no conflict.
            return accepted.select(_ROW)
        chosen = [part.select(_ROW, *_KEY_COLUMNS) for part in parts]
        if ordered:
            shared = accepted.select(_KEY_COLUMNS).unique()
            chosen = [keys.join(shared, on=_KEY_COLUMNS, how="semi") for keys in chosen]
        keys = pl.concat(chosen)
        members = _same_key_rows(pl.concat([keys, accepted]))
        if members.is_empty():
            return members
        rows_of: dict[int, list[int]] = defaultdict(list)
        positions = pl.concat([keys.select(_ROW, _POS), accepted.select(_ROW, _POS)])
        for row, position in members.join(positions, on=_ROW).sort(_ROW).iter_rows():
            rows_of[position].append(row)
        records = self._patient_records(list(rows_of))
        raws = iter(self._event_records([row for rows in rows_of.values() for row in rows]))
        for position, rows in rows_of.items():
            scratch = IngestReport()
            build_timeline(
                records[position],
                [next(raws) for _ in rows],
                scratch,
                from_text=True,
                positions=rows,
            )
            for number, issue in enumerate(scratch.issues):
                self.fragments.issues.append(((position, 1, number), issue))
        self.report.events_rejected += members.height
        return members

    def _count_conversions(self, clean: pl.DataFrame) -> None:
        """Conversions of the rows vouched for (conflicts included, as the Python path counts)."""
        changed = clean.filter(pl.col("changed"))
        self.report.events_converted += changed.height
        for item, sent, unit, count in (
            changed.group_by("item", "unit_as_sent", "unit").len().iter_rows()
        ):
            self.report.conversions[f"{item}: {sent or '(none)'} -> {unit}"] += count

    def _warn_extra_fields(
        self, positions: list[pl.DataFrame], accepted: pl.DataFrame, vouched: pl.DataFrame
    ) -> None:
        """The warning about fields outside the format, once per patient with events."""
        if not self.extra_fields:
            return
        with_events = (
            pl.concat([*positions, accepted.select(_POS)])
            .unique()
            .join(vouched.select(_POS, "id"), on=_POS)
            .sort(_POS)
        )
        for position, patient_id in with_events.iter_rows():
            notes = (unknown_field_note(name, _EVENT_FIELDS) for name in self.extra_fields)
            warning = (
                f"patient={patient_id!r}: fields not in crswatch.timeline/1 were ignored: "
                + "; ".join(notes)
            )
            self.fragments.warnings.append(((position, 1, 0), warning))

    def _patient_frame(self, vouched: pl.DataFrame) -> pl.DataFrame:
        present_product = _present("therapy_product", vouched.schema["therapy_product"])
        present_sex = _present("sex", vouched.schema["sex"])
        present_response = _present("response", vouched.schema["response"])
        return vouched.select(
            pl.col("id").alias("patient_id"),
            pl.col("age_years_value").alias("age_years"),
            pl.col("birth_date_value").alias("birth_date"),
            pl.col("weight_kg_value").alias("weight_kg"),
            pl.col("height_cm_value").alias("height_cm"),
            pl.col("bsa_in_use").alias("bsa_m2"),
            pl.when(present_sex).then(pl.col("sex")).alias("sex"),
            pl.col("high_risk_value").alias("high_risk"),
            pl.col("therapy_kind"),
            pl.when(present_product).then(pl.col("therapy_product")).alias("therapy_product"),
            pl.col("therapy_start_value").alias("therapy_start"),
            pl.when(present_response).then(pl.col("response")).alias("response"),
            pl.col("response_date_value").alias("response_date"),
            pl.col(_POS),
        ).with_columns(_cast_to(PATIENT_FRAME_SCHEMA))

    def _result(self) -> FrameResult | None:
        report = self.report
        report.events_accepted = report.events_read - report.events_rejected
        report.issues = [issue for _, issue in sorted(self.fragments.issues, key=_place)]
        report.warnings = [warning for _, warning in sorted(self.fragments.warnings, key=_place)]
        patients = (
            pl.concat(self.patient_frames).sort(_POS).drop(_POS)
            if self.patient_frames
            else pl.DataFrame(schema=PATIENT_FRAME_SCHEMA)
        )
        if len(self.event_frames) == 1 and self.sorted_frame == 0:
            events = self.event_frames[0]  # the rows vouched for alone, already in order
        elif self.event_frames:
            events = pl.concat(self.event_frames).sort(
                "patient_id", "time", "item", maintain_order=True
            )
        else:
            events = pl.DataFrame(schema=EVENT_FRAME_SCHEMA)
        if not self.filtered:
            return FrameResult(patients, events, report)
        if self.bounds_to_check is not None and not _bounds_shown(
            *self.bounds_to_check, self.python_stats
        ):
            return None
        assert self.vouched_counts is not None
        counts = (
            pl.concat(
                [
                    self.vouched_counts,
                    *(s.select(self.vouched_counts.columns) for s in self.python_stats),
                ]
            )
            .group_by("patient_id")
            .agg(pl.col("events").sum())
            .sort("patient_id")
        )
        return FrameResult(patients, events, report, event_counts=counts)

    def _count_vouched(
        self, checked: _Checked, conflicts: pl.DataFrame, vouched: pl.DataFrame
    ) -> None:
        """A read for unread items: the rows vouched for counted by patient, less conflicts.

        Only a conflict can move a record's first or last event out of the instants the frame
        shows (:func:`_bound_candidates` takes them over every row vouched for; the Python
        path's rows are shown whole): with conflicts, the rows vouched for and the rows shown
        are summed up for :func:`_bounds_shown` to compare.
        """
        counts = self.kept_counts.copy()
        if not conflicts.is_empty():
            keys = pl.concat(checked.keys)
            moved = keys.join(conflicts, on=_ROW, how="semi")[_POS].to_numpy()
            np.subtract.at(counts, moved, 1)
            self.bounds_to_check = (
                _vouched_stats(checked.keys, conflicts, vouched),
                _vouched_stats(checked.clean, conflicts, vouched),
            )
        ids = vouched.select(_POS, pl.col("id").alias("patient_id"))
        self.vouched_counts = (
            ids.with_columns(
                pl.Series("events", counts[ids[_POS].to_numpy()] if len(counts) else [], pl.Int64)
            )
            .filter(pl.col("events") > 0)
            .select("patient_id", "events")
        )


# ------------------------------------------------------------- a read for unread items


def _event_key(instant: pl.Expr, item_number: pl.Expr) -> pl.Expr:
    """One integer that orders events of a patient as the frame does: instant, then item.

    Instants of the contract's window (years 1000-2999) are within ±3.3e16 µs of the epoch, so
    ``instant * items + item rank`` stays inside 64 bits for fewer than 280 items.
    """
    words = _vocabulary_arrays()
    assert len(words.names) < 280
    rank = pl.lit(words.name_ranks).gather(item_number).cast(pl.Int64)
    return instant.dt.epoch("us") * len(words.names) + rank


#: :func:`_stats`' columns.
_STATS_SCHEMA = {"patient_id": pl.String, "events": pl.Int64, "first": pl.Int64, "last": pl.Int64}


def _stats(frame: pl.LazyFrame, by: str = "patient_id") -> pl.DataFrame:
    """Per ``by``: events counted, and the smallest and largest ``key``."""
    return (
        frame.group_by(by)
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            pl.col("key").min().alias("first"),
            pl.col("key").max().alias("last"),
        )
        .collect(engine="in-memory")
    )


def _vouched_stats(
    keys: Sequence[pl.DataFrame], conflicts: pl.DataFrame, vouched: pl.DataFrame
) -> pl.DataFrame:
    """:func:`_stats` of every row vouched for that is not in a conflict.

    Part by part, grouped by patient position (a query over all the keys at once held ~110 MB
    of intermediate columns for a shard of 1.4 million rows), and only the groups are given
    their patient's id.
    """
    if not keys:
        return pl.DataFrame(schema=_STATS_SCHEMA)
    key = _event_key(pl.col("t"), pl.col("v_index")).alias("key")
    groups = []
    for part in keys:
        rows = part.lazy()
        if not conflicts.is_empty():
            rows = rows.join(conflicts.lazy(), on=_ROW, how="anti")
        groups.append(_stats(rows.select(_POS, key), by=_POS))
    return (
        pl.concat(groups)
        .group_by(_POS)
        .agg(pl.col("events").sum(), pl.col("first").min(), pl.col("last").max())
        .join(vouched.select(_POS, pl.col("id").alias("patient_id")), on=_POS)
        .select(list(_STATS_SCHEMA))
    )


def _frame_stats(events: pl.DataFrame) -> pl.DataFrame:
    """:func:`_stats` of an event frame."""
    item_number = _index("item", _vocabulary_arrays().names, "v_index")
    return _stats(
        events.lazy().select("patient_id", _event_key(pl.col("time"), item_number).alias("key"))
    )


def _bounds_shown(
    vouched: pl.DataFrame, shown: pl.DataFrame, python: Sequence[pl.DataFrame]
) -> bool:
    """Each record's first and last events are in the frame of a read for unread items.

    ``vouched`` and ``shown``: :func:`_stats` of the rows vouched for (less conflicts) and of
    those the frame shows; ``python``: of the Python path's frames, shown whole.  The frame
    holds only accepted events, so its first and last are the record's exactly when both sums
    agree.
    """

    def bounds(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
        return (
            pl.concat([part.select("patient_id", "first", "last") for part in parts])
            .group_by("patient_id")
            .agg(pl.col("first").min(), pl.col("last").max())
        )

    compared = bounds([vouched, *python]).join(
        bounds([shown, *python]), on="patient_id", how="left", suffix="_shown"
    )
    same = (pl.col("first") == pl.col("first_shown")) & (pl.col("last") == pl.col("last_shown"))
    return bool(compared.select(same.fill_null(value=False).all()).item())


def _frame_order(vouched: pl.DataFrame, patients: int) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The keys that sort event rows as ``to_frames`` sorts them: patient id, time, item.

    They are integers (the rank of the patient's id among the ids vouched for, the instant, the
    rank of the item's name in the vocabulary), which order the rows as the texts do.
    """
    by_id = vouched.select(_POS, "id").sort("id")
    rank = np.zeros(max(patients, 1), dtype=np.uint32)
    rank[by_id[_POS].to_numpy()] = np.arange(by_id.height, dtype=np.uint32)
    return (
        pl.lit(pl.Series(rank)).gather(pl.col(_POS)).alias("patient_rank"),
        pl.col("t"),
        pl.lit(_vocabulary_arrays().name_ranks).gather(pl.col("v_index")).alias("item_rank"),
    )


def _strictly_ordered(parts: Sequence[pl.DataFrame], order: Sequence[pl.Expr]) -> bool:
    """True when the rows (chunks in row order) are in increasing ``order``, no two equal.

    Tables are usually written in this order already (the simulator and `crswatch convert`
    write them so): then a look at each pair of neighbours replaces the sort, and no two rows
    vouched for share a patient, item and instant.  It is taken chunk by chunk (with the last
    row of the chunk before), so its columns stay small.
    """
    patient, time, item = pl.col("patient_rank"), pl.col("t"), pl.col("item_rank")
    after_previous = (patient.shift(1) < patient) | (
        (patient.shift(1) == patient)
        & ((time.shift(1) < time) | ((time.shift(1) == time) & (item.shift(1) < item)))
    )
    last: pl.DataFrame | None = None
    for part in parts:
        keys = part.select(order)
        if keys.is_empty():
            continue
        joined = keys if last is None else pl.concat([last, keys])
        if not joined.select(after_previous.slice(1).all()).item():
            return False
        last = keys.tail(1)
    return True


def _in_frame_order(
    parts: list[pl.DataFrame], order: Sequence[pl.Expr], *, ordered: bool
) -> pl.DataFrame:
    """The rows vouched for (chunks in row order, consumed) in ``EVENT_FRAME_SCHEMA``, sorted as
    ``to_frames`` sorts them (``ordered``: they already are).

    The sort keys are unique per row: a patient's two events of one item at one instant are a
    conflict, and rejected.
    """
    if ordered:
        # Each chunk to the frame's columns on its own (a select copies what it keeps), then
        # the chunks are put end to end without a copy.
        for number, part in enumerate(parts):
            parts[number] = part.select(_cast_to(EVENT_FRAME_SCHEMA))
        return pl.concat(parts) if len(parts) > 1 else parts[0]
    clean = pl.concat(parts) if len(parts) > 1 else parts[0]
    parts.clear()
    keys = clean.select(order)
    return clean.sort(keys.get_columns()).select(_cast_to(EVENT_FRAME_SCHEMA))


def _place(entry: tuple[tuple[int, int, int], object]) -> tuple[int, int, int]:
    return entry[0]


def _inverse(size: float | None) -> float | None:
    return None if size is None else size**-1


def _cast_to(schema: Mapping[str, pl.DataType]) -> list[pl.Expr]:
    return [pl.col(name).cast(dtype) for name, dtype in schema.items()]
