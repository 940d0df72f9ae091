"""When things happen (hours after the therapy start): onset, escalation, treatment, response.

Timing choices, each with its source or marked as an assumption:

- **CAR T fever onset** on days 1-7: log-normal around the product's median onset day (see
  ``_therapy``), spread 0.45 on the log scale, kept within 24-191 h after the infusion.
- **Blinatumomab fever** within hours of the first dose (seed 000: high fever 6 h after the start;
  seed 004 measured temperature every 4 h in the first 12 h): log-normal with median 6 h, kept
  within 1.5-20 h.  Each further dose start (a step, or a restart) brings a milder fever in 35 %
  of patients with CRS (seed 004: fever and cytokines follow each dose step, lower after steps).
  In 10 % of patients with a step the main episode comes with the step instead (seed 001: "may be
  delayed by days").
- **Escalation** (hypotension and/or hypoxia) a median 18 h after the fever starts (CAR T spread
  0.6, 2-96 h; seed 002 Figure 3 shows fever on day 3 and a vasopressor on day 5); blinatumomab
  spread 0.5, 2-48 h (seed 000: respiratory distress and hypotension within 36 h).
- **Tocilizumab** 0.5-4 h after escalation at tiers 3-4 and 2-12 h at tier 2; at tier 1 after
  3 days of fever (CARTOX).  Refractory CRS gets a second dose 8-24 h later (at least 8 h apart,
  label; clinical-criteria §4.2) in 50 % of tier 4, 25 % of tier 3, 10 % of tier 2 and 30 % of
  HLH-like patients, and a third in 30 % of refractory tier 4.
- **Response**: fever settles 2-8 h after the last effective dose (seed 002: "fever and hypotension
  often resolve within a few hours"; seed 000: dramatic response within 12 h).  In 15 % of tier
  3-4 patients the fever comes back 1-2 days later (seed 003 case 3).
- **Fever duration** without treatment: CAR T median 48 h (seed 003 case 1: 5 days), longer by a
  quarter per tier above 1; blinatumomab median 14 h (seed 001: resolved 3 h after onset).
- **Blinatumomab interruption** at tier >= 3, at escalation; restart at 9 ug/d (5 ug/m²/d below
  45 kg) 2-4 days after the response and step to 28 ug/d (15 ug/m²/d) 7 days later; permanent
  discontinuation at tier 4 or with an HLH-like course (label; clinical-criteria §4.6, P10-P11;
  seed 000 stopped at 36 h).
- **ICANS** 12-96 h after CRS onset on CAR T (seed 002: before or after tocilizumab; seed 003 case
  3: encephalopathy 4 days after CRS onset, resolved 4 days later), 12-72 h after the first dose
  on blinatumomab; the worst point comes 6-36 h after onset, lasts 13-30 h (12 h more per grade
  above 1) and recovery takes 1-4 days.  ICANS that would fall during ventilation is moved to
  after extubation (``settle_icans``).
- **HLH-like peak** (ferritin peak, fibrinogen nadir) 12-36 h after escalation (seed 000: ferritin
  22,544 ng/mL "on the day he became critically ill").
- **Death** (tier 4, 8 %) 2-10 days after escalation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from crswatch.simulate._bispecific import BispecificDose, main_dose_index
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._scenario import Scenario
from crswatch.simulate._streams import lognormal, uniform
from crswatch.simulate._therapy import (
    BLINATUMOMAB_REGIMENS,
    CYCLE_HOURS,
    CarTProduct,
    Regimen,
    blinatumomab_steps,
    dose_strengths,
)

__all__ = ["Course", "FeverSpell", "Icans", "Segment", "plan_course", "settle_icans"]

#: Relative cytokine release of a dose start after an interruption (a step, seed 004).
RESTART_STRENGTH = 0.35


@dataclass(frozen=True, slots=True)
class FeverSpell:
    """A fever from ``start`` (the first reading >= 38.0 °C) to ``end``, peaking at ``peak``."""

    start: float
    end: float
    peak: float
    other: bool = False


@dataclass(frozen=True, slots=True)
class Segment:
    """A blinatumomab rate (ug/d) running from ``start`` to ``end``."""

    start: float
    end: float
    rate: float


@dataclass(frozen=True, slots=True)
class Icans:
    onset: float
    nadir: float
    recovery: float
    end: float


@dataclass(frozen=True, slots=True)
class Course:
    """The timed skeleton every event generator works from (hours after the therapy start)."""

    #: Times cytokine release is triggered: the CAR T infusion, or each blinatumomab dose start.
    dose_starts: tuple[float, ...]
    dose_strengths: tuple[float, ...]
    #: Blinatumomab infusion segments; empty for CAR T.
    infusion: tuple[Segment, ...]
    #: Blinatumomab premedication: (time, "dexamethasone" | "prednisone").
    premedication: tuple[tuple[float, str], ...]
    onset: float | None
    escalation: float | None
    tocilizumab: tuple[float, ...]
    steroid_start: float | None
    response: float | None
    fevers: tuple[FeverSpell, ...]
    #: End of the main CRS fever.
    fever_end: float | None
    icans: Icans | None
    hlh_peak: float | None
    infection: FeverSpell | None
    death: float | None
    #: When the main cytokine release starts.
    cytokine_origin: float
    main_dose: int
    #: Step-up bispecific doses (and pretreatment), with their premedication; empty otherwise.
    doses: tuple[BispecificDose, ...] = ()


def _icans(rng: np.random.Generator, onset: float, grade: int) -> Icans:
    nadir = onset + uniform(rng, 6.0, 36.0)
    # The worst point lasts at least 13 h, so a twice-daily assessment always sees it.
    recovery = nadir + uniform(rng, 13.0, 30.0) + 12.0 * (grade - 1)
    return Icans(onset, nadir, recovery, recovery + uniform(rng, 24.0, 96.0))


def settle_icans(
    rng: np.random.Generator, course: Course, grade: int, ventilation: tuple[float, float] | None
) -> Course:
    """Move ICANS that would fall while the patient is ventilated and sedated to after extubation.

    ICE and CAPD cannot be done under sedation, and the contract makes depressed consciousness
    under sedation non-attributable, so such ICANS could never be seen; it starts 12-48 h after
    extubation instead (seed 002: neurotoxicity may follow the resolution of CRS).  ICANS that
    would start after death is dropped.
    """
    icans = course.icans
    if icans is None:
        return course
    if (
        ventilation is not None
        and icans.onset <= ventilation[1]
        and icans.recovery >= ventilation[0]
    ):
        icans = _icans(rng, ventilation[1] + uniform(rng, 12.0, 48.0), grade)
    if course.death is not None and icans.nadir >= course.death:
        return replace(course, icans=None)
    return replace(course, icans=icans)


def _infusion(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    regimen: Regimen,
    escalation: float | None,
    response: float | None,
) -> tuple[list[Segment], list[float], list[float], list[tuple[float, str]]]:
    """Segments, dose starts, their strengths and premedication of blinatumomab cycle 1."""
    steps = blinatumomab_steps(regimen, patient)
    strengths = dose_strengths(regimen)
    stop = CYCLE_HOURS
    interrupted = scenario.crs_tier >= 3 and escalation is not None
    if interrupted and escalation is not None:
        stop = escalation + uniform(rng, 0.0, 2.0)
    segments: list[Segment] = []
    starts: list[float] = []
    given: list[float] = []
    for number, step in enumerate(steps):
        if step.start >= stop:
            break
        end = min(stop, steps[number + 1].start if number + 1 < len(steps) else CYCLE_HOURS)
        segments.append(Segment(step.start, end, step.rate_ug_per_day))
        starts.append(step.start)
        given.append(strengths[number])
    first_premedication = (
        "prednisone" if regimen.name == "flat" and not patient.child else "dexamethasone"
    )
    premedication = [(starts[0] - 1.0, first_premedication)]
    premedication += [(start - 1.0, "dexamethasone") for start in starts[1:]]
    if interrupted and scenario.crs_tier == 3 and not scenario.hlh_like:
        restart = max(
            stop + 24.0, (response if response is not None else stop) + uniform(rng, 48.0, 96.0)
        )
        # Within 7 days the cycle continues to 28 days of infusion in all; after longer, a new
        # cycle starts (label, clinical-criteria §4.6).
        remaining = CYCLE_HOURS - stop if restart - stop <= 7 * 24.0 else CYCLE_HOURS
        label = blinatumomab_steps(BLINATUMOMAB_REGIMENS[0], patient)
        step_up = restart + 7 * 24.0
        if remaining > 7 * 24.0:
            segments.append(Segment(restart, step_up, label[0].rate_ug_per_day))
            segments.append(Segment(step_up, restart + remaining, label[1].rate_ug_per_day))
            starts += [restart, step_up]
            given += [RESTART_STRENGTH, RESTART_STRENGTH]
        else:
            segments.append(Segment(restart, restart + remaining, label[0].rate_ug_per_day))
            starts.append(restart)
            given.append(RESTART_STRENGTH)
        premedication += [(start - 1.0, "dexamethasone") for start in starts if start >= restart]
    return segments, starts, given, premedication


def plan_course(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    product: CarTProduct | None,
    regimen: Regimen | None,
    bispecific: tuple[BispecificDose, ...] = (),
) -> Course:
    """Time the scenario.  Draws from the scenario stream in a fixed order."""
    tier = scenario.crs_tier
    car_t = scenario.kind == "car_t"
    planned = (
        [0.0] if regimen is None else [step.start for step in blinatumomab_steps(regimen, patient)]
    )
    own = [dose for dose in bispecific if dose.strength > 0]
    if own:
        planned = [dose.hours for dose in own]

    main = 0
    onset: float | None = None
    if tier >= 1:
        if car_t and product is not None:
            onset = lognormal(rng, product.onset_median_days * 24.0, 0.45, 24.0, 191.0)
        elif own:
            # The labels' trials: CRS mostly after the first step-up doses (``_bispecific``).
            main = main_dose_index(rng, min(3, len(own)))
            onset = planned[main] + lognormal(rng, 24.0, 0.5, 4.0, 72.0)
        else:
            if len(planned) > 1 and rng.random() < 0.10:
                main = 1
            onset = planned[main] + lognormal(rng, 6.0, 0.5, 1.5, 20.0)
    escalation: float | None = None
    if tier >= 2 and onset is not None:
        if car_t:
            escalation = onset + lognormal(rng, 18.0, 0.6, 2.0, 96.0)
        else:
            escalation = onset + lognormal(rng, 18.0, 0.5, 2.0, 48.0)

    tocilizumab: list[float] = []
    if scenario.tocilizumab and onset is not None:
        if escalation is None:
            first = onset + uniform(rng, 72.0, 84.0)
        elif tier >= 3:
            first = escalation + uniform(rng, 0.5, 4.0)
        else:
            first = escalation + uniform(rng, 2.0, 12.0)
        tocilizumab.append(first)
        refractory = (0.0, 0.0, 0.1, 0.25, 0.5)[tier]
        if scenario.hlh_like:
            refractory = max(refractory, 0.3)
        if rng.random() < refractory:
            tocilizumab.append(first + uniform(rng, 8.0, 24.0))
            if tier == 4 and rng.random() < 0.3:
                tocilizumab.append(tocilizumab[-1] + uniform(rng, 8.0, 24.0))
    steroid_start: float | None = None
    if scenario.steroids and onset is not None:
        anchor = (
            tocilizumab[0] if tocilizumab else (escalation if escalation is not None else onset)
        )
        steroid_start = anchor + (
            uniform(rng, 0.0, 12.0) if tocilizumab else uniform(rng, 1.0, 6.0)
        )
    effective = tocilizumab[-1] if tocilizumab else steroid_start
    response = effective + uniform(rng, 2.0, 8.0) if effective is not None else None

    fevers: list[FeverSpell] = []
    fever_end: float | None = None
    reduced_first_dose = regimen is not None and len(regimen.steps) > 1
    if onset is not None:
        if car_t:
            duration = lognormal(rng, 48.0, 0.6, 8.0, 192.0) * (1.0 + 0.25 * max(0, tier - 1))
        else:
            duration = lognormal(rng, 14.0, 0.7, 3.0, 72.0)
        if tier == 1 and tocilizumab:
            duration = max(duration, tocilizumab[0] - onset + 6.0)
        fever_end = onset + duration
        if escalation is not None:
            fever_end = max(fever_end, escalation + uniform(rng, 4.0, 12.0))
        if response is not None:
            fever_end = min(fever_end, response)
        peak = uniform(rng, 38.3, 39.5) if tier == 1 else uniform(rng, 38.8, 40.6)
        if reduced_first_dose:
            peak -= 0.3  # seed 004: step dosing lowered body temperature
        fevers.append(FeverSpell(onset, fever_end, max(peak, 38.2)))
        if tier >= 3 and response is not None and rng.random() < 0.15:
            start = response + uniform(rng, 24.0, 48.0)
            fevers.append(
                FeverSpell(start, start + uniform(rng, 12.0, 36.0), uniform(rng, 38.2, 39.2))
            )

    segments: list[Segment] = []
    starts, strengths = [0.0], [1.0]
    premedication: list[tuple[float, str]] = []
    if regimen is not None:
        segments, starts, strengths, premedication = _infusion(
            rng, scenario, patient, regimen, escalation, response
        )
        if tier >= 1:
            for number, start in enumerate(starts):
                if number == main:
                    continue
                if rng.random() < (0.5 if number == 0 else 0.35):
                    begin = start + lognormal(rng, 6.0, 0.5, 1.5, 20.0)
                    end = begin + uniform(rng, 3.0, 18.0)
                    fevers.append(FeverSpell(begin, end, uniform(rng, 38.1, 38.7)))
    if own:
        starts = [dose.hours for dose in own]
        strengths = [dose.strength for dose in own]
        if tier >= 1:
            # A milder fever after another of the first three doses in a third of patients.
            for number in range(min(3, len(own))):
                if number != main and rng.random() < 0.3:
                    begin = starts[number] + lognormal(rng, 24.0, 0.5, 4.0, 72.0)
                    fevers.append(FeverSpell(begin, begin + uniform(rng, 3.0, 18.0), 38.4))

    icans: Icans | None = None
    if scenario.icans_grade:
        if car_t:
            anchor = onset if onset is not None else uniform(rng, 24.0, 96.0)
            start = anchor + uniform(rng, 12.0, 96.0)
        else:
            start = planned[0] + uniform(rng, 12.0, 72.0)
        icans = _icans(rng, start, scenario.icans_grade)

    hlh_peak = None
    if scenario.hlh_like and escalation is not None:
        hlh_peak = escalation + uniform(rng, 12.0, 36.0)

    infection: FeverSpell | None = None
    if scenario.infection:
        start = uniform(rng, -12.0, 240.0)
        infection = FeverSpell(
            start, start + uniform(rng, 12.0, 48.0), uniform(rng, 38.2, 39.6), other=True
        )
        fevers.append(infection)

    death = None
    if scenario.died and escalation is not None:
        death = escalation + uniform(rng, 48.0, 240.0)

    if onset is not None:
        # CAR T expansion drives the cytokines a few hours ahead of the first fever; a
        # blinatumomab dose releases them from its start (seed 004).
        origin = onset - uniform(rng, 4.0, 8.0) if car_t else starts[min(main, len(starts) - 1)]
    else:
        origin = uniform(rng, 24.0, 120.0) if car_t else 0.0
    return Course(
        dose_starts=tuple(starts),
        dose_strengths=tuple(strengths),
        infusion=tuple(segments),
        premedication=tuple(premedication),
        onset=onset,
        escalation=escalation,
        tocilizumab=tuple(tocilizumab),
        steroid_start=steroid_start,
        response=response,
        fevers=tuple(fevers),
        fever_end=fever_end,
        icans=icans,
        hlh_peak=hlh_peak,
        infection=infection,
        death=death,
        cytokine_origin=origin,
        main_dose=main,
        doses=tuple(bispecific),
    )
