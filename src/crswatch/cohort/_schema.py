"""The cohort output contract ``crswatch.cohort/1``: table names, columns and dtypes.

Readers (report, export, benchmark) rely on these names and types; a deviation from the issue's
contract is written down in docs/decisions/0019-cohort-grade.md under "Output contract".
"""

from __future__ import annotations

import polars as pl

from crswatch.episodes import TRAJECTORY_SCHEMA

__all__ = ["COHORT_FORMAT", "TABLES", "TABLE_SCHEMAS", "conform"]

COHORT_FORMAT = "crswatch.cohort/1"

_UTC = pl.Datetime("us", "UTC")

TABLE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "patients": {
        "patient_id": pl.String(),
        "shard": pl.Int32(),
        "therapy_kind": pl.String(),
        "product": pl.String(),
        "therapy_start": _UTC,
        "age_years": pl.Float64(),
        "sex": pl.String(),
        "weight_kg": pl.Float64(),
        "response": pl.String(),
        "regimen": pl.String(),
        "events": pl.Int64(),
    },
    "trajectory": dict(
        zip(
            TRAJECTORY_SCHEMA,
            (
                pl.String(),
                _UTC,
                pl.String(),
                pl.String(),
                pl.Int32(),
                pl.String(),
                pl.Int32(),
                pl.Int32(),
            ),
            strict=True,
        )
    ),
    "episodes": {
        "patient_id": pl.String(),
        "kind": pl.String(),
        "scale": pl.String(),
        "episode": pl.Int32(),
        "onset": _UTC,
        "peak_grade": pl.Int32(),
        "peak_at": _UTC,
        "peak_upper": pl.Int32(),
        "peak_status": pl.String(),
        "resolution": _UTC,
        "duration_hours": pl.Float64(),
    },
    "peaks": {
        "patient_id": pl.String(),
        "kind": pl.String(),
        "scale": pl.String(),
        "peak_grade": pl.Int32(),
        "peak_upper": pl.Int32(),
        "peak_status": pl.String(),
        "episodes": pl.Int32(),
    },
    "treatments": {
        "patient_id": pl.String(),
        "time": _UTC,
        "hours_from_start": pl.Float64(),
        "category": pl.String(),
        "item": pl.String(),
        "value": pl.Float64(),
        "unit": pl.String(),
        "end": _UTC,
    },
    "labs": {
        "patient_id": pl.String(),
        "time": _UTC,
        "hours_from_start": pl.Float64(),
        "item": pl.String(),
        "value": pl.Float64(),
        "unit": pl.String(),
        "ref_low": pl.Float64(),
        "ref_high": pl.Float64(),
        "below_lod": pl.Boolean(),
        "censored": pl.String(),
    },
}
#: The tables in the order they are written (one part file each per shard).
TABLES: tuple[str, ...] = tuple(TABLE_SCHEMAS)


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the contract's columns, in order, cast to the contract's dtypes."""
    schema = TABLE_SCHEMAS[table]
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
