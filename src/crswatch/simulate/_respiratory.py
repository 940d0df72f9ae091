"""Hypoxia and respiratory support: nasal cannula, high flow, positive pressure, ventilation.

Choices (ASTCT 2019 cut-offs from clinical-criteria §1.9: low flow <= 6 L/min, high flow > 6):

- Hypoxia starts at escalation (up to 8 h later when hypotension came first) with a room-air
  saturation of 86-92 %, recorded as a spot reading before oxygen is started.
- Every course starts on a nasal cannula: 1-4 L/min (children 0.5-2), raised by 1-2 L/min (at most
  6) in half of the low-flow courses.
- Each escalation comes before the response to tocilizumab or steroids (a fast course climbs the
  devices within hours).  High flow follows 1-12 h later at 20-50 L/min (children 1.5 L/kg/min,
  8-40 L/min) with an FiO2 of 40-70 %.  Positive pressure (CPAP or BiPAP, FiO2 50-80 %) follows
  high flow 2-12 h later. Ventilation follows high flow (or BiPAP in 30 %) 2-24 h later with an
  FiO2 of 50-100 %; the patient is sedated (``sedation`` true) until extubation 2-10 days later, at
  least 1-7 days after the response (seed 000: ventilated days 2-11, extubated 7 days after
  tocilizumab).
- Weaning starts 6-36 h after the response: back down one device at a time, then ``room_air`` with
  an ``o2_flow`` of 0, so both the device and the flow are seen to stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import EventLog
from crswatch.simulate._scenario import Scenario
from crswatch.simulate._streams import uniform

__all__ = ["RespiratoryPlan", "plan_respiratory"]


@dataclass(slots=True)
class RespiratoryPlan:
    """Saturation fall and extra breaths (knots), spot readings, end of support, ventilation."""

    desaturation_times: list[float] = field(default_factory=lambda: [0.0])
    desaturation_values: list[float] = field(default_factory=lambda: [0.0])
    tachypnoea_values: list[float] = field(default_factory=lambda: [0.0])
    spots: list[float] = field(default_factory=list)
    end: float | None = None
    ventilation: tuple[float, float] | None = None


class _Support:
    """Device, flow and FiO2 changes in time order, and the saturation knots that go with them."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.device: list[tuple[float, str]] = []
        self.flow: list[tuple[float, float]] = []
        self.fio2: list[tuple[float, float]] = []
        self.knots: list[tuple[float, float, float]] = []

    def set(
        self,
        time: float,
        device: str,
        flow: float | None,
        fio2: float | None,
        fall: float,
        breaths: float,
    ) -> None:
        self.device.append((time, device))
        if flow is not None:
            self.flow.append((time, flow))
        if fio2 is not None:
            self.fio2.append((time, fio2))
        self.knots.append((time, fall, breaths))

    def write(self) -> None:
        self.log.add_codes("o2_device", [t for t, _ in self.device], [d for _, d in self.device])
        self.log.add("o2_flow", [t for t, _ in self.flow], [f for _, f in self.flow])
        self.log.add("fio2", [t for t, _ in self.fio2], [f for _, f in self.fio2])


def plan_respiratory(
    rng: np.random.Generator,
    scenario: Scenario,
    patient: Demographics,
    course: Course,
    log: EventLog,
) -> RespiratoryPlan:
    """Append oxygen support and sedation to ``log``; return the saturation plan."""
    plan = RespiratoryPlan()
    level = scenario.oxygen
    if not level or course.escalation is None:
        return plan
    child = patient.child
    begin = course.escalation + (uniform(rng, 0.0, 8.0) if scenario.hypotension else 0.0)
    response = course.response if course.response is not None else begin + uniform(rng, 24.0, 72.0)
    wean = max(begin + 6.0, response + uniform(rng, 6.0, 36.0))
    if course.death is not None:
        wean = max(wean, course.death + 1.0)
    support = _Support(log)
    support.knots.append((begin - 1.0, 0.0, 0.0))
    room_air_fall = uniform(rng, 6.0, 10.0)
    support.knots.append((begin - 0.1, room_air_fall, uniform(rng, 8.0, 14.0)))
    plan.spots.append(begin - 0.1)

    cannula = round(uniform(rng, 0.5, 2.0), 1) if child else float(rng.integers(1, 5))
    support.set(begin, "nasal_cannula", cannula, None, uniform(rng, 2.0, 4.0), 5.0)
    time = begin
    if level == 1:
        if rng.random() < 0.5:
            time = begin + uniform(rng, 2.0, 12.0)
            support.set(
                time, "nasal_cannula", min(6.0, cannula + float(rng.integers(1, 3))), None, 3.0, 6.0
            )
        wean = max(wean, time + 1.0)
    else:
        # Escalation happens before the response to tocilizumab or steroids: a fast course
        # climbs the devices within hours.
        deadline = max(begin + 3.0, response)
        steps = 1 + (level >= 3) + (level == 4)
        time = min(begin + uniform(rng, 1.0, 12.0), begin + (deadline - begin) / steps)
        high_flow = (
            float(np.clip(round(1.5 * patient.weight_kg), 8, 40))
            if child
            else 5.0 * round(uniform(rng, 20.0, 50.0) / 5.0)
        )
        fio2 = 5.0 * round(uniform(rng, 40.0, 70.0) / 5.0)
        support.knots.append((time - 0.2, uniform(rng, 5.0, 9.0), 12.0))
        plan.spots.append(time - 0.2)
        support.set(time, "high_flow_nasal_cannula", high_flow, fio2, uniform(rng, 2.0, 5.0), 7.0)
        if level == 3 or (level == 4 and rng.random() < 0.3):
            time = min(time + uniform(rng, 2.0, 12.0), time + (deadline - time) / (steps - 1))
            device = "bipap" if rng.random() < 0.5 else "cpap"
            support.set(
                time,
                device,
                None,
                5.0 * round(uniform(rng, 50.0, 80.0) / 5.0),
                uniform(rng, 2.0, 5.0),
                6.0,
            )
        if level == 4:
            time = min(time + uniform(rng, 2.0, 24.0), max(time + 0.5, deadline))
            intubated = time
            support.set(
                time,
                "mechanical_ventilation",
                None,
                5.0 * round(uniform(rng, 50.0, 100.0) / 5.0),
                2.0,
                0.0,
            )
            support.fio2.append((time + uniform(rng, 12.0, 36.0), 40.0))
            extubated = max(time + uniform(rng, 48.0, 240.0), response + uniform(rng, 24.0, 168.0))
            if course.death is not None:
                extubated = max(extubated, course.death + 1.0)
            log.add_codes("sedation", [intubated, extubated], ["true", "false"])
            plan.ventilation = (intubated, extubated)
            time = extubated
            support.set(time, "high_flow_nasal_cannula", high_flow * 0.75, 35.0, 2.0, 4.0)
            wean = max(wean, time + uniform(rng, 12.0, 36.0))
        elif level == 3:
            wean = max(wean, time + uniform(rng, 12.0, 48.0))
            support.set(wean, "high_flow_nasal_cannula", high_flow, 40.0, 2.0, 4.0)
            wean += uniform(rng, 6.0, 24.0)
        else:
            wean = max(wean, time + 6.0)
            support.fio2.append((wean, 5.0 * round(uniform(rng, 30.0, 35.0) / 5.0)))
            wean += uniform(rng, 12.0, 36.0)
        low_flow = round(uniform(rng, 0.5, 2.0), 1) if child else float(rng.integers(2, 5))
        support.set(wean, "nasal_cannula", low_flow, None, 1.0, 2.0)
    off = wean + uniform(rng, 6.0, 48.0)
    support.set(off, "room_air", 0.0, None, uniform(rng, 0.0, 1.0), 0.0)
    support.write()
    plan.desaturation_times = [t for t, _, _ in support.knots]
    plan.desaturation_values = [f for _, f, _ in support.knots]
    plan.tachypnoea_values = [b for _, _, b in support.knots]
    plan.end = off
    return plan
