"""Cytokines (pg/mL): release kinetics, sampling schedules, assay limits, the HLH-like pattern.

Kinetics.  Each trigger (the CAR T expansion, each blinatumomab dose start) releases every
cytokine as a gamma-variate pulse (``_kinetics.pulse``) with its own delay to the peak:

- blinatumomab, seed 004 ("peak mean concentrations after 2 h (TNF-α), 6 h (IL-2), or 24 h
  (IL-6, IL-10, IFN-γ) before returning to baseline levels at the end of the 1st week"): TNF-α
  2 h, IL-2 6 h, IL-6/IL-10/IFN-γ 24 h; sIL-2R (not measured in seed 004) 48 h, an assumption.
- CAR T: the same order, stretched: the IL-6 peak comes 18-72 h after the expansion starts and
  coincides with the escalation (seed 002 Figure 3: "IL-6 and IFNγ peak coincident with
  decompensation"); TNF-α at a fifth of that delay (TGN1412, seed 003: TNF-α rose first), IL-2 at
  40 %, IL-10 at 110 %, sIL-2R at 160 %.

Size.  The IL-6 peak above baseline follows the intended CRS tier (log-normal medians 15, 150,
500, 1,500 and 5,000 pg/mL for tiers 0-4, spread 0.7; seed 003 case 1, a grade 1 course, peaked
at 222 pg/mL).  IL-10, IFN-γ, TNF-α and IL-2 are fractions of IL-6 (CAR T 0.5/0.8/0.06/0.08;
blinatumomab 0.8/0.7/0.1/0.15, since IL-6, IL-10 and IFN-γ were the highest in seed 004).  A
blinatumomab trigger is scaled by its dose strength (``_therapy.dose_strengths``): step dosing
lowers the peaks (seed 004 Figure 6a).

Tocilizumab makes IL-6 rise for about a day (receptor blockade; seed 002: "IL-6 levels typically
rise transiently immediately following tocilizumab") and IFN-γ and the others fall quickly
(seed 002 Figure 3); steroids without tocilizumab make every cytokine fall.

HLH-like course (seed 000: "elevated IL-10 (5338 pg/mL), IL-6 (681 pg/mL), INF-γ (192 pg/mL),
and IL-2R (4872 pg/mL)"; IL-8, MCP-1 and MIP-1β raised; IL-1β, IL-4, IL-5, IL-7, IL-12, IL-13,
IL-17, TNF-α and GM-CSF normal): a slow second release peaking with the ferritin, falling after
tocilizumab, and two 16-cytokine panels: 12-24 h before the peak and 1.5-2.5 days after the last
tocilizumab dose (seed 000: 1 day before and 2 days after tocilizumab).

Sampling.  Blinatumomab as in seed 004: 1 h before the first dose, then 2, 6, 24, 48 and 168 h
after every dose start (IL-2, IL-4, IL-6, IL-10, TNF-α, IFN-γ).  CAR T: before the infusion, every
morning at 06:00 and 2 h and 6 h after the fever is found (IL-6, IL-10, IFN-γ, TNF-α, IL-2,
sIL-2R).

Assays.  Blinatumomab patients: the cytometric bead array of seed 004, limit of detection 20
pg/mL ("Before blinatumomab infusion, all measured cytokines were below the LOD of 20 pg/mL"),
upper limit 5,000 pg/mL (the kit's top standard; not in the seed).  CAR T patients: a sensitive
immunoassay with a limit of detection of 2 pg/mL and no upper limit (an assumption).  A value
outside the limits is written as the limit with ``censored: below_lod`` / ``above_uloq``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._events import ABOVE_ULOQ, BELOW_LOD, EventLog, FloatArray
from crswatch.simulate._kinetics import pulse
from crswatch.simulate._scenario import Scenario
from crswatch.simulate._vitals import clock_times

__all__ = ["CytokinePlan", "Trigger", "plan_cytokines", "write_cytokines"]

IL6_PEAK_MEDIAN = (15.0, 150.0, 500.0, 1500.0, 5000.0)
RATIOS = {
    "car_t": {"il10": 0.5, "ifng": 0.8, "tnfa": 0.06, "il2": 0.08},
    "blinatumomab": {"il10": 0.8, "ifng": 0.7, "tnfa": 0.1, "il2": 0.15},
}
#: Delay to the peak relative to IL-6's (CAR T), and the pulse shape.
CAR_T_DELAY = {"tnfa": 0.2, "il2": 0.4, "il6": 1.0, "ifng": 1.0, "il10": 1.1, "il2r": 1.6}
BLINATUMOMAB_DELAY_H = {
    "tnfa": 2.0,
    "il2": 6.0,
    "il6": 24.0,
    "ifng": 24.0,
    "il10": 24.0,
    "il2r": 48.0,
}
SHAPE = {"tnfa": 2.0, "il2": 2.0, "il6": 2.5, "ifng": 2.5, "il10": 2.5, "il2r": 1.5}
#: Median concentrations without release (pg/mL); an assumption in the range of multiplex assays.
BASELINE = {
    "il6": 4.0, "il10": 3.0, "ifng": 5.0, "tnfa": 6.0, "il2": 1.5, "il2r": 1000.0, "il8": 15.0,
    "mcp1": 250.0, "mip1b": 60.0, "il1b": 2.0, "il4": 2.0, "il5": 1.5, "il7": 5.0, "il12": 3.0,
    "il13": 2.0, "il17": 2.0, "gm_csf": 2.0,
}  # fmt: skip
#: HLH-like slow release at its peak (pg/mL above baseline), medians from seed 000.
HLH_PEAK = {"il10": 5000.0, "il6": 700.0, "ifng": 200.0, "il2r": 5000.0}
#: HLH-like chemokines, as folds over baseline (seed 000: raised, values not given).
HLH_FOLD = {"il8": 10.0, "mcp1": 6.0, "mip1b": 8.0}
BLINATUMOMAB_PANEL = ("il2", "il4", "il6", "il10", "tnfa", "ifng")
CAR_T_PANEL = ("il6", "il10", "ifng", "tnfa", "il2", "il2r")
HLH_PANEL = (
    "il2r", "il6", "il8", "il10", "mcp1", "mip1b", "ifng", "il1b", "il4", "il5", "il7", "il12",
    "il13", "il17", "tnfa", "gm_csf",
)  # fmt: skip
ASSAYS = {"blinatumomab": (20.0, 5000.0), "car_t": (2.0, math.inf)}


@dataclass(frozen=True, slots=True)
class Trigger:
    """A release of cytokines from ``origin``; ``strength`` 1 is a full first dose's release."""

    origin: float
    strength: float
    #: Hours from the origin to each cytokine's peak.
    delays: dict[str, float]


@dataclass(frozen=True, slots=True)
class CytokinePlan:
    kind: str
    triggers: tuple[Trigger, ...]
    #: The trigger of the main CRS episode.
    main: int
    #: Peak above baseline of each cytokine for a trigger of strength 1 (pg/mL).
    amplitude: dict[str, float]
    baseline: dict[str, float]
    hlh_amplitude: dict[str, float]
    lod: float
    uloq: float

    @property
    def il6_peak(self) -> float:
        """When IL-6 of the main episode's trigger peaks (hours after the start)."""
        main = self.triggers[self.main]
        return main.origin + main.delays["il6"]


def plan_cytokines(rng: np.random.Generator, scenario: Scenario, course: Course) -> CytokinePlan:
    """Draw the patient's cytokine sizes and triggers (from the laboratory stream)."""
    kind = scenario.kind
    il6 = IL6_PEAK_MEDIAN[scenario.crs_tier] * math.exp(0.7 * rng.standard_normal())
    amplitude = {"il6": il6}
    for name, ratio in RATIOS[kind].items():
        amplitude[name] = il6 * ratio * math.exp(0.4 * rng.standard_normal())
    baseline = {
        name: median * math.exp(0.3 * rng.standard_normal()) for name, median in BASELINE.items()
    }
    fold = (0.5 + 1.5 * scenario.crs_tier) * math.exp(0.3 * rng.standard_normal())
    amplitude["il2r"] = baseline["il2r"] * fold
    main = 0
    triggers: tuple[Trigger, ...]
    if kind == "car_t":
        if course.escalation is not None:
            delay = float(
                np.clip(
                    course.escalation + rng.uniform(0.0, 8.0) - course.cytokine_origin, 18.0, 72.0
                )
            )
        else:
            delay = float(rng.uniform(18.0, 36.0))
        triggers = (
            Trigger(
                course.cytokine_origin,
                1.0,
                {n: max(2.0, delay * f) for n, f in CAR_T_DELAY.items()},
            ),
        )
    else:
        main = min(course.main_dose, len(course.dose_starts) - 1)
        # The tier sets the size of the main episode, scaled by the first dose's strength (a
        # reduced first dose releases less, seed 004); other dose starts release by their own
        # strength, a first dose without the main episode half of that.
        first = course.dose_strengths[0]
        triggers = tuple(
            Trigger(
                start,
                first if number == main else strength * (0.5 if number == 0 else 1.0),
                dict(BLINATUMOMAB_DELAY_H),
            )
            for number, (start, strength) in enumerate(
                zip(course.dose_starts, course.dose_strengths, strict=True)
            )
        )
    hlh_amplitude: dict[str, float] = {}
    if scenario.hlh_like:
        hlh_amplitude = {
            name: peak * math.exp(0.4 * rng.standard_normal()) for name, peak in HLH_PEAK.items()
        }
        for name, times in HLH_FOLD.items():
            hlh_amplitude[name] = baseline[name] * times * math.exp(0.4 * rng.standard_normal())
    lod, uloq = ASSAYS[kind]
    return CytokinePlan(kind, triggers, main, amplitude, baseline, hlh_amplitude, lod, uloq)


def _concentration(name: str, t: FloatArray, plan: CytokinePlan, course: Course) -> FloatArray:
    released = np.zeros_like(t)
    if name in plan.amplitude:
        for trigger in plan.triggers:
            delay = trigger.delays[name]
            released += (
                plan.amplitude[name]
                * trigger.strength
                * pulse(t, trigger.origin, delay, SHAPE[name])
            )
    calming = course.tocilizumab[0] if course.tocilizumab else course.steroid_start
    if calming is not None and released.any():
        after = np.maximum(t - calming - 2.0, 0.0)
        if name == "il6" and course.tocilizumab:
            released += plan.amplitude["il6"] * 1.5 * pulse(t, calming, 12.0, 1.5)
        else:
            released *= np.exp(-after / 8.0)
    if name in plan.hlh_amplitude and course.hlh_peak is not None and course.escalation is not None:
        slow = pulse(t, course.escalation - 12.0, course.hlh_peak - course.escalation + 12.0, 1.5)
        if course.tocilizumab:
            slow *= np.exp(-np.maximum(t - course.tocilizumab[-1], 0.0) / 36.0)
        released += plan.hlh_amplitude[name] * slow
    return plan.baseline[name] + released


def _sample_times(
    plan: CytokinePlan, course: Course, window: tuple[float, float], clock_offset: float
) -> FloatArray:
    if plan.kind == "blinatumomab":
        times = [course.dose_starts[0] - 1.0]
        for start in course.dose_starts:
            times += [start + 2.0, start + 6.0, start + 24.0, start + 48.0, start + 168.0]
    else:
        times = [-1.0, *clock_times((0.5, min(window[1], 14 * 24.0)), clock_offset, 24.0, at=6.0)]
        if course.onset is not None:
            times += [course.onset + 2.0, course.onset + 6.0]
    return np.unique(np.array(times, dtype=np.float64))


def write_cytokines(
    rng: np.random.Generator,
    plan: CytokinePlan,
    course: Course,
    window: tuple[float, float],
    clock_offset: float,
    log: EventLog,
) -> None:
    """Append the routine panels and, for an HLH-like course, the two work-up panels."""
    routine = _sample_times(plan, course, window, clock_offset)
    panel = BLINATUMOMAB_PANEL if plan.kind == "blinatumomab" else CAR_T_PANEL
    batches: list[tuple[FloatArray, tuple[str, ...]]] = [(routine, panel)]
    if plan.hlh_amplitude and course.hlh_peak is not None:
        workup = [course.hlh_peak - float(rng.uniform(12.0, 24.0))]
        if course.tocilizumab:
            workup.append(course.tocilizumab[-1] + float(rng.uniform(36.0, 60.0)))
        # Work-up panels are drawn a few minutes apart from the routine ones.
        batches.append((np.array(workup) + 0.25, HLH_PANEL))
    for times, names in batches:
        for name in names:
            value = _concentration(name, times, plan, course) * np.exp(
                rng.normal(0.0, 0.12, times.size)
            )
            censored = np.where(
                value < plan.lod, BELOW_LOD, np.where(value > plan.uloq, ABOVE_ULOQ, 0)
            )
            value = np.clip(value, plan.lod, plan.uloq)
            log.add(name, times, value, censored=censored.astype(np.int8))
