"""How laboratory results are sampled: the times courses hang on, noise, reference ranges.

Reference ranges (``ref_low``/``ref_high``) come with the results of the 60 % of patients whose
laboratory reports them: CRP < 10 mg/L, AST/ALT 0-35 U/L, LDH 88-230 U/L, bilirubin 0.1-1.2 mg/dL
(seed 004); fibrinogen 172-471 mg/dL, D-dimer 0.1-0.6 ug/mL FEU, triglycerides 32-116 mg/dL,
sodium 138-145 mmol/L, ferritin 10-70 ng/mL in children (seed 000); ferritin 10-300 ng/mL in
adults (an assumption).  Measurement noise is log-normal, truncated at 2.5 SD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._events import EventLog, FloatArray

__all__ = ["REFERENCE_SHARE", "Anchors", "Curve", "LabWriter", "lab_anchors"]

Curve = Callable[[FloatArray], FloatArray]
REFERENCE_SHARE = 0.6
REFERENCES: dict[str, tuple[float | None, float]] = {
    "crp": (None, 10.0),
    "ast": (0.0, 35.0),
    "alt": (0.0, 35.0),
    "ldh": (88.0, 230.0),
    "bilirubin": (0.1, 1.2),
    "fibrinogen": (172.0, 471.0),
    "d_dimer": (0.1, 0.6),
    "triglycerides": (32.0, 116.0),
    "sodium": (138.0, 145.0),
}


@dataclass(frozen=True, slots=True)
class Anchors:
    """The times the laboratory courses hang on."""

    start: float  # when the main inflammation starts (onset, or the cytokine origin)
    escalation: float | None
    hlh_peak: float | None
    calmed: float | None  # first tocilizumab dose
    last_tocilizumab: float | None
    steroids: float | None


def lab_anchors(course: Course) -> Anchors:
    return Anchors(
        start=course.onset if course.onset is not None else course.cytokine_origin,
        escalation=course.escalation,
        hlh_peak=course.hlh_peak,
        calmed=course.tocilizumab[0] if course.tocilizumab else None,
        last_tocilizumab=course.tocilizumab[-1] if course.tocilizumab else None,
        steroids=course.steroid_start,
    )


class LabWriter:
    """Samples curves at the laboratory times with noise, and appends them."""

    def __init__(
        self, rng: np.random.Generator, log: EventLog, references: bool, child: bool
    ) -> None:
        self.rng = rng
        self.log = log
        self.references = references
        self.child = child

    def noise(self, size: int, cv: float) -> FloatArray:
        return np.exp(cv * np.clip(self.rng.standard_normal(size), -2.5, 2.5))

    def write(self, item: str, times: FloatArray, curve: Curve, cv: float) -> FloatArray:
        values = curve(times) * self.noise(times.size, cv)
        reference: tuple[float | None, float | None] | None = None
        if self.references:
            if item == "ferritin":
                reference = (10.0, 70.0) if self.child else (10.0, 300.0)
            else:
                reference = REFERENCES.get(item)
        self.log.add(item, times, values, ref=reference)
        return values
