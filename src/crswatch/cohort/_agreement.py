"""Incidence, onset, time to tocilizumab and cross-scale agreement over a graded cohort.

Pure functions over the tables of the ``crswatch.cohort/1`` output (``peaks``, ``episodes``,
``treatments``, ``patients``); definitions in docs/decisions/0020-cohort-report-export.md.

A peak is a **hard grade** when its lower and upper bounds agree (``peak_grade == peak_upper``);
otherwise missing data or undecided wording left it a range, and the patient is counted apart
(never as grade 0) and left out of that scale's agreement statistics, with the exclusion counted.

Sources: the re-grading studies report presence agreement (all scales agree CRS was present or
absent: 99 %) and exact-grade agreement on every scale (25 %; Pennisi et al., Blood Adv
2020;4:676) and, per scale pair, same / lower / higher among the patients with CRS on the source
scale (JULIET re-grade, Schuster et al., Blood Adv 2020;4(7):1432: Penn → ASTCT 37 / 23 / 4 of
64); ``../shared/spec/clinical-criteria.md`` §6.2.  Weighted kappa is Cohen's (Cohen 1968,
Psychol Bull 70:213), computed by scikit-learn's ``cohen_kappa_score``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import polars as pl

from crswatch.episodes import peak_status
from crswatch.errors import InputError
from crswatch.scales import CRS_SCALES, ICANS_SCALES

__all__ = [
    "MAX_GRADE",
    "Agreement",
    "Regrade",
    "cross_scale_agreement",
    "follow_up_peaks",
    "incidence",
    "onset_and_duration",
    "pair_agreement",
    "regrade",
    "same_grade_everywhere",
    "scales_in",
    "summary_stats",
    "time_to_tocilizumab",
]

#: The highest grade on every CRS and ICANS scale (grade 5 = death).
MAX_GRADE = 5

_HOURS = 3_600_000_000  # microseconds in an hour


def scales_in(peaks: pl.DataFrame, kind: str = "crs") -> list[str]:
    """The scales of syndrome ``kind`` present in ``peaks``, in the registry's display order."""
    present = set(peaks.filter(pl.col("kind") == kind)["scale"].unique().to_list())
    registry = list(CRS_SCALES if kind == "crs" else ICANS_SCALES)
    ordered = [scale for scale in registry if scale in present]
    return ordered + sorted(present - set(ordered))


def _normalise(peaks: pl.DataFrame) -> pl.DataFrame:
    """A scale with no grade at all for a patient is entirely unknown: bounds 0 to 5."""
    return peaks.with_columns(
        pl.col("peak_grade").fill_null(0), pl.col("peak_upper").fill_null(MAX_GRADE)
    )


def _hard() -> pl.Expr:
    return pl.col("peak_grade") == pl.col("peak_upper")


def follow_up_peaks(trajectory: pl.DataFrame, patients: pl.DataFrame) -> pl.DataFrame:
    """Peak grade bounds per patient, syndrome and scale over the **assessed follow-up**.

    Follow-up runs from the first moment at or after therapy start at which the scale was
    graded to the moment the last graded state ended (the trajectory holds change points; a
    state holds until the next).  Columns as the ``peaks`` table (``peak_grade``,
    ``peak_upper``) plus ``follow_up_start`` / ``follow_up_end``.

    Why: a record's trajectory begins before the first data arrive and ends after monitoring
    stops, and both stretches are "not assessable" with wide bounds, which would make almost
    every whole-record peak a range.  Those stretches are outside observation (as a registry
    reports up to the last contact), not uncertainty within it; a not-assessable stretch
    *between* two graded assessments still widens the bounds.  A scale never graded after the
    start keeps the bounds of its whole post-start record.
    """
    keys = ["patient_id", "kind", "scale"]
    rows = (
        trajectory.join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .sort(*keys, "at")
        .with_columns(next_at=pl.col("at").shift(-1).over(keys))
        .filter(pl.col("next_at").is_null() | (pl.col("next_at") > pl.col("therapy_start")))
    )
    start = pl.max_horizontal("at", "therapy_start")
    # Provisional is a grade on record (decision 0026): it counts as assessed follow-up.
    graded = pl.col("status").is_in(("graded", "provisional"))
    # A graded state holds until the next change point: follow-up ends where the last graded
    # state gave way to a not-assessable one (or at the last row, if the record ends graded).
    until = pl.coalesce("next_at", "at")
    windows = rows.group_by(keys).agg(
        start.filter(graded).min().alias("follow_up_start"),
        until.filter(graded).max().alias("follow_up_end"),
        pl.col("lower").max().alias("record_lower"),
        pl.col("upper").max().alias("record_upper"),
    )
    inside = rows.join(windows, on=keys).filter(
        (
            (pl.col("at") < pl.col("follow_up_end"))
            | ((pl.col("at") == pl.col("follow_up_end")) & graded)
        )
        & (pl.col("next_at").is_null() | (pl.col("next_at") > pl.col("follow_up_start")))
    )
    bounds = inside.group_by(keys).agg(
        pl.col("lower").max().alias("peak_grade"),
        pl.col("upper").max().alias("peak_upper"),
        # The highest upper bound of the states that are not provisional: when it does not
        # exceed the peak, only missing data (provisional states) leave the peak open.
        pl.col("upper")
        .filter(pl.col("status") != "provisional")
        .max()
        .alias("_upper_not_provisional"),
    )
    return (
        windows.join(bounds, on=keys, how="left")
        .with_columns(
            peak_grade=pl.coalesce("peak_grade", "record_lower").cast(pl.Int32),
            peak_upper=pl.coalesce("peak_upper", "record_upper").cast(pl.Int32),
        )
        .with_columns(peak_status=peak_status(pl.col("_upper_not_provisional")))
        .select(
            *keys, "peak_grade", "peak_upper", "peak_status", "follow_up_start", "follow_up_end"
        )
        .sort(keys)
    )


def _pct(count: int, total: int) -> float | None:
    return None if total == 0 else round(100.0 * count / total, 1)


def incidence(peaks: pl.DataFrame) -> pl.DataFrame:
    """Per syndrome and scale: patients by peak grade, any grade and grade ≥ 3, with %.

    ``grade_0`` … ``grade_5`` count hard peaks and provisional ones (the grade on record;
    ``provisional`` says how many of them are provisional, shown apart); ``uncertain`` counts
    patients whose peak is a range (not assessable or ambiguous), shown apart.  ``any_grade``
    counts patients certainly graded ≥ 1 (the lower bound), ``any_grade_uncertain`` those whose
    range straddles 0/1; likewise ``grade3plus``.  Percentages are of all ``patients`` on the
    scale.
    """
    _require(peaks, ("patient_id", "kind", "scale", "peak_grade", "peak_upper"), "peaks")
    peaks = _normalise(peaks)
    low, high = pl.col("peak_grade"), pl.col("peak_upper")
    provisional = (
        pl.col("peak_status") == "provisional" if "peak_status" in peaks.columns else pl.lit(False)
    )
    on_record = (low == high) | provisional
    aggs: list[pl.Expr] = [pl.len().alias("patients")]
    aggs += [(on_record & (low == g)).sum().alias(f"grade_{g}") for g in range(MAX_GRADE + 1)]
    aggs += [
        provisional.sum().alias("provisional"),
        (~on_record).sum().alias("uncertain"),
        (low >= 1).sum().alias("any_grade"),
        ((low < 1) & (high >= 1)).sum().alias("any_grade_uncertain"),
        (low >= 3).sum().alias("grade3plus"),
        ((low < 3) & (high >= 3)).sum().alias("grade3plus_uncertain"),
    ]
    table = peaks.group_by("kind", "scale").agg(aggs)
    rows: list[dict[str, Any]] = []
    for kind in ("crs", "icans"):
        for scale in scales_in(peaks, kind):
            row = table.filter((pl.col("kind") == kind) & (pl.col("scale") == scale)).row(
                0, named=True
            )
            total = int(row["patients"])
            for name in ("any_grade", "grade3plus", "uncertain", "provisional"):
                row[f"{name}_pct"] = _pct(int(row[name]), total)
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def summary_stats(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, median, 25th and 75th percentile, minimum and maximum (linear interpolation, as
    ``numpy.percentile``'s default and seed 004's "median with 25th and 75th percentile")."""
    clean = sorted(v for v in values if v is not None and not math.isnan(v))
    if not clean:
        return {"n": 0, "median": None, "q1": None, "q3": None, "min": None, "max": None}
    series = pl.Series(clean, dtype=pl.Float64)
    return {
        "n": len(clean),
        "median": _round(series.quantile(0.5, "linear")),
        "q1": _round(series.quantile(0.25, "linear")),
        "q3": _round(series.quantile(0.75, "linear")),
        "min": _round(clean[0]),
        "max": _round(clean[-1]),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def onset_and_duration(episodes: pl.DataFrame, patients: pl.DataFrame) -> pl.DataFrame:
    """Per syndrome and scale: onset of the first episode (hours from therapy start) and the
    duration of every resolved episode (hours), as n / median / IQR; unresolved episodes counted.
    """
    _require(episodes, ("patient_id", "kind", "scale", "episode", "onset"), "episodes")
    starts = patients.select("patient_id", "therapy_start")
    timed = episodes.join(starts, on="patient_id", how="left").with_columns(
        onset_h=(pl.col("onset") - pl.col("therapy_start")).dt.total_microseconds() / _HOURS
    )
    rows: list[dict[str, Any]] = []
    for kind in ("crs", "icans"):
        for scale in scales_in(episodes, kind):
            part = timed.filter((pl.col("kind") == kind) & (pl.col("scale") == scale))
            first = part.sort("episode").group_by("patient_id").first()
            durations = part["duration_hours"].drop_nulls().to_list()
            rows.append(
                {
                    "kind": kind,
                    "scale": scale,
                    "patients": first.height,
                    "episodes": part.height,
                    "unresolved": int(part["resolution"].is_null().sum()),
                    "onset": summary_stats(first["onset_h"].to_list()),
                    "duration": summary_stats(durations),
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def time_to_tocilizumab(
    treatments: pl.DataFrame,
    episodes: pl.DataFrame,
    patients: pl.DataFrame,
    *,
    scale: str = "astct2019",
) -> pl.DataFrame:
    """Per patient: first tocilizumab, hours from therapy start and from the onset of the first
    CRS episode on ``scale`` (null without an episode; negative if given before onset)."""
    first = (
        treatments.filter(pl.col("item") == "tocilizumab")
        .group_by("patient_id")
        .agg(pl.col("time").min().alias("first_tocilizumab"))
    )
    onset = (
        episodes.filter((pl.col("kind") == "crs") & (pl.col("scale") == scale))
        .group_by("patient_id")
        .agg(pl.col("onset").min().alias("crs_onset"))
    )
    hours = (pl.col("first_tocilizumab") - pl.col("therapy_start")).dt.total_microseconds()
    from_onset = (pl.col("first_tocilizumab") - pl.col("crs_onset")).dt.total_microseconds()
    return (
        patients.select("patient_id", "therapy_start")
        .join(first, on="patient_id", how="inner")
        .join(onset, on="patient_id", how="left")
        .with_columns(
            hours_from_start=hours / _HOURS,
            hours_from_onset=from_onset / _HOURS,
        )
        .sort("patient_id")
    )


@dataclass(frozen=True, slots=True)
class Agreement:
    """Two scales graded on the same patients: the confusion matrix and Cohen's kappa."""

    kind: str
    scale_a: str
    scale_b: str
    #: Patients with a hard peak on both scales.
    patients: int
    #: Patients left out because the peak was a range on one scale or both.
    excluded: int
    #: ``matrix[i][j]``: patients with peak ``i`` on ``scale_a`` and ``j`` on ``scale_b``.
    matrix: list[list[int]] = field(repr=False)
    same: int
    kappa_linear: float | None
    kappa_quadratic: float | None

    @property
    def same_pct(self) -> float | None:
        return _pct(self.same, self.patients)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scale_a": self.scale_a,
            "scale_b": self.scale_b,
            "patients": self.patients,
            "excluded": self.excluded,
            "matrix": self.matrix,
            "same": self.same,
            "same_pct": self.same_pct,
            "kappa_linear": self.kappa_linear,
            "kappa_quadratic": self.kappa_quadratic,
        }


def _paired(peaks: pl.DataFrame, a: str, b: str, kind: str) -> tuple[pl.DataFrame, int]:
    """Patients graded on both scales; those with a hard peak on both, and how many were not."""
    part = _normalise(peaks.filter(pl.col("kind") == kind))
    for scale in (a, b):
        if part.filter(pl.col("scale") == scale).is_empty():
            raise InputError(f"scale={scale!r}: no {kind} peaks for it in the cohort")
    left = part.filter(pl.col("scale") == a).select(
        "patient_id", a_grade="peak_grade", a_hard=_hard()
    )
    right = part.filter(pl.col("scale") == b).select(
        "patient_id", b_grade="peak_grade", b_hard=_hard()
    )
    both = left.join(right, on="patient_id", how="inner")
    hard = both.filter(pl.col("a_hard") & pl.col("b_hard"))
    return hard, both.height - hard.height


def _kappa(a: list[int], b: list[int], weights: str) -> float | None:
    # Imported here: scikit-learn (and SciPy) cost about a second to import, and the cohort
    # package is also imported by Spark workers that never compute a kappa.
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    labels = list(range(MAX_GRADE + 1))
    if not a:
        return None
    with warnings.catch_warnings():
        # One grade on both scales for everyone makes kappa 0/0: scikit-learn warns, returns nan.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        value = float(cohen_kappa_score(a, b, labels=labels, weights=weights))
    return None if math.isnan(value) else round(value, 4)


def pair_agreement(peaks: pl.DataFrame, scale_a: str, scale_b: str, kind: str = "crs") -> Agreement:
    """Confusion matrix and linear / quadratic weighted kappa of two scales' peak grades."""
    hard, excluded = _paired(peaks, scale_a, scale_b, kind)
    a = [int(v) for v in hard["a_grade"]]
    b = [int(v) for v in hard["b_grade"]]
    matrix = [[0] * (MAX_GRADE + 1) for _ in range(MAX_GRADE + 1)]
    for i, j in zip(a, b, strict=True):
        matrix[i][j] += 1
    return Agreement(
        kind=kind,
        scale_a=scale_a,
        scale_b=scale_b,
        patients=len(a),
        excluded=excluded,
        matrix=matrix,
        same=sum(1 for i, j in zip(a, b, strict=True) if i == j),
        kappa_linear=_kappa(a, b, "linear"),
        kappa_quadratic=_kappa(a, b, "quadratic"),
    )


def cross_scale_agreement(peaks: pl.DataFrame, kind: str = "crs") -> list[Agreement]:
    """:func:`pair_agreement` for every pair of scales of ``kind`` in the cohort."""
    return [pair_agreement(peaks, a, b, kind) for a, b in combinations(scales_in(peaks, kind), 2)]


def same_grade_everywhere(peaks: pl.DataFrame, kind: str = "crs") -> dict[str, Any]:
    """How many patients have the same peak grade on every scale (Pennisi 2020: 25 % for CRS),
    and agree on presence (all ≥ 1 or all 0; Pennisi: 99 %).  Only patients with a hard peak on
    every scale count; the others are reported as ``excluded``."""
    scales = scales_in(peaks, kind)
    part = _normalise(peaks.filter(pl.col("kind") == kind))
    per_patient = part.group_by("patient_id").agg(
        pl.len().alias("n"),
        _hard().all().alias("hard"),
        pl.col("peak_grade").n_unique().alias("distinct"),
        (pl.col("peak_grade") >= 1).any().alias("some"),
        (pl.col("peak_grade") >= 1).all().alias("all"),
    )
    complete = per_patient.filter((pl.col("n") == len(scales)) & pl.col("hard"))
    total = complete.height
    same = int((complete["distinct"] == 1).sum())
    presence = int((complete["all"] | ~complete["some"]).sum())
    return {
        "kind": kind,
        "scales": scales,
        "patients": total,
        "excluded": per_patient.height - total,
        "same_grade": same,
        "same_grade_pct": _pct(same, total),
        "same_presence": presence,
        "same_presence_pct": _pct(presence, total),
    }


@dataclass(frozen=True, slots=True)
class Regrade:
    """Source → target re-grade as the JULIET re-grade reports it (among patients with CRS on
    the source scale: the target grade the same, lower or higher)."""

    kind: str
    source: str
    target: str
    #: Patients with a hard peak ≥ 1 on the source scale and a hard peak on the target.
    with_event: int
    same: int
    lower: int
    higher: int
    #: Of ``lower``: graded 0 on the target (no CRS at all).
    to_none: int
    #: Patients graded 0 on the source but ≥ 1 on the target (not in the denominator).
    new_on_target: int
    #: Patients left out because the peak was a range on one scale or both.
    excluded: int
    #: Every change among ``with_event``: (source grade, target grade, patients), lower first,
    #: so the table says which way each count goes.
    changes: tuple[tuple[int, int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "with_event": self.with_event,
            "same": self.same,
            "same_pct": _pct(self.same, self.with_event),
            "lower": self.lower,
            "lower_pct": _pct(self.lower, self.with_event),
            "higher": self.higher,
            "higher_pct": _pct(self.higher, self.with_event),
            "to_none": self.to_none,
            "new_on_target": self.new_on_target,
            "excluded": self.excluded,
            "changes": [
                {"source_grade": a, "target_grade": b, "patients": n} for a, b, n in self.changes
            ],
            "changes_text": "; ".join(
                f"{a} → {b}: {n} ({'lower' if b < a else 'higher'})" for a, b, n in self.changes
            ),
        }


def regrade(peaks: pl.DataFrame, source: str, target: str, kind: str = "crs") -> Regrade:
    """Same / lower / higher peak grade on ``target`` for patients with an event on ``source``."""
    hard, excluded = _paired(peaks, source, target, kind)
    events = hard.filter(pl.col("a_grade") >= 1)
    src, dst = pl.col("a_grade"), pl.col("b_grade")
    return Regrade(
        kind=kind,
        source=source,
        target=target,
        with_event=events.height,
        same=int((events["a_grade"] == events["b_grade"]).sum()),
        lower=events.filter(dst < src).height,
        higher=events.filter(dst > src).height,
        to_none=events.filter(dst == 0).height,
        new_on_target=hard.filter((src == 0) & (dst >= 1)).height,
        excluded=excluded,
        changes=tuple(
            (int(a), int(b), int(n))
            for a, b, n in events.filter(dst != src)
            .group_by("a_grade", "b_grade")
            .len()
            .sort(pl.col("b_grade") > pl.col("a_grade"), "a_grade", "b_grade")
            .rows()
        ),
    )


def _require(frame: pl.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{table}: missing column(s) {missing}; have {frame.columns}")
