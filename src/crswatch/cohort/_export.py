"""Registry export: one row per patient and reporting period, CIBMTR- or EBMT-shaped.

The columns and periods are data (``registry_fields.csv``, ``registry_periods.csv``, each row
with its source); this module computes the values they name (``key``).  The output is a
**field-level mapping for data managers**, not an official submission format
(docs/decisions/0020-cohort-report-export.md).

Per period (days from therapy start, day 0 = infusion or first dose), on ASTCT 2019 CRS and ICANS:

- the maximum grade over the *assessed* part of the period (between the first and the last
  graded or provisional assessment, :func:`crswatch.cohort._agreement.follow_up_peaks`); a
  provisional maximum (the grade on the documented findings, decision 0026) is written as that
  grade, with "(provisional)" and its bounds beside it; a range (not assessable or ambiguous) is
  written ``unknown`` with its bounds beside it, never 0; a period with no assessment at all is
  ``unknown``;
- onset: the first episode overlapping the period (``previously reported`` when it began in an
  earlier period, as CIBMTR F4100 Q90 asks); resolution: when the last overlapping episode
  resolved, if within the period;
- therapies given in the period (tocilizumab, corticosteroids, other anti-cytokine,
  vasopressors), from the ``treatments`` table: ``yes``, ``no``, or ``unknown`` for a period
  without data (no assessment and no treatment in it), as the grades are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import polars as pl

from crswatch.cohort._agreement import follow_up_peaks
from crswatch.errors import InputError
from crswatch.state import ANTI_CYTOKINE, CORTICOSTEROIDS, PRESSORS

__all__ = [
    "REGISTRY_FORMATS",
    "RegistryField",
    "RegistryFormat",
    "ReportingPeriod",
    "registry_fields",
    "registry_rows",
    "reporting_periods",
    "write_registry_csv",
]

RegistryFormat = Literal["cibmtr", "ebmt"]
REGISTRY_FORMATS: tuple[str, ...] = get_args(RegistryFormat)

_HERE = Path(__file__).parent
#: The grading system every registry column is on (both registries ask for ASTCT 2019).
_SCALE = "astct2019"
_SCALE_NAME = "ASTCT 2019"
_OTHER_ANTI_CYTOKINE = tuple(item for item in ANTI_CYTOKINE if item != "tocilizumab")


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """A registry reporting period: days ``first_day`` to ``last_day`` after therapy start."""

    format: str
    period: str
    first_day: int
    last_day: int
    source: str


@dataclass(frozen=True, slots=True)
class RegistryField:
    """One exported column: its name on the form, the value it carries, and the source."""

    format: str
    column: str
    key: str
    form_item: str
    source: str


def _check_format(format: str) -> None:
    if format not in REGISTRY_FORMATS:
        raise InputError(f"format={format!r} must be one of {', '.join(REGISTRY_FORMATS)}")


@cache
def _periods() -> tuple[ReportingPeriod, ...]:
    with (_HERE / "registry_periods.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(
            ReportingPeriod(
                format=row["format"],
                period=row["period"],
                first_day=int(row["first_day"]),
                last_day=int(row["last_day"]),
                source=row["source"],
            )
            for row in csv.DictReader(handle)
        )


@cache
def _fields() -> tuple[RegistryField, ...]:
    with (_HERE / "registry_fields.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(RegistryField(**row) for row in csv.DictReader(handle))


def reporting_periods(format: str) -> list[ReportingPeriod]:
    """The reporting periods of ``format`` (``cibmtr`` or ``ebmt``), in order."""
    _check_format(format)
    return [period for period in _periods() if period.format == format]


def registry_fields(format: str) -> list[RegistryField]:
    """The exported columns of ``format``, in order, each with its form item and source."""
    _check_format(format)
    return [field for field in _fields() if field.format == format]


_DATE = "%Y-%m-%d"


def _period_frame(patients: pl.DataFrame, format: str) -> pl.DataFrame:
    """Patients × periods: ``period``, ``order``, ``start`` and ``end`` (exclusive) times."""
    periods = pl.DataFrame(
        [(p.period, i, p.first_day, p.last_day) for i, p in enumerate(reporting_periods(format))],
        schema={"period": pl.String, "order": pl.Int32, "first": pl.Int64, "last": pl.Int64},
        orient="row",
    )
    return (
        patients.select("patient_id", "therapy_start")
        .join(periods, how="cross")
        .with_columns(
            start=pl.col("therapy_start") + pl.duration(days=pl.col("first")),
            end=pl.col("therapy_start") + pl.duration(days=pl.col("last") + 1),
        )
        .select("patient_id", "period", "order", "start", "end")
    )


def _overlaps(begin: str, finish: str) -> pl.Expr:
    """The interval ``[begin, finish)`` (``finish`` null: open) overlaps ``[start, end)``."""
    return (pl.col(begin) < pl.col("end")) & (
        pl.col(finish).is_null() | (pl.col(finish) > pl.col("start"))
    )


def _grade_bounds(
    trajectory: pl.DataFrame, patients: pl.DataFrame, grid: pl.DataFrame
) -> pl.DataFrame:
    """Per patient, period and syndrome: the highest lower and upper bound over the assessed
    part of the period (decision 0020 §2); no row when nothing in the period was assessed."""
    keys = ["patient_id", "kind"]
    windows = follow_up_peaks(trajectory, patients).select(
        *keys, "follow_up_start", "follow_up_end"
    )
    rows = (
        trajectory.select(*keys, "at", "status", "lower", "upper")
        .sort(*keys, "at")
        .with_columns(next_at=pl.col("at").shift(-1).over(keys))
        .join(windows, on=keys, how="inner")
        .filter(
            (pl.col("at") < pl.col("follow_up_end"))
            | (
                (pl.col("at") == pl.col("follow_up_end"))
                & pl.col("status").is_in(("graded", "provisional"))
            )
        )
        .filter(pl.col("next_at").is_null() | (pl.col("next_at") > pl.col("follow_up_start")))
    )
    return (
        rows.join(grid, on="patient_id", how="inner")
        .filter(
            _overlaps("at", "next_at")
            & (pl.col("follow_up_end") > pl.col("start"))
            & (pl.col("follow_up_start") < pl.col("end"))
        )
        .group_by("patient_id", "period", "kind")
        .agg(
            pl.col("lower").max().alias("low"),
            pl.col("upper").max().alias("high"),
            # The upper bound of states that are not provisional (decision 0026).
            pl.col("upper").filter(pl.col("status") != "provisional").max().alias("open"),
        )
    )


def _episode_dates(episodes: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    """Per patient, period and syndrome: onset of the first overlapping episode, whether it began
    before the period, and the resolution of the last overlapping one."""
    return (
        episodes.select("patient_id", "kind", "onset", "resolution")
        .join(grid, on="patient_id", how="inner")
        .filter(_overlaps("onset", "resolution"))
        .sort("onset")
        .group_by("patient_id", "period", "kind")
        .agg(
            pl.col("onset").first().alias("onset"),
            (pl.col("onset").first() < pl.col("start").first()).alias("earlier"),
            pl.col("resolution").last().alias("resolution"),
        )
    )


def _syndrome_columns(kind: str) -> list[pl.Expr]:
    """The ``{kind}_*`` values from ``low``/``high`` (bounds) and the episode columns."""
    low, high = pl.col(f"{kind}_low"), pl.col(f"{kind}_high")
    has_episode = pl.col(f"{kind}_onset").is_not_null()
    hard = low == high
    # Open only for missing data in provisional states: the grade on record, marked provisional.
    provisional = ~hard & (pl.col(f"{kind}_open").fill_null(0) <= low)
    occurred = (
        pl.when(has_episode | (low >= 1))
        .then(pl.lit("yes"))
        .when(high == 0)
        .then(pl.lit("no"))
        .otherwise(pl.lit("unknown"))
    )
    grade = pl.when(hard | provisional).then(low.cast(pl.String)).otherwise(pl.lit("unknown"))
    bounds = (
        pl.when(hard)
        .then(low.cast(pl.String))
        .when(provisional)
        .then(pl.format("{}-{} (provisional)", low, high))
        .when(low.is_not_null())
        .then(pl.format("{}-{}", low, high))
        .otherwise(pl.lit(""))
    )
    return [
        occurred.alias(f"{kind}_occurred"),
        grade.alias(f"{kind}_max_grade"),
        bounds.alias(f"{kind}_grade_bounds"),
        pl.lit(_SCALE_NAME).alias(f"{kind}_grading_system"),
        pl.col(f"{kind}_onset").dt.strftime(_DATE).fill_null("").alias(f"{kind}_onset_date"),
        pl.when(has_episode)
        .then(pl.when(pl.col(f"{kind}_earlier")).then(pl.lit("yes")).otherwise(pl.lit("no")))
        .otherwise(pl.lit(""))
        .alias(f"{kind}_previously_reported"),
        pl.col(f"{kind}_resolution")
        .dt.strftime(_DATE)
        .fill_null("")
        .alias(f"{kind}_resolved_date"),
    ]


def _therapies(treatments: pl.DataFrame, grid: pl.DataFrame) -> pl.DataFrame:
    groups = {
        "tocilizumab": ("tocilizumab",),
        "corticosteroids": CORTICOSTEROIDS,
        "other_anticytokine": _OTHER_ANTI_CYTOKINE,
        "vasopressors": PRESSORS,
    }
    # Only the columns needed: ``treatments`` has an ``end`` (infusion end) of its own.
    given = (
        treatments.select("patient_id", "time", "item").join(grid, on="patient_id", how="inner")
    ).filter((pl.col("time") >= pl.col("start")) & (pl.col("time") < pl.col("end")))
    return given.group_by("patient_id", "period").agg(
        pl.col("item").is_in(list(items)).any().alias(name) for name, items in groups.items()
    )


def _period_has_data(flags: Iterable[str]) -> pl.Expr:
    """Something is known about the period: a CRS or ICANS assessment in it, or a treatment
    given in it.  Without data, a therapy given is ``unknown`` like the grades, never ``no``."""
    assessed = pl.col("crs_low").is_not_null() | pl.col("icans_low").is_not_null()
    return assessed | pl.any_horizontal(pl.col(flag).is_not_null() for flag in flags)


def registry_rows(
    patients: pl.DataFrame,
    trajectory: pl.DataFrame,
    episodes: pl.DataFrame,
    treatments: pl.DataFrame,
    *,
    format: str,
) -> pl.DataFrame:
    """The export table of ``format``: one row per patient and period, the form's columns."""
    fields = registry_fields(format)
    grid = _period_frame(patients, format)
    astct = trajectory.filter(pl.col("scale") == _SCALE)
    keys = ["patient_id", "period"]
    table = grid
    bounds = _grade_bounds(astct, patients, grid)
    dates = _episode_dates(episodes.filter(pl.col("scale") == _SCALE), grid)
    for kind in ("crs", "icans"):
        table = table.join(
            bounds.filter(pl.col("kind") == kind).select(
                *keys,
                pl.col("low").alias(f"{kind}_low"),
                pl.col("high").alias(f"{kind}_high"),
                pl.col("open").alias(f"{kind}_open"),
            ),
            on=keys,
            how="left",
        ).join(
            dates.filter(pl.col("kind") == kind).select(
                *keys,
                pl.col("onset").alias(f"{kind}_onset"),
                pl.col("earlier").alias(f"{kind}_earlier"),
                pl.col("resolution").alias(f"{kind}_resolution"),
            ),
            on=keys,
            how="left",
        )
    crs_end = follow_up_peaks(astct.filter(pl.col("kind") == "crs"), patients).select(
        "patient_id", assessed_until=pl.col("follow_up_end").dt.strftime(_DATE)
    )
    therapy = _therapies(treatments, grid)
    flags = ("tocilizumab", "corticosteroids", "other_anticytokine", "vasopressors")
    table = (
        table.join(crs_end, on="patient_id", how="left")
        .join(therapy, on=keys, how="left")
        .with_columns(
            *_syndrome_columns("crs"),
            *_syndrome_columns("icans"),
            *(
                pl.when(pl.col(flag).fill_null(False))
                .then(pl.lit("yes"))
                .when(_period_has_data(flags))
                .then(pl.lit("no"))
                .otherwise(pl.lit("unknown"))
                .alias(flag)
                for flag in flags
            ),
            period_start=pl.col("start").dt.strftime(_DATE),
            period_end=(pl.col("end") - pl.duration(days=1)).dt.strftime(_DATE),
            assessed_until=pl.col("assessed_until").fill_null(""),
        )
        .sort("patient_id", "order")
    )
    return table.select(pl.col(field.key).cast(pl.String).alias(field.column) for field in fields)


def write_registry_csv(
    frame: pl.DataFrame, path: str | Path, *, format: str, header: Iterable[str] = ()
) -> Path:
    """Write the export as CSV, preceded by ``#`` comment lines naming the form, its version,
    the periods and the caveat that this is a mapping for data managers."""
    _check_format(format)
    path = Path(path)
    periods = reporting_periods(format)
    lines = [
        f"# crswatch registry export, format={format}: a field-level mapping for data managers,",
        "# NOT an official submission file. Each column, its form item and its source are"
        " listed below.",
        "# Form: "
        + (
            "CIBMTR F4100 Cellular Therapy Essential Data Follow-Up (form revision 10)"
            if format == "cibmtr"
            else "EBMT MED-A / MED-B Cellular Therapy (CRS / ICANS items, paraphrased)"
        ),
        "# Periods (days after therapy start): "
        + "; ".join(f"{p.period} = day {p.first_day}-{p.last_day}" for p in periods),
        f"# Grades: {_SCALE_NAME} CRS and ICANS; 'unknown' = not assessable or ambiguous "
        "(bounds in *_grade_bounds), never 0.",
        *(f"# {line}" for line in header),
        "# Columns:",
        *(
            f"#   {field.column}: {field.form_item}. Source: {field.source}"
            for field in registry_fields(format)
        ),
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(lines) + "\n")
        frame.write_csv(handle)
    return path
