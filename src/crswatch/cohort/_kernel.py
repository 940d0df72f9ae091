"""The cohort kernel: one shard's frames in, every output table of ``crswatch.cohort/1`` out.

Pure and I/O-free, and built only from the library's own functions
(:func:`crswatch.episodes.trajectory_of_frames`, ``episodes_from_trajectory``, ``peak_grades``,
the state engine's drug constants and the vocabulary), so
a patient graded in a cohort gets exactly the grades the one-patient path gives.  The local engine
calls :func:`grade_shard`; Spark calls the Arrow adapter :func:`grade_shard_arrow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TypeVar

import polars as pl
import pyarrow as pa

from crswatch.cohort._schema import TABLE_SCHEMAS, TABLES, conform
from crswatch.episodes import episodes_from_trajectory, peak_grades, trajectory_of_frames
from crswatch.scales import select_scales
from crswatch.state import (
    ANTI_CYTOKINE,
    CORTICOSTEROIDS,
    PRESSORS,
    StateParameters,
    events_read,
)
from crswatch.timeline import EVENT_FRAME_SCHEMA, PATIENT_FRAME_SCHEMA, vocabulary

__all__ = [
    "LAB_GROUPS",
    "TABLE_ORDER",
    "TREATMENT_CATEGORIES",
    "KernelEvents",
    "grade_shard",
    "grade_shard_arrow",
    "kernel_events",
    "treatment_category",
]

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

#: Treatment categories, named after the state engine's constants (the same drug lists).
TREATMENT_CATEGORIES = ("anti_cytokine", "corticosteroid", "vasopressor", "t_cell_engager", "other")
#: Vocabulary groups whose events are therapies given (drugs, infusions, boluses, engagers).
_TREATMENT_GROUPS = ("drug", "hemodynamic", "t_cell_engager")
#: Vocabulary groups kept in ``labs``: every lab (the PD items of seed 004 among them) and cytokine.
LAB_GROUPS = ("lab", "cytokine")
#: The first cycle of a T-cell engager, in which step-up dosing happens: blinatumomab's cycle is
#: 4 weeks of continuous infusion (BLINCYTO label, section 2; seed 004: 5-15(-30) ug/m2/day steps
#: within cycle 1), and the bispecifics' step-up doses also fall in the first weeks.
_FIRST_CYCLE = timedelta(days=28)
#: A dose at least this much above the first one is a step-up, not rounding: canonical ug/d doses
#: converted from ug/m2/d differ by rounding only, real steps are 3-fold (9 -> 28 ug/d).
_STEP_RATIO = 1.05


#: The order of each table's rows: by patient first, so batches of patients concatenate.
TABLE_ORDER: dict[str, tuple[str, ...]] = {
    "patients": ("patient_id",),
    "trajectory": ("patient_id", "kind", "scale", "at"),
    "episodes": ("patient_id", "kind", "scale", "episode"),
    "peaks": ("patient_id", "kind", "scale"),
    "treatments": ("patient_id", "time", "item"),
    "labs": ("patient_id", "time", "item"),
}


def treatment_category(item: str) -> str | None:
    """The treatment category of a vocabulary item, or ``None`` if it is not a therapy."""
    if item in ANTI_CYTOKINE:
        return "anti_cytokine"
    if item in CORTICOSTEROIDS:
        return "corticosteroid"
    if item in PRESSORS:
        return "vasopressor"
    spec = vocabulary().get(item)
    if spec is None or spec.group not in _TREATMENT_GROUPS:
        return None
    return "t_cell_engager" if spec.group == "t_cell_engager" else "other"


@cache
def _categories() -> pl.DataFrame:
    rows = [(item, treatment_category(item)) for item in vocabulary()]
    return pl.DataFrame(
        [row for row in rows if row[1] is not None],
        schema={"item": pl.String, "category": pl.String},
        orient="row",
    )


@cache
def _lab_items() -> tuple[str, ...]:
    return tuple(item for item, spec in vocabulary().items() if spec.group in LAB_GROUPS)


@cache
def _dosed_engagers() -> tuple[str, ...]:
    """T-cell engagers given as a dose (``car_t_infusion`` is an event, not a dose)."""
    return tuple(
        item
        for item, spec in vocabulary().items()
        if spec.group == "t_cell_engager" and spec.kind == "quantity"
    )


def grade_shard(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    *,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
    shard: int = 0,
    event_counts: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """Every table of the cohort contract for the patients of one shard.

    ``patients`` and ``events`` are the frames the readers give (``PATIENT_FRAME_SCHEMA``,
    ``EVENT_FRAME_SCHEMA``: canonical units, events sorted by patient and time), or ``events``
    is :func:`kernel_events`'s and ``event_counts`` its counts of the whole record.
    """
    params = params or StateParameters()
    if patients.is_empty():
        return {name: pl.DataFrame(schema=TABLE_SCHEMAS[name]) for name in TABLES}
    starts = patients.select("patient_id", "therapy_start")
    trajectory = trajectory_of_frames(patients, events, scales=scales, params=params)
    episodes = _episodes(trajectory)
    if event_counts is None:
        event_counts = _event_counts(events)
    tables = {
        "patients": _patients(patients, events, event_counts, shard),
        "trajectory": trajectory,
        "episodes": episodes,
        "peaks": _peaks(patients, trajectory, episodes, scales),
        "treatments": _treatments(events, starts),
        "labs": _labs(events, starts),
    }
    return {
        name: conform(name, frame).sort(TABLE_ORDER[name], maintain_order=True)
        for name, frame in tables.items()
    }


def grade_shard_arrow(
    patients: pa.Table,
    events: pa.Table,
    *,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
    shard: int = 0,
) -> dict[str, pa.Table]:
    """:func:`grade_shard` with Arrow tables in and out (for Spark's ``applyInArrow``)."""
    patient_frame = pl.from_arrow(patients, schema_overrides=PATIENT_FRAME_SCHEMA)
    event_frame = pl.from_arrow(events, schema_overrides=EVENT_FRAME_SCHEMA)
    assert isinstance(patient_frame, pl.DataFrame) and isinstance(event_frame, pl.DataFrame)
    tables = grade_shard(patient_frame, event_frame, scales=scales, params=params, shard=shard)
    return {name: frame.to_arrow() for name, frame in tables.items()}


# ------------------------------------------------------------------------------------ tables


@dataclass(frozen=True, slots=True)
class KernelEvents:
    """What the kernel reads of a shard's events, and each patient's number of events."""

    #: ``events_read`` of the events, in one chunk.
    events: pl.DataFrame
    #: ``patient_id``, ``events``: every event of the record counted (the ``patients`` table).
    counts: pl.DataFrame


def kernel_events(events: pl.DataFrame, *, counts: pl.DataFrame | None = None) -> KernelEvents:
    """The events the kernel's tables read, and the counts of all of them (``counts``, when
    ``events`` are not all of them: a read for unread items, decision 0083).

    Every table reads only the events of ``crswatch.state.events_read``: the trajectory by
    construction, ``treatments``, ``labs`` and the regimen their own items, which are not vital
    signs.  The vital signs no state column reads are most of a monitored record (about two
    thirds at 5-minute vitals), so a shard graded from these events needs a third of the memory
    and kernel calls (docs/decisions/0075).
    """
    if counts is None:
        counts = _event_counts(events.lazy()).collect()
    return KernelEvents(events_read(events), counts)


def _event_counts(events: FrameT) -> FrameT:
    return events.group_by("patient_id").agg(pl.len().cast(pl.Int64).alias("events"))


def _patients(
    patients: pl.DataFrame, events: pl.DataFrame, counts: pl.DataFrame, shard: int
) -> pl.DataFrame:
    return (
        patients.join(counts, on="patient_id", how="left", maintain_order="left")
        .join(_regimens(patients, events), on="patient_id", how="left", maintain_order="left")
        .select(
            "patient_id",
            pl.lit(shard, dtype=pl.Int32).alias("shard"),
            "therapy_kind",
            pl.col("therapy_product").alias("product"),
            "therapy_start",
            "age_years",
            "sex",
            "weight_kg",
            # The optional best overall response (docs/decisions/0022); null when not given.
            "response",
            "regimen",
            pl.col("events").fill_null(0),
        )
    )


def _regimens(patients: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """``step`` or ``flat`` from the engager doses of the first cycle; no doses: no row."""
    doses = (
        events.filter(pl.col("item").is_in(_dosed_engagers()) & (pl.col("value_num") > 0))
        .join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .filter(pl.col("time") < pl.col("therapy_start") + _FIRST_CYCLE)
        .sort("patient_id", "time", maintain_order=True)
    )
    return doses.group_by("patient_id").agg(
        pl.when(pl.col("value_num").max() > pl.col("value_num").first() * _STEP_RATIO)
        .then(pl.lit("step"))
        .otherwise(pl.lit("flat"))
        .alias("regimen")
    )


def _episodes(trajectory: pl.DataFrame) -> pl.DataFrame:
    rows = [
        {
            "patient_id": episode.patient_id,
            "kind": episode.kind,
            "scale": episode.scale,
            "onset": episode.onset,
            "peak_grade": episode.peak_grade,
            "peak_at": episode.peak_at,
            "peak_upper": episode.peak_upper,
            "peak_status": episode.peak_status,
            "resolution": episode.resolution,
            "duration_hours": episode.duration_hours,
        }
        for episode in episodes_from_trajectory(trajectory)
    ]
    schema = {name: dtype for name, dtype in TABLE_SCHEMAS["episodes"].items() if name != "episode"}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    # episodes_from_trajectory gives each group's episodes in time order: number them 1, 2, ...
    number = pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("patient_id", "kind", "scale")
    return frame.sort("patient_id", "kind", "scale", "onset", maintain_order=True).with_columns(
        number.alias("episode")
    )


def _peaks(
    patients: pl.DataFrame,
    trajectory: pl.DataFrame,
    episodes: pl.DataFrame,
    scales: Sequence[str] | None,
) -> pl.DataFrame:
    """One row per patient, syndrome and scale, patients without any episode included."""
    chosen = pl.DataFrame(
        [(scale.kind, scale.id) for scale in select_scales(scales)],
        schema={"kind": pl.String, "scale": pl.String},
        orient="row",
    )
    counts = episodes.group_by("patient_id", "kind", "scale").agg(
        pl.len().cast(pl.Int32).alias("episodes")
    )
    keys = ["patient_id", "kind", "scale"]
    return (
        patients.select("patient_id")
        .join(chosen, how="cross")
        .join(peak_grades(trajectory), on=keys, how="left")
        .join(counts, on=keys, how="left")
        .with_columns(pl.col("episodes").fill_null(0))
    )


def _hours_from_start(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    joined = events.join(starts, on="patient_id", how="left", maintain_order="left")
    hours = (pl.col("time") - pl.col("therapy_start")).dt.total_microseconds() / 3.6e9
    return joined.with_columns(hours.alias("hours_from_start"))


def _treatments(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    given = events.join(_categories(), on="item", how="inner", maintain_order="left")
    return _hours_from_start(given, starts).rename({"value_num": "value"})


def _labs(events: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame:
    measured = events.filter(pl.col("item").is_in(_lab_items()))
    return (
        _hours_from_start(measured, starts)
        .rename({"value_num": "value"})
        .with_columns((pl.col("censored") == "below_lod").fill_null(value=False).alias("below_lod"))
    )
