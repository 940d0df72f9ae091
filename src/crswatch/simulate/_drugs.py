"""Drugs given: the therapy itself, premedication, tocilizumab, steroids, HLH-directed drugs.

Doses are in ``_doses``; schedules (clinical-criteria §4.2-4.6):

- CAR T: one ``car_t_infusion`` at time 0.  Blinatumomab: one ``blinatumomab`` event per rate
  segment, with ``end``; premedication 1 h before the first dose, each step and each restart.
- Tocilizumab at the times the course plans (at least 8 h apart).
- CRS steroids on CAR T: dexamethasone 10 mg every 6 h, 2-4 doses at tier 2, 4-12 at tier 3,
  8-12 at tier 4; at tier 4 half get methylprednisolone 500 mg every 12 h for 3 days instead
  (clinical-criteria §4.3 G3/G4).  On blinatumomab: dexamethasone 8 mg every 8 h for 3 days,
  then 4 mg and 2 mg every 12 h for 2 days each (label: "taper over 4 days").
- ICANS steroids: dexamethasone 10 mg every 6 h from 2-12 h after onset, 2-4 doses at grade 2
  and 6-12 at grade 3; methylprednisolone 1,000 mg a day for 3 days at grade 4 (children
  30 mg/kg, at most 1,000 mg).
- HLH-like: anakinra every 12 h (4-10 doses) in 40 %, etoposide once in 10 %, 2 days after the
  peak (CARTOX: "If failure to improve in 48h, consider etoposide"; clinical-criteria §3.3).

Two steroid doses closer than 2 h (CRS and ICANS schedules meeting) are charted as one.
"""

from __future__ import annotations

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._doses import (
    anakinra_mg,
    blinatumomab_crs_dexamethasone_mg,
    dexamethasone_mg,
    etoposide_mg,
    methylprednisolone_mg,
    premedication_dexamethasone_mg,
    tocilizumab_mg,
)
from crswatch.simulate._events import EventLog
from crswatch.simulate._scenario import Scenario

__all__ = ["write_drugs"]


def _every(start: float, hours: float, count: int) -> list[float]:
    return [start + hours * number for number in range(count)]


def _merge(log: EventLog, item: str, doses: list[tuple[float, float]]) -> None:
    """Append a steroid's doses from several schedules, dropping any within 2 h of the last."""
    kept: list[tuple[float, float]] = []
    for time, dose in sorted(doses):
        if not kept or time - kept[-1][0] >= 2.0:
            kept.append((time, dose))
    log.add(item, [time for time, _ in kept], [dose for _, dose in kept])


def write_drugs(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    course: Course,
    cell_dose: float | None,
    log: EventLog,
) -> None:
    """Append the therapy and every drug dose of the course."""
    if cell_dose is not None:
        log.add("car_t_infusion", [0.0], [cell_dose])
    if course.infusion:
        log.add(
            "blinatumomab",
            [segment.start for segment in course.infusion],
            [segment.rate for segment in course.infusion],
            ends=np.array([segment.end for segment in course.infusion]),
        )
    dexamethasone: list[tuple[float, float]] = []
    methylprednisolone: list[tuple[float, float]] = []
    for item in sorted({dose.item for dose in course.doses}):
        given = [dose for dose in course.doses if dose.item == item]
        log.add(item, [dose.hours for dose in given], [dose.mg for dose in given])
    for dose in course.doses:
        for drug, mg in dose.premedication:
            if drug == "dexamethasone":
                dexamethasone.append((dose.hours - 1.0, mg))
            else:
                log.add(drug, [dose.hours - 1.0], mg)
    for time, drug in course.premedication:
        if drug == "prednisone":
            log.add("prednisone", [time], [100.0])
        else:
            dexamethasone.append((time, premedication_dexamethasone_mg(patient)))

    log.add("tocilizumab", list(course.tocilizumab), tocilizumab_mg(patient))

    tier = scenario.crs_tier
    if course.steroid_start is not None:
        start = course.steroid_start
        if scenario.kind == "blinatumomab":
            high = blinatumomab_crs_dexamethasone_mg(patient)
            taper_start = start + 72.0
            doses = [(time, high) for time in _every(start, 8.0, 9)]
            doses += [(time, round(high / 2.0, 1)) for time in _every(taper_start, 12.0, 4)]
            doses += [(time, round(high / 4.0, 1)) for time in _every(taper_start + 48.0, 12.0, 4)]
            dexamethasone += doses
        elif tier == 4 and rng.random() < 0.5:
            methylprednisolone += [
                (time, methylprednisolone_mg(patient)) for time in _every(start, 12.0, 6)
            ]
        else:
            low, high = {2: (2, 4), 3: (4, 12)}.get(tier, (8, 12))
            count = int(rng.integers(low, high + 1))
            dexamethasone += [
                (time, dexamethasone_mg(patient)) for time in _every(start, 6.0, count)
            ]

    if course.icans is not None and scenario.icans_grade >= 2:
        start = course.icans.onset + float(rng.uniform(2.0, 12.0))
        if scenario.icans_grade == 4:
            pulse = 1000.0 if not patient.child else min(1000.0, round(30.0 * patient.weight_kg))
            methylprednisolone += [(time, pulse) for time in _every(start, 24.0, 3)]
        else:
            low, high = (2, 4) if scenario.icans_grade == 2 else (6, 12)
            count = int(rng.integers(low, high + 1))
            dexamethasone += [
                (time, dexamethasone_mg(patient)) for time in _every(start, 6.0, count)
            ]

    _merge(log, "dexamethasone", dexamethasone)
    _merge(log, "methylprednisolone", methylprednisolone)

    if scenario.hlh_like and course.hlh_peak is not None:
        if rng.random() < 0.4:
            begin = course.hlh_peak + float(rng.uniform(0.0, 24.0))
            log.add("anakinra", _every(begin, 12.0, int(rng.integers(4, 11))), anakinra_mg(patient))
        if rng.random() < 0.1:
            log.add("etoposide", [course.hlh_peak + 48.0], etoposide_mg(patient))
