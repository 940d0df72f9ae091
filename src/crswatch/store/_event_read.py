"""A stored patient's event frame read at the speed of the database driver.

Reading the 60,815 events of the benchmark patient (30 days of 5-minute vital signs) through
SQLAlchemy Core cost about 0.44 s, and making the frame of the rows 0.17 s
(docs/benchmarks.md §6 and §8): most of it was per-value work in Python, a ``datetime`` parsed
from SQLite's text and made timezone-aware for every time, a ``Row`` per event, then one Python
list per column.  The database itself reads those rows in about 20 ms.

Here the select is compiled by SQLAlchemy (the same table, columns and quoting) but run on the
session's own DBAPI cursor, in the session's transaction, so no result processing runs per
value; the values arrive as the driver gives them and are decoded a column at a time by Polars:

- **times**: SQLite keeps the text SQLAlchemy wrote (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC); every
  value of that exact form is parsed by Polars, and if any value has another form the column is
  decoded value by value with the column type's own result processor, so the result is what
  SQLAlchemy gives in every case.  PostgreSQL is asked for microseconds since the epoch
  (``timestamptz`` holds microseconds, and ``EXTRACT(EPOCH ...)`` is exact ``numeric``), which
  arrive as integers instead of timezone-aware ``datetime`` objects.
- **booleans**: 0/1 on SQLite, booleans on PostgreSQL: one cast.
- **only the frame's columns**: not the JSON value (in no value column of the frame), not the
  provenance (``original_value``/``original_unit``, not part of the frame), not ``stored_at``.
- **no ORDER BY**: the frame is sorted by time and item in Polars, which the database cannot do
  more cheaply (SQLite would sort every selected column in a temporary B-tree), and
  ``(patient, item, time)`` is unique in the store, so the order is total.

Other dialects are read through ``store._frames`` (SQLAlchemy's result processing): the same
frame, at the old speed.  ``tests/store/test_load_frames.py`` compares both paths with
``to_frames`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import polars as pl
from sqlalchemy import BigInteger, ColumnElement, cast, extract, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstrumentedAttribute, Session

from crswatch.store._models import EventRow
from crswatch.timeline import EVENT_FRAME_SCHEMA

__all__ = ["EventRead", "fast_read_supported", "finished_event_frame", "read_event_frame"]

#: The dialects whose drivers' values are decoded here; others go through SQLAlchemy.
_DIALECTS = frozenset({"sqlite", "postgresql"})
#: What SQLAlchemy's SQLite ``DATETIME`` writes (its default storage format, always 6 digits).
_SQLITE_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$"
_UTC = pl.Datetime("us", "UTC")
#: The columns read, in this order: the key first (for the cache's checks), then the frame's.
_NAMES = (
    "pk",
    "time",
    "item",
    "kind",
    "value_num",
    "value_code",
    "value_bool",
    "unit",
    "end",
    "ref_low",
    "ref_high",
    "censored",
    "cause",
    "event_id",
    "source",
)
_STRINGS = ("item", "kind", "unit", "value_code", "censored", "cause", "event_id", "source")
_FLOATS = ("value_num", "ref_low", "ref_high")


@dataclass(frozen=True, slots=True)
class EventRead:
    """The event frame read, with the number of rows and the largest event key among them."""

    frame: pl.DataFrame
    count: int
    last: int | None


def fast_read_supported(session: Session) -> bool:
    """Whether this session's database is read here (SQLite and PostgreSQL)."""
    return session.get_bind().dialect.name in _DIALECTS


def read_event_frame(
    session: Session,
    patient_pk: int,
    patient_id: str,
    *,
    after: int | None = None,
    upto: int | None = None,
) -> EventRead:
    """The patient's events with ``after < key <= upto`` (each bound optional), as a frame.

    The frame is ``to_frames``' event frame of those events (schema, values and order).  Only
    for SQLite and PostgreSQL (``fast_read_supported``).
    """
    connection = session.connection()
    dialect = connection.dialect
    # Only integers are bound (int() refuses anything else), so the literal form is safe, and
    # it needs no paramstyle.
    statement = select(*_columns(dialect)).where(EventRow.patient_pk == int(patient_pk))
    if after is not None:
        statement = statement.where(EventRow.pk > int(after))
    if upto is not None:
        statement = statement.where(EventRow.pk <= int(upto))
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        rows: Sequence[Sequence[Any]] = cursor.fetchall()
    finally:
        cursor.close()
    keys = [row[0] for row in rows]
    frame = _frame(dialect, patient_id, {n: list(map(itemgetter(i), rows)) for i, n in _INDEXED})
    return EventRead(frame, len(rows), max(keys) if keys else None)


_INDEXED = tuple((index, name) for index, name in enumerate(_NAMES) if name != "pk")


def _columns(dialect: Dialect) -> list[ColumnElement[Any] | InstrumentedAttribute[Any]]:
    time: ColumnElement[Any] | InstrumentedAttribute[Any] = EventRow.time
    end: ColumnElement[Any] | InstrumentedAttribute[Any] = EventRow.end
    if dialect.name == "postgresql":
        time, end = _epoch_us(EventRow.time), _epoch_us(EventRow.end)
    return [
        EventRow.pk,
        time,
        EventRow.item,
        EventRow.value_type,
        EventRow.value_num,
        EventRow.value_code,
        EventRow.value_bool,
        EventRow.unit,
        end,
        EventRow.ref_low,
        EventRow.ref_high,
        EventRow.censored,
        EventRow.cause,
        EventRow.event_id,
        EventRow.source,
    ]


def _epoch_us(column: InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    # numeric since PostgreSQL 14, so exact; NULL stays NULL.
    return cast(extract("epoch", column) * 1_000_000, BigInteger)


def _frame(dialect: Dialect, patient_id: str, values: dict[str, list[Any]]) -> pl.DataFrame:
    postgresql = dialect.name == "postgresql"
    times = _epoch_times if postgresql else _sqlite_times
    columns = {
        "time": times(values["time"], EventRow.time, dialect),
        "end": times(values["end"], EventRow.end, dialect),
        # Booleans on PostgreSQL, 0/1 on SQLite (SQLAlchemy's processor makes bool() of them).
        "value_bool": pl.Series(values["value_bool"], dtype=pl.Boolean())
        if postgresql
        else pl.Series(values["value_bool"], dtype=pl.Int64()).cast(pl.Boolean),
        **{name: pl.Series(values[name], dtype=pl.String()) for name in _STRINGS},
        **{name: pl.Series(values[name], dtype=pl.Float64()) for name in _FLOATS},
    }
    return finished_event_frame(pl.DataFrame(columns), patient_id)


def finished_event_frame(raw: pl.DataFrame, patient_id: str) -> pl.DataFrame:
    """One patient's stored columns (the value split by ``kind``) as ``to_frames``' event frame."""
    return (
        raw.with_columns(
            pl.lit(patient_id, dtype=pl.String()).alias("patient_id"),
            # As to_frames: each value column only for its type (a JSON value is in none).
            pl.when(pl.col("kind") == "num").then(pl.col("value_num")).alias("value_num"),
            pl.when(pl.col("kind") == "code").then(pl.col("value_code")).alias("value_code"),
            pl.when(pl.col("kind") == "bool").then(pl.col("value_bool")).alias("value_bool"),
            # Event.attributable: False only when the cause is "other".
            pl.col("cause").ne_missing(pl.lit("other")).alias("attributable"),
        )
        .select(list(EVENT_FRAME_SCHEMA))
        .cast(pl.Schema(EVENT_FRAME_SCHEMA))
        .sort("patient_id", "time", "item", maintain_order=True)
    )


def _sqlite_times(values: list[Any], column: Any, dialect: Dialect) -> pl.Series:
    try:
        text = pl.Series(values, dtype=pl.String())
    except TypeError:  # a value that is not text: SQLAlchemy decides what it is
        return _processed(values, column, dialect)
    if text.str.contains(_SQLITE_TIME).sum() != text.len() - text.null_count():
        return _processed(values, column, dialect)
    return text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.6f").dt.replace_time_zone("UTC")


def _epoch_times(values: list[Any], column: Any, dialect: Dialect) -> pl.Series:
    return pl.from_epoch(pl.Series(values, dtype=pl.Int64()), "us").dt.replace_time_zone("UTC")


def _processed(values: list[Any], column: Any, dialect: Dialect) -> pl.Series:
    """The column decoded value by value as SQLAlchemy Core decodes it (the rare path)."""
    processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
    decoded = values if processor is None else [None if v is None else processor(v) for v in values]
    return pl.Series(decoded, dtype=_UTC)
