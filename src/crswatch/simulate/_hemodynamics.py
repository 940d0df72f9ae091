"""Hypotension and its support: fluid boluses, vasopressor infusions, the blood-pressure ceiling.

The blood pressure is modelled as a *ceiling* on the systolic pressure (the vital-sign module takes
the lower of the patient's own pressure and the ceiling), so one knot list describes the whole
episode.  Choices:

- Hypotension starts at escalation with a systolic nadir of 72-88 mm Hg (seed 001: 84/52; seed 003
  case 3: 70/40); under 10 years below 70 + 2 x age mm Hg, the usual paediatric threshold that
  clinical-criteria §1.9 asks for (an age-based definition).  A bolus of 500 or 1000 mL (children
  20 mL/kg) follows within 10-45 minutes, a second one in 45 % of fluid-only and 80 % of pressor
  patients (clinical-criteria §4.4: "a second bolus if SBP remains < 90").  Fluids alone raise the
  systolic pressure by 12-20 mm Hg (seed 001: 84 -> 103 mm Hg after 1 L) and the hypotension
  settles within 3-18 h.
- One vasopressor 0.5-2 h after the last bolus.  Adults get norepinephrine, 2-6 ug/min titrated to
  6-18 ug/min (10-30 ug/min when a second pressor follows; seed 003's high-dose table puts
  monotherapy at >= 20 ug/min).  Children get epinephrine (50 %; seed 000), dopamine (30 %; seed
  003 case 3) or norepinephrine, dosed per kg and written in ug/min (dopamine in ug/kg/min, its
  canonical unit).  Vasopressin, where intended, is added 1-6 h later at 0.03 or 0.04 U/min.
- A second pressor (epinephrine, phenylephrine or dopamine) 1-8 h after the first when several are
  intended; it is weaned first.
- Weaning starts 2-16 h after the response to tocilizumab or steroids: halve, quarter, stop, over
  8-24 h (seed 002: "pressors ... weaned quickly"; seed 002 Figure 3: over 48 hours; seed 000:
  epinephrine off within 8 h of tocilizumab, dopamine the next day).  A stop is a rate of 0 in 70 %
  of patients and an ``end`` on the last rate in the others (both are in the contract).
- A documented infection brings hypotension in 20 % of those patients; its readings carry ``cause:
  other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import EventLog
from crswatch.simulate._scenario import Scenario

__all__ = ["NO_CEILING", "HemodynamicPlan", "plan_hemodynamics"]

#: A systolic ceiling that never binds.
NO_CEILING = 400.0


@dataclass(slots=True)
class HemodynamicPlan:
    """The systolic ceiling (knots, mm Hg), spot readings and when support ended."""

    ceiling_times: list[float] = field(default_factory=lambda: [0.0])
    ceiling_values: list[float] = field(default_factory=lambda: [NO_CEILING])
    other_times: list[float] = field(default_factory=lambda: [0.0])
    other_values: list[float] = field(default_factory=lambda: [NO_CEILING])
    spots: list[float] = field(default_factory=list)
    end: float | None = None


def _nadir(rng: np.random.Generator, patient: Demographics) -> float:
    """The lowest systolic pressure: below 90 mm Hg, and below 70 + 2 x age under 10 years."""
    if patient.age_years < 10:
        return float(rng.uniform(58.0, 69.0)) + 2.0 * patient.age_years
    return float(rng.uniform(72.0, 88.0))


def _bolus_ml(rng: np.random.Generator, patient: Demographics) -> float:
    if patient.child:
        return float(min(1000.0, max(50.0, round(20.0 * patient.weight_kg / 10.0) * 10.0)))
    return 1000.0 if rng.random() < 0.5 else 500.0


def _pressor_dose(
    rng: np.random.Generator, item: str, patient: Demographics, high: bool
) -> tuple[float, float]:
    """(starting rate, peak rate) in the item's canonical unit."""
    weight = patient.weight_kg
    if item == "dopamine":
        return 5.0, float(rng.uniform(7.0, 12.0))
    if patient.child:
        per_kg = {
            "norepinephrine": (0.05, 0.2),
            "epinephrine": (0.02, 0.1),
            "phenylephrine": (0.5, 2.0),
        }
        low, top = per_kg[item]
        return low * weight, float(rng.uniform(low, top)) * weight * (1.5 if high else 1.0)
    adult = {
        "norepinephrine": ((2.0, 6.0), (10.0, 30.0) if high else (6.0, 18.0)),
        "epinephrine": ((1.0, 4.0), (4.0, 10.0)),
        "phenylephrine": ((40.0, 100.0), (100.0, 200.0)),
    }
    (start_low, start_high), (peak_low, peak_high) = adult[item]
    start = float(rng.uniform(start_low, start_high))
    return start, max(start, float(rng.uniform(peak_low, peak_high)))


def _infuse(
    log: EventLog, item: str, times: list[float], rates: list[float], stop: float, with_end: bool
) -> None:
    """Rate changes of one infusion, stopped by a 0 rate or by an ``end`` on the last rate."""
    if with_end:
        ends = [np.nan] * (len(times) - 1) + [stop]
        log.add(item, times, rates, ends=np.array(ends))
    else:
        log.add(item, [*times, stop], [*rates, 0.0])


def plan_hemodynamics(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    course: Course,
    log: EventLog,
) -> HemodynamicPlan:
    """Append boluses and vasopressors to ``log``; return the blood-pressure plan."""
    plan = HemodynamicPlan()
    level = scenario.hypotension
    if level and course.escalation is not None:
        start = course.escalation
        nadir = _nadir(rng, patient)
        boluses = [start + float(rng.uniform(0.17, 0.75))]
        if rng.random() < (0.45 if level == 1 else 0.8):
            boluses.append(boluses[0] + float(rng.uniform(0.75, 2.0)))
        log.add("fluid_bolus", boluses, [_bolus_ml(rng, patient) for _ in boluses])
        plan.spots += [start, boluses[0] + 0.75]
        if level == 1:
            settled = start + float(rng.uniform(3.0, 18.0))
            if course.response is not None:
                settled = min(settled, max(boluses[-1] + 1.0, course.response))
            plan.ceiling_times = [start - 1.5, start, boluses[0] + 0.5, settled, settled + 2.0]
            plan.ceiling_values = [
                NO_CEILING,
                nadir,
                nadir + float(rng.uniform(12.0, 20.0)),
                100.0,
                NO_CEILING,
            ]
            plan.end = settled
        else:
            plan.end = _pressors(
                rng, scenario, patient, course, log, plan, start, nadir, boluses[-1]
            )
    if scenario.infection and course.infection is not None and rng.random() < 0.2:
        begin = course.infection.start + float(rng.uniform(2.0, 12.0))
        low = float(rng.uniform(78.0, 88.0))
        plan.other_times = [begin - 1.0, begin, begin + float(rng.uniform(4.0, 12.0))]
        plan.other_values = [NO_CEILING, low, NO_CEILING]
        plan.spots.append(begin)
    return plan


def _pressors(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    course: Course,
    log: EventLog,
    plan: HemodynamicPlan,
    start: float,
    nadir: float,
    last_bolus: float,
) -> float:
    several = scenario.hypotension >= 3
    with_end = rng.random() < 0.3
    begin = last_bolus + float(rng.uniform(0.5, 2.0))
    response = (
        course.response if course.response is not None else begin + float(rng.uniform(24.0, 72.0))
    )
    wean = max(begin + 4.5, response + float(rng.uniform(2.0, 16.0)))
    if course.death is not None:
        wean = max(wean, course.death + 1.0)  # support continues until death

    if patient.child:
        draw = rng.random()
        first = "epinephrine" if draw < 0.5 else "dopamine" if draw < 0.8 else "norepinephrine"
    else:
        first = "norepinephrine"
    low, peak = _pressor_dose(rng, first, patient, several)
    titrated = begin + float(rng.uniform(0.5, 2.0))
    peaked = titrated + float(rng.uniform(1.0, 2.0))
    quarter = wean + float(rng.uniform(4.0, 8.0))
    stop = quarter + float(rng.uniform(4.0, 16.0))
    _infuse(
        log,
        first,
        [begin, titrated, peaked, wean, quarter],
        [low, (low + peak) / 2.0, peak, peak / 2.0, peak / 4.0],
        stop,
        with_end,
    )
    end = stop
    if several:
        choices = (
            ("epinephrine", "dopamine")
            if patient.child
            else ("epinephrine", "phenylephrine", "dopamine")
        )
        options = [item for item in choices if item != first]
        second = options[int(rng.integers(len(options)))]
        added = min(peaked + float(rng.uniform(0.0, 6.0)), wean - 0.75)
        low2, peak2 = _pressor_dose(rng, second, patient, False)
        off = wean + float(rng.uniform(2.0, 8.0))
        _infuse(log, second, [added, added + 0.5, wean], [low2, peak2, peak2 / 2.0], off, with_end)
    if scenario.vasopressin:
        units = 0.03 if rng.random() < 0.5 else 0.04
        if patient.child:
            units = max(0.01, round(0.0005 * patient.weight_kg, 2))
        added = min(begin + float(rng.uniform(1.0, 6.0)), wean - 0.5)
        _infuse(
            log, "vasopressin", [added], [units], wean + float(rng.uniform(1.0, 12.0)), with_end
        )
    plan.ceiling_times = [start - 1.5, start, begin, begin + 1.0, stop, stop + 2.0]
    on_pressors = float(rng.uniform(88.0, 100.0))
    plan.ceiling_values = [
        NO_CEILING,
        nadir,
        nadir - float(rng.uniform(0.0, 5.0)),
        on_pressors,
        on_pressors + 5.0,
        NO_CEILING,
    ]
    plan.spots.append(begin + 1.0)
    return end
