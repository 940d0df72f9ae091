"""Kinetics of CRP, ferritin, fibrinogen, IL-6, D-dimer, LDH and transaminases, with flags.

For each analyte (and unit: D-dimer FEU and DDU are kept apart), up to T: the baseline (last
result in [therapy_start - baseline_window, therapy_start]), the peak after the therapy start
(the highest; for fibrinogen, whose danger is a fall, the lowest) and its time, the fold change
peak / baseline, the latest result, and from the last two successive results the rate of change
per day and the doubling (rising) or halving (falling) time, ``dt * ln 2 / |ln(v2 / v1)|``.
Censored results use the LOD rule (:mod:`crswatch.biomarkers._lod`) and carry its flag.

Flags, each with its source (docs/decisions/0012-biomarkers.md):

- ``crp_after_il6_blockade``: CRP measured after tocilizumab or siltuximab is unreliable: "in
  patients receiving tocilizumab, the reliability of CRP for monitoring inflammation is much
  reduced as IL-6 blockade itself lowers CRP levels" (seed 001, Ojemolon 2022).
- ``il6_rise_after_tocilizumab``: an IL-6 result after tocilizumab above the last one before it
  is expected, not worsening: "IL-6 levels continue to rise transiently after tocilizumab,
  because it continues to be produced and tocilizumab blocks IL-6R-mediated endocytosis" (seed
  003, Lee 2014, Figure 3 legend).
- ``ferritin_above_10000``: ferritin > 10,000 ng/mL: "virtually pathognomonic for HLH/MAS, but
  ... insufficient to make the diagnosis in isolation" (seed 000, Teachey 2013); the carHLH
  threshold (clinical-criteria §3.3).
- ``fibrinogen_below_150``: fibrinogen < 150 mg/dL (IEC-HS hypofibrinogenaemia [R], §3.4; HLH-2004
  uses <= 1.5 g/L, §3.1).
- ``fibrinogen_falling_fast``: crswatch rule, see :class:`BiomarkerParameters`.

"CRP peak has passed" (seed 003, Lee 2014: "declining CRP levels, although potentially lagging
behind declines in cytokine levels by 1 to 2 days, may be useful to identify the peak of the
syndrome"; seed 001: "declining levels of CRP may be used to identify the peak severity"), as a
crswatch rule: the maximum CRP after the therapy start is followed by at least
``crp_peak_falls`` results, the last ``crp_peak_falls`` of which each fell, and the latest is at
least ``crp_peak_min_fall`` below the maximum.  It is marked confounded when tocilizumab or
siltuximab was given before the latest result (the fall may be the drug's, seed 001).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, Literal

from crswatch.biomarkers._common import Flag, Point, baseline_of, holds, series
from crswatch.biomarkers._lod import LOD_RULE
from crswatch.biomarkers._params import BiomarkerParameters
from crswatch.references import cite
from crswatch.timeline import Timeline, format_time

__all__ = [
    "ANALYTES",
    "KINETICS_SCHEMA",
    "Analyte",
    "BiomarkerKinetics",
    "CRPPeakSignal",
    "Kinetics",
    "crp_peak_signal",
    "kinetics",
]

KINETICS_SCHEMA = "crswatch.biomarkers/1"
IL6_BLOCKADE = ("tocilizumab", "siltuximab")
_SEED_000 = cite("teachey2013") + ": 'Hyperferritinemia >10 000 ng/mL ...'"
_SEED_001 = cite("ojemolon2022")
_SEED_003 = cite("lee2014")


@dataclass(frozen=True, slots=True)
class Analyte:
    """A monitored analyte: the direction of concern decides what its 'peak' is."""

    item: str
    label: str
    concern: Literal["rise", "fall"]


ANALYTES: tuple[Analyte, ...] = (
    Analyte("crp", "C-reactive protein", "rise"),
    Analyte("ferritin", "Ferritin", "rise"),
    Analyte("fibrinogen", "Fibrinogen", "fall"),
    Analyte("il6", "Interleukin-6", "rise"),
    Analyte("d_dimer", "D-dimer", "rise"),
    Analyte("ldh", "Lactate dehydrogenase", "rise"),
    Analyte("ast", "Aspartate aminotransferase", "rise"),
    Analyte("alt", "Alanine aminotransferase", "rise"),
)


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class Kinetics:
    """One analyte's course up to T."""

    item: str
    label: str
    unit: str | None
    concern: Literal["rise", "fall"]
    points: tuple[Point, ...]
    baseline: Point | None
    peak: Point | None
    latest: Point | None
    fold_change: float | None
    rate_per_day: float | None
    doubling_time_hours: float | None
    halving_time_hours: float | None
    #: The fastest doubling (rise) or the fastest fall in % of the earlier value per 24 h (fall)
    #: between successive results.
    fastest_doubling_time_hours: float | None
    fastest_fall_pct_per_day: float | None
    flags: tuple[Flag, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def point(p: Point | None) -> dict[str, Any] | None:
            return p.to_dict() if p is not None else None

        return {
            "item": self.item,
            "label": self.label,
            "unit": self.unit,
            "concern": self.concern,
            "n": len(self.points),
            "baseline": point(self.baseline),
            "peak": point(self.peak),
            "peak_hours_from_start": _round(self.peak.hours) if self.peak else None,
            "latest": point(self.latest),
            "fold_change": _round(self.fold_change),
            "rate_per_day": _round(self.rate_per_day),
            "doubling_time_hours": _round(self.doubling_time_hours),
            "halving_time_hours": _round(self.halving_time_hours),
            "fastest_doubling_time_hours": _round(self.fastest_doubling_time_hours),
            "fastest_fall_pct_per_day": _round(self.fastest_fall_pct_per_day),
            "censored_results": sum(1 for p in self.points if p.stat.censored),
            "flags": [f.to_dict() for f in self.flags],
            "points": [p.to_dict() for p in self.points],
        }


@dataclass(frozen=True, slots=True)
class CRPPeakSignal:
    """Whether CRP has passed its peak at T (None: no CRP after the therapy start)."""

    passed: bool | None
    peak: Point | None
    latest: Point | None
    falls: int
    fall_fraction: float | None
    #: The result that showed the peak had passed (the latest, when ``passed``).
    confirmed_at: datetime | None
    confounded_by_il6_blockade: bool
    rule: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "peak": self.peak.to_dict() if self.peak else None,
            "latest": self.latest.to_dict() if self.latest else None,
            "consecutive_falls": self.falls,
            "fall_fraction_from_peak": _round(self.fall_fraction),
            "confirmed_at": format_time(self.confirmed_at) if self.confirmed_at else None,
            "confounded_by_il6_blockade": self.confounded_by_il6_blockade,
            "rule": self.rule,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class BiomarkerKinetics:
    """Every analyte's kinetics for one patient at T, and the CRP peak signal."""

    patient_id: str
    at: datetime
    analytes: tuple[Kinetics, ...]
    crp_peak: CRPPeakSignal
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(flag for analyte in self.analytes for flag in analyte.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": KINETICS_SCHEMA,
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "flags": [f.to_dict() for f in self.flags],
            "crp_peak": self.crp_peak.to_dict(),
            "analytes": [a.to_dict() for a in self.analytes],
            "lod_rule": LOD_RULE,
            "parameters": self.parameters,
        }


def _pair_rates(a: Point, b: Point) -> tuple[float | None, float | None, float | None]:
    """Rate per day, doubling time and halving time (hours) from ``a`` to ``b``."""
    hours = (b.time - a.time).total_seconds() / 3600
    if hours <= 0:
        return None, None, None
    rate = (b.value - a.value) / hours * 24
    doubling = halving = None
    if a.value > 0 and b.value > 0 and a.value != b.value:
        step = hours * math.log(2) / abs(math.log(b.value / a.value))
        doubling, halving = (step, None) if b.value > a.value else (None, step)
    return rate, doubling, halving


def _fall_pct_per_day(a: Point, b: Point) -> float | None:
    hours = (b.time - a.time).total_seconds() / 3600
    if hours <= 0 or a.value <= 0 or b.value >= a.value:
        return None
    return (a.value - b.value) / a.value * 100 / hours * 24


def _first_dose(timeline: Timeline, items: tuple[str, ...], until: datetime) -> datetime | None:
    doses = [e.time for e in timeline.of(*items) if e.time <= until]
    return min(doses) if doses else None


def _flags(
    analyte: Analyte,
    points: list[Point],
    baseline: Point | None,
    peak: Point | None,
    fastest_fall: tuple[float, Point] | None,
    timeline: Timeline,
    at: datetime,
    params: BiomarkerParameters,
) -> list[Flag]:
    flags: list[Flag] = []
    blockade = _first_dose(timeline, IL6_BLOCKADE, at)
    tocilizumab = _first_dose(timeline, ("tocilizumab",), at)
    if analyte.item == "crp" and blockade is not None:
        after = [p for p in points if p.time >= blockade]
        if after:
            flags.append(
                Flag(
                    id="crp_after_il6_blockade",
                    message="CRP after IL-6 blockade (tocilizumab/siltuximab) is unreliable: the "
                    "drug itself lowers CRP; a fall is not evidence of resolution.",
                    source=f"{_SEED_001}: 'IL-6 blockade itself lowers CRP levels'",
                    tag="seed",
                    time=after[0].time,
                    values={"first_il6_blockade": format_time(blockade)},
                )
            )
    if analyte.item == "il6" and tocilizumab is not None:
        before = [p for p in points if p.time < tocilizumab]
        rises = (
            [p for p in points if p.time >= tocilizumab and p.value > before[-1].value]
            if before
            else []
        )
        if rises:
            flags.append(
                Flag(
                    id="il6_rise_after_tocilizumab",
                    message="IL-6 rose after tocilizumab: expected with IL-6 receptor blockade "
                    "(IL-6R-mediated clearance is blocked), not a sign of worsening.",
                    source=f"{_SEED_003}, Figure 3 legend",
                    tag="seed",
                    time=rises[0].time,
                    values={"before": before[-1].value, "after": rises[0].value},
                )
            )
    if analyte.item == "ferritin" and peak is not None and holds(peak.value, ">", 10000.0):
        flags.append(
            Flag(
                id="ferritin_above_10000",
                message="Ferritin > 10,000 ng/mL: strongly suggests HLH/MAS but does not make the "
                "diagnosis alone; screen with crswatch hlh.",
                source=f"{_SEED_000}; carHLH threshold ({cite('mgh-carhlh')})",
                tag="seed",
                time=peak.time,
                values={"ferritin_ng_ml": peak.value},
            )
        )
    if analyte.item == "fibrinogen" and peak is not None:
        if holds(peak.value, "<", 150.0):
            flags.append(
                Flag(
                    id="fibrinogen_below_150",
                    message="Fibrinogen < 150 mg/dL: hypofibrinogenaemia (HLH/IEC-HS feature).",
                    source="IEC-HS hypofibrinogenaemia < 150 mg/dL ("
                    + cite("hines2023")
                    + ", not verified); HLH-2004 fibrinogen ≤ 1.5 g/L (Henter et al., Pediatr "
                    "Blood Cancer 2007)",
                    tag="R",
                    time=peak.time,
                    values={"fibrinogen_mg_dl": peak.value},
                )
            )
        fast = _falling_fast(baseline, peak, fastest_fall, params)
        if fast is not None:
            flags.append(fast)
    return flags


def _falling_fast(
    baseline: Point | None,
    nadir: Point,
    fastest_fall: tuple[float, Point] | None,
    params: BiomarkerParameters,
) -> Flag | None:
    reasons: list[str] = []
    values: dict[str, Any] = {}
    time = None
    if baseline is not None and baseline.value > 0:
        drop = (baseline.value - nadir.value) / baseline.value * 100
        values["decrease_from_baseline_pct"] = round(drop, 6)
        if holds(drop, ">=", params.fibrinogen_fall_from_baseline_pct):
            reasons.append(
                f"{drop:.0f} % below baseline (>= {params.fibrinogen_fall_from_baseline_pct:g} %, "
                "CTCAE v4.03 'Fibrinogen decreased' grade 3)"
            )
            time = nadir.time
    if fastest_fall is not None:
        rate, point = fastest_fall
        values["fastest_fall_pct_per_day"] = round(rate, 6)
        if holds(rate, ">=", params.fibrinogen_fast_fall_pct_per_day):
            reasons.append(
                f"fell {rate:.0f} %/day between successive results "
                f"(>= {params.fibrinogen_fast_fall_pct_per_day:g} %/day, crswatch rule)"
            )
            time = time or point.time
    if not reasons:
        return None
    return Flag(
        id="fibrinogen_falling_fast",
        message="Fibrinogen falling fast: " + "; ".join(reasons) + ".",
        source=(
            cite("crswatch-convention", "fibrinogen trend")
            + "; NCI CTCAE v4.03, fibrinogen decreased"
        ),
        tag="rule",
        time=time,
        values=values,
    )


def _analyte_kinetics(
    timeline: Timeline,
    analyte: Analyte,
    unit: str | None,
    at: datetime,
    params: BiomarkerParameters,
) -> Kinetics:
    start = timeline.patient.therapy.start
    points = series(timeline, analyte.item, at, unit)
    baseline = baseline_of(points, start, params.baseline_window)
    after = [p for p in points if p.time >= start]
    peak = None
    if after:
        sign = 1.0 if analyte.concern == "rise" else -1.0
        # The extreme value; ties go to the latest (a plateau has not started to fall).
        peak = max(after, key=lambda p: (sign * p.value, p.time))
    fold = None
    if peak is not None and baseline is not None and baseline.value > 0:
        fold = peak.value / baseline.value
    rate = doubling = halving = None
    if len(points) >= 2:
        rate, doubling, halving = _pair_rates(points[-2], points[-1])
    doublings = [d for a, b in pairwise(points) if (d := _pair_rates(a, b)[1])]
    falls = [(f, b) for a, b in pairwise(points) if (f := _fall_pct_per_day(a, b))]
    fastest_fall = max(falls, key=lambda pair: pair[0]) if falls else None
    flags = _flags(analyte, points, baseline, peak, fastest_fall, timeline, at, params)
    return Kinetics(
        item=analyte.item,
        label=analyte.label,
        unit=unit,
        concern=analyte.concern,
        points=tuple(points),
        baseline=baseline,
        peak=peak,
        latest=points[-1] if points else None,
        fold_change=fold,
        rate_per_day=rate,
        doubling_time_hours=doubling,
        halving_time_hours=halving,
        fastest_doubling_time_hours=min(doublings) if doublings else None,
        fastest_fall_pct_per_day=fastest_fall[0] if fastest_fall else None,
        flags=tuple(flags),
    )


def crp_peak_signal(
    timeline: Timeline, at: datetime, params: BiomarkerParameters | None = None
) -> CRPPeakSignal:
    """Has CRP passed its peak at ``at``?  (The crswatch rule of the module docstring.)"""
    params = params or BiomarkerParameters()
    start = timeline.patient.therapy.start
    after = [p for p in series(timeline, "crp", at) if p.time >= start]
    rule = (
        f"the last {params.crp_peak_falls} CRP results after the post-therapy maximum each fell, "
        f"and the latest is >= {params.crp_peak_min_fall:.0%} below the maximum"
    )
    source = (
        f"{_SEED_003}: 'declining CRP levels ... may be useful to identify the peak of the "
        f"syndrome'; {_SEED_001}; the thresholds are a crswatch rule"
    )
    if not after:
        return CRPPeakSignal(None, None, None, 0, None, None, False, rule, source)
    peak = max(after, key=lambda p: (p.value, p.time))
    tail = [peak, *(p for p in after if p.time > peak.time)]
    falls = 0
    for earlier, later in zip(reversed(tail[:-1]), reversed(tail[1:]), strict=True):
        if later.value < earlier.value:
            falls += 1
        else:
            break
    latest = tail[-1]
    fraction = (peak.value - latest.value) / peak.value if peak.value > 0 else None
    passed = falls >= params.crp_peak_falls and bool(
        holds(fraction, ">=", params.crp_peak_min_fall)
    )
    blockade = _first_dose(timeline, IL6_BLOCKADE, latest.time)
    return CRPPeakSignal(
        passed=passed,
        peak=peak,
        latest=latest,
        falls=falls,
        fall_fraction=fraction,
        confirmed_at=latest.time if passed else None,
        confounded_by_il6_blockade=blockade is not None and latest.time > peak.time,
        rule=rule,
        source=source,
    )


def kinetics(
    timeline: Timeline, at: datetime | None = None, params: BiomarkerParameters | None = None
) -> BiomarkerKinetics:
    """The kinetics of every monitored analyte for one timeline at ``at`` (default: the end)."""
    params = params or BiomarkerParameters()
    if at is None:
        at = max((e.time for e in timeline.events), default=timeline.patient.therapy.start)
    analytes = []
    for analyte in ANALYTES:
        units = list(dict.fromkeys(e.unit for e in timeline.of(analyte.item) if e.time <= at))
        for unit in units or [None]:
            analytes.append(_analyte_kinetics(timeline, analyte, unit, at, params))
    return BiomarkerKinetics(
        patient_id=timeline.patient.id,
        at=at,
        analytes=tuple(analytes),
        crp_peak=crp_peak_signal(timeline, at, params),
        parameters=params.to_dict(),
    )
