"""Chemistry: daily at 06:00, stat panels at escalation and at an HLH-like peak.

Every analyte is a course through knots (log-linear for values that change by folds) with
measurement noise (coefficient of variation 2-8 %, truncated at 2.5 SD).  Choices:

- **CRP** (mg/L): baseline median 8 (CAR T) or 6; each cytokine trigger adds a gamma-variate
  pulse that peaks 24-48 h (CAR T) or 18-30 h (blinatumomab) after that trigger's IL-6 peak, so
  CRP rises and falls 1-2 days after the cytokines (seed 004: IL-6 peaks at 24 h, CRP at 48 h).
  Peak size by tier (medians 10/60/110/160/220 mg/L on CAR T; 40/100/130/170/220 on blinatumomab,
  whose median peak in seed 004 was 10.8 x the ULN of 1.0 mg/dL).  CRP falls within a day of
  tocilizumab (seed 001: "IL-6 blockade itself lowers CRP levels").
- **Ferritin** (ng/mL): baseline median 600 (CAR T), 400 (blinatumomab), 150 (children); rises by
  a tier-dependent fold 1.5-4 days after onset.  HLH-like: climbs to 11,000 + a log-normal part
  with median 11,500 (median about 22,500, seed 000: 885 -> 22,544 ng/mL; seed 003 case 3:
  130,000), then falls to 29 % two days and 10.5 % six days after tocilizumab (seed 000: 6,534
  and 2,361 ng/mL).
- **Fibrinogen** (mg/dL): baseline N(380, 70) (seed 000: 455); a modest acute-phase rise with CRS,
  consumption in 30 % of tier 4; HLH-like: falls to 80-150 (seed 000: 100) and recovers after
  tocilizumab; cryoprecipitate (60 %) and FFP (30 %) when it falls below 150.
- **AST/ALT** (U/L, ULN 35, seed 004): blinatumomab peaks 1-3 days after the start at 1.6 x and
  3.2 x the ULN (seed 004) and returns to baseline by day 28; CAR T folds by tier; HLH-like 8 x
  the ULN (carHLH needs grade >= 3, > 5 x ULN; clinical-criteria §3.3).
- **LDH** (ULN 230, seed 004) peaks 24 h after blinatumomab starts (seed 004), with CRS on CAR T,
  3-8 x in HLH-like courses.  **Bilirubin** 0.3-1.0 mg/dL, up to 2-6 in HLH-like courses.
- **Creatinine**: acute kidney injury in 50 % of tier 3 and 80 % of tier 4 (1.2-3.5 x), dialysis
  for 40 % of tier-4 patients whose creatinine more than doubles and a half.
- **Sodium**: falls 2-8 mmol/L with tier >= 2 CRS and 10-23 in HLH-like courses (seed 000: 142 ->
  119 mmol/L).
- **Blood counts**: see ``_blood_counts``.
- **D-dimer** (ug/mL FEU): baseline median 0.5 (seed 000: 0.45); blinatumomab peaks at 48 h
  around 10 (seed 004: 19.6 x the ULN of 500 ng/mL); HLH-like 8-20 (seed 000: 8.02).
- **Triglycerides**: a baseline value (seed 000: 80 mg/dL); daily in HLH-like courses, rising to
  265-500 mg/dL (HLH-2004 threshold) in 60 % of them (seed 000's stayed normal).
- **Findings** in HLH-like courses: splenomegaly 40 % (seed 000 had none), hepatomegaly 30 %,
  haemophagocytosis on marrow 25 %.

Sampling, noise and reference ranges: see ``_lab_sampling``.
"""

from __future__ import annotations

import math

import numpy as np

from crswatch.simulate._blood_counts import write_blood_counts
from crswatch.simulate._course import Course
from crswatch.simulate._cytokines import CytokinePlan
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import EventLog, FloatArray
from crswatch.simulate._kinetics import knots, log_knots, pulse
from crswatch.simulate._lab_sampling import REFERENCE_SHARE, Anchors, Curve, LabWriter, lab_anchors
from crswatch.simulate._scenario import Scenario
from crswatch.simulate._streams import lognormal, uniform
from crswatch.simulate._vitals import clock_times

__all__ = ["write_labs"]

CRP_PEAK_MEDIAN = {
    "car_t": (10.0, 60.0, 110.0, 160.0, 220.0),
    "blinatumomab": (40.0, 100.0, 130.0, 170.0, 220.0),
}
FERRITIN_FOLD = (1.05, 1.5, 2.0, 3.0, 4.0)
TRANSAMINASE_FOLD = (1.1, 1.3, 1.8, 2.5, 4.0)
LDH_FOLD = (1.05, 1.2, 1.5, 2.0, 2.5)
D_DIMER_FOLD = (1.5, 3.0, 5.0, 8.0, 12.0)
ULN_TRANSAMINASE = 35.0


def write_labs(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    course: Course,
    cytokines: CytokinePlan,
    window: tuple[float, float],
    clock_offset: float,
    log: EventLog,
) -> None:
    """Append the daily, stat and HLH-like laboratory values, transfusions and findings."""
    anchors = lab_anchors(course)
    tier = scenario.crs_tier
    kind = scenario.kind
    daily = clock_times(window, clock_offset, 24.0, at=6.0)
    daily = daily + rng.uniform(-0.33, 0.33, daily.size)
    writer = LabWriter(rng, log, bool(rng.random() < REFERENCE_SHARE), patient.child)
    stat = (
        np.array([anchors.escalation + uniform(rng, 0.5, 2.0)])
        if anchors.escalation is not None
        else np.array([])
    )
    hlh = np.array([anchors.hlh_peak + 0.1]) if anchors.hlh_peak is not None else np.array([])

    def with_stat(*extra: FloatArray) -> FloatArray:
        return np.sort(np.concatenate([daily, *extra]))

    writer.write("crp", with_stat(stat), _crp(rng, kind, tier, cytokines, anchors), 0.05)
    writer.write(
        "ferritin", with_stat(stat, hlh), _ferritin(rng, kind, tier, patient, anchors, window), 0.04
    )
    fibrinogen_curve, nadir = _fibrinogen(rng, tier, anchors, window)
    writer.write("fibrinogen", with_stat(hlh), fibrinogen_curve, 0.05)
    if nadir is not None and nadir[1] < 150.0:
        if rng.random() < 0.6:
            log.add_codes("transfusion", [nadir[0] + 2.0], "cryoprecipitate")
        if rng.random() < 0.3:
            log.add_codes("transfusion", [nadir[0] + 3.0], "ffp")
    for item, fold_peak in (("ast", 1.6), ("alt", 3.2)):
        writer.write(
            item, with_stat(stat), _transaminase(rng, kind, tier, anchors, fold_peak, window), 0.06
        )
    writer.write("ldh", with_stat(hlh), _ldh(rng, kind, tier, anchors, window), 0.05)
    writer.write("bilirubin", daily, _bilirubin(rng, kind, tier, anchors, window), 0.06)
    creatinine, dialysis = _creatinine(rng, tier, patient, anchors, scenario.hlh_like, window)
    writer.write("creatinine", with_stat(stat), creatinine, 0.04)
    if dialysis is not None:
        log.add_codes("dialysis", list(dialysis), ["true", "false"])
    writer.write("sodium", daily, _sodium(rng, tier, anchors, window), 0.007)
    write_blood_counts(rng, writer, kind, patient, anchors, daily, window)
    writer.write("d_dimer", with_stat(hlh), _d_dimer(rng, kind, tier, anchors, window), 0.08)
    _triglycerides(rng, writer, anchors, daily, hlh)
    _findings(rng, log, anchors)


def _crp(
    rng: np.random.Generator, kind: str, tier: int, cytokines: CytokinePlan, anchors: Anchors
) -> Curve:
    baseline = float(np.clip(lognormal(rng, 8.0 if kind == "car_t" else 6.0, 0.8), 0.3, 60.0))
    peak = lognormal(rng, CRP_PEAK_MEDIAN[kind][tier], 0.45)
    lags = [
        uniform(rng, 24.0, 48.0) if kind == "car_t" else uniform(rng, 18.0, 30.0)
        for _ in cytokines.triggers
    ]
    main_strength = cytokines.triggers[cytokines.main].strength

    def curve(t: FloatArray) -> FloatArray:
        rise = np.zeros_like(t)
        for trigger, lag in zip(cytokines.triggers, lags, strict=True):
            size = peak * trigger.strength / main_strength
            rise += size * pulse(t, trigger.origin, trigger.delays["il6"] + lag, 3.0)
        if anchors.calmed is not None:
            rise *= np.exp(-np.maximum(t - anchors.calmed - 12.0, 0.0) / 20.0)
        elif anchors.steroids is not None:
            rise *= np.exp(-np.maximum(t - anchors.steroids - 24.0, 0.0) / 30.0)
        return np.minimum(baseline + rise, 600.0)

    return curve


def _ferritin(
    rng: np.random.Generator,
    kind: str,
    tier: int,
    patient: Demographics,
    anchors: Anchors,
    window: tuple[float, float],
) -> Curve:
    median = 150.0 if patient.child else (600.0 if kind == "car_t" else 400.0)
    baseline = float(np.clip(lognormal(rng, median, 0.7), 15.0, 5000.0))
    if anchors.hlh_peak is not None:
        peak = 11_000.0 + lognormal(rng, 11_500.0, 0.7)
        decay = max(anchors.hlh_peak, anchors.last_tocilizumab or anchors.hlh_peak)
        times = [
            window[0],
            anchors.start,
            anchors.hlh_peak,
            decay,
            decay + 48.0,
            decay + 144.0,
            decay + 300.0,
        ]
        values = [
            baseline,
            baseline,
            peak,
            peak,
            peak * 0.29,
            peak * 0.105,
            max(baseline, peak * 0.03),
        ]
    else:
        fold = FERRITIN_FOLD[tier] * math.exp(0.3 * rng.standard_normal())
        fold = max(fold, 1.0)
        top = anchors.start + uniform(rng, 36.0, 96.0)
        times = [window[0], anchors.start, top, top + 96.0, top + 240.0]
        values = [
            baseline,
            baseline,
            baseline * fold,
            baseline * (1 + (fold - 1) * 0.45),
            baseline * (1 + (fold - 1) * 0.12),
        ]
    return lambda t: log_knots(t, times, values)


def _fibrinogen(
    rng: np.random.Generator, tier: int, anchors: Anchors, window: tuple[float, float]
) -> tuple[Curve, tuple[float, float] | None]:
    baseline = float(np.clip(rng.normal(380.0, 70.0), 180.0, 650.0))
    if anchors.hlh_peak is not None:
        when = anchors.hlh_peak + uniform(rng, 0.0, 24.0)
        low = uniform(rng, 80.0, 150.0)
        times = [window[0], anchors.start, when, when + 72.0, when + 240.0]
        values = [baseline, baseline, low, baseline * 0.6, baseline]
        return (lambda t: knots(t, times, values)), (when, low)
    times = [window[0], anchors.start, anchors.start + 48.0, anchors.start + 240.0]
    rise = uniform(rng, 1.05, 1.4) if tier >= 1 else 1.0
    values = [baseline, baseline, baseline * rise, baseline]
    if tier == 4 and anchors.escalation is not None and rng.random() < 0.3:
        consumed = baseline * uniform(rng, 0.5, 0.7)
        times = [
            window[0],
            anchors.escalation,
            anchors.escalation + 24.0,
            anchors.escalation + 168.0,
        ]
        values = [baseline, baseline, consumed, baseline]
    return (lambda t: knots(t, times, values)), None


def _rise(
    start: float, peak_at: float, baseline: float, peak: float, settle: float
) -> tuple[list[float], list[float]]:
    """Knots of a rise to ``peak`` and a return to ``baseline`` over ``settle`` hours."""
    return (
        [start - 24.0, start, peak_at, peak_at + settle * 0.3, peak_at + settle],
        [baseline, baseline, peak, baseline + (peak - baseline) * 0.3, baseline],
    )


def _transaminase(
    rng: np.random.Generator,
    kind: str,
    tier: int,
    anchors: Anchors,
    blinatumomab_fold: float,
    window: tuple[float, float],
) -> Curve:
    baseline = uniform(rng, 12.0, 35.0)
    if anchors.hlh_peak is not None:
        peak = ULN_TRANSAMINASE * lognormal(rng, 8.0, 0.4)
        times, values = _rise(
            anchors.start, anchors.hlh_peak + uniform(rng, 12.0, 36.0), baseline, peak, 240.0
        )
    elif kind == "blinatumomab":
        peak = max(baseline, ULN_TRANSAMINASE * lognormal(rng, blinatumomab_fold, 0.5))
        times, values = _rise(0.0, uniform(rng, 24.0, 72.0), baseline, peak, 600.0)
    else:
        fold = max(1.0, TRANSAMINASE_FOLD[tier] * math.exp(0.4 * rng.standard_normal()))
        times, values = _rise(
            anchors.start,
            anchors.start + uniform(rng, 24.0, 96.0),
            baseline,
            baseline * fold,
            240.0,
        )
    return lambda t: log_knots(t, [min(window[0], times[0]), *times[1:]], values)


def _ldh(
    rng: np.random.Generator, kind: str, tier: int, anchors: Anchors, window: tuple[float, float]
) -> Curve:
    baseline = uniform(rng, 150.0, 450.0)
    if anchors.hlh_peak is not None:
        times, values = _rise(
            anchors.start, anchors.hlh_peak, baseline, baseline * uniform(rng, 3.0, 8.0), 240.0
        )
    elif kind == "blinatumomab":
        times, values = _rise(0.0, 24.0, baseline, baseline * uniform(rng, 1.1, 1.5), 168.0)
    else:
        fold = LDH_FOLD[tier] * math.exp(0.2 * rng.standard_normal())
        times, values = _rise(
            anchors.start,
            anchors.start + uniform(rng, 24.0, 72.0),
            baseline,
            baseline * max(fold, 1.0),
            240.0,
        )
    return lambda t: log_knots(t, [min(window[0], times[0]), *times[1:]], values)


def _bilirubin(
    rng: np.random.Generator, kind: str, tier: int, anchors: Anchors, window: tuple[float, float]
) -> Curve:
    baseline = uniform(rng, 0.3, 1.0)
    if anchors.hlh_peak is not None:
        times, values = _rise(
            anchors.start,
            anchors.hlh_peak + uniform(rng, 24.0, 48.0),
            baseline,
            uniform(rng, 2.0, 6.0),
            240.0,
        )
    elif kind == "blinatumomab":
        times, values = _rise(
            0.0, uniform(rng, 24.0, 48.0), baseline, baseline * uniform(rng, 1.1, 1.8), 240.0
        )
    else:
        fold = uniform(rng, 1.5, 3.0) if tier == 4 else 1.1
        times, values = _rise(
            anchors.start,
            anchors.start + uniform(rng, 48.0, 96.0),
            baseline,
            baseline * fold,
            240.0,
        )
    return lambda t: log_knots(t, [min(window[0], times[0]), *times[1:]], values)


def _creatinine(
    rng: np.random.Generator,
    tier: int,
    patient: Demographics,
    anchors: Anchors,
    hlh: bool,
    window: tuple[float, float],
) -> tuple[Curve, tuple[float, float] | None]:
    if patient.child:
        baseline = 0.2 + 0.035 * patient.age_years * uniform(rng, 0.85, 1.15)
    elif patient.sex == "male":
        baseline = uniform(rng, 0.8, 1.15)
    else:
        baseline = uniform(rng, 0.6, 0.95)
    fold = 1.0
    if tier == 3 and rng.random() < 0.5:
        fold = uniform(rng, 1.2, 2.0)
    elif tier == 4 and rng.random() < 0.8:
        fold = uniform(rng, 1.5, 3.5)
    if hlh:
        fold *= 1.5
    if fold == 1.0 or anchors.escalation is None:
        return (lambda t: np.full_like(t, baseline)), None
    peak_at = anchors.escalation + uniform(rng, 24.0, 60.0)
    times = [window[0], anchors.escalation, peak_at, peak_at + 96.0, peak_at + 240.0]
    values = [
        baseline,
        baseline,
        baseline * fold,
        baseline * (1 + (fold - 1) * 0.4),
        baseline * 1.05,
    ]
    dialysis = None
    if fold > 2.5 and rng.random() < 0.4:
        dialysis = (peak_at - 6.0, peak_at + uniform(rng, 72.0, 240.0))
    return (lambda t: log_knots(t, times, values)), dialysis


def _sodium(
    rng: np.random.Generator, tier: int, anchors: Anchors, window: tuple[float, float]
) -> Curve:
    baseline = float(np.clip(rng.normal(139.0, 2.0), 134.0, 144.0))
    drop, when = 0.0, anchors.start
    if anchors.hlh_peak is not None:
        drop, when = uniform(rng, 10.0, 23.0), anchors.hlh_peak - 12.0
    elif tier >= 2 and anchors.escalation is not None:
        drop, when = uniform(rng, 2.0, 8.0), anchors.escalation + 12.0
    times = [window[0], when - 12.0, when, when + 96.0]
    values = [baseline, baseline, baseline - drop, baseline]
    return lambda t: knots(t, times, values)


def _d_dimer(
    rng: np.random.Generator, kind: str, tier: int, anchors: Anchors, window: tuple[float, float]
) -> Curve:
    baseline = float(np.clip(lognormal(rng, 0.5, 0.4), 0.15, 3.0))
    if anchors.hlh_peak is not None:
        peak_at, peak = anchors.hlh_peak, uniform(rng, 8.0, 20.0)
    elif kind == "blinatumomab":
        peak_at, peak = 48.0, lognormal(rng, 8.0 if tier == 0 else 10.0, 0.6)
    else:
        peak_at = anchors.start + uniform(rng, 24.0, 72.0)
        peak = baseline * D_DIMER_FOLD[tier] * math.exp(0.4 * rng.standard_normal())
    peak = max(peak, baseline)
    start = (
        min(anchors.start, peak_at - 12.0)
        if kind == "car_t" or anchors.hlh_peak is not None
        else 0.0
    )
    times = [min(window[0], start - 1.0), start, peak_at, peak_at + 168.0, peak_at + 400.0]
    values = [baseline, baseline, peak, baseline + (peak - baseline) * 0.2, baseline]
    return lambda t: log_knots(t, times, values)


def _triglycerides(
    rng: np.random.Generator,
    writer: LabWriter,
    anchors: Anchors,
    daily: FloatArray,
    hlh: FloatArray,
) -> None:
    baseline = float(np.clip(lognormal(rng, 110.0, 0.35), 40.0, 400.0))
    times = daily[:1]
    peak = baseline
    if anchors.hlh_peak is not None and anchors.escalation is not None:
        times = np.sort(np.concatenate([daily[:1], daily[daily >= anchors.escalation], hlh]))
        if rng.random() < 0.6:
            peak = max(baseline, uniform(rng, 265.0, 500.0))
    top = (anchors.hlh_peak or 0.0) + 48.0
    writer.write(
        "triglycerides",
        times,
        lambda t: log_knots(t, [anchors.start, top, top + 240.0], [baseline, peak, baseline]),
        0.05,
    )


def _findings(rng: np.random.Generator, log: EventLog, anchors: Anchors) -> None:
    if anchors.hlh_peak is None:
        return
    for item, share, low, high in (
        ("splenomegaly", 0.4, 6.0, 48.0),
        ("hepatomegaly", 0.3, 6.0, 48.0),
        ("hemophagocytosis", 0.25, 24.0, 96.0),
    ):
        if rng.random() < share:
            log.add_codes(item, [anchors.hlh_peak + uniform(rng, low, high)], "true")
