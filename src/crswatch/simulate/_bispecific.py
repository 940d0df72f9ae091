"""Step-up bispecific T-cell engager courses: the label's doses, premedication and CRS timing.

Products: teclistamab, elranatamab, talquetamab (myeloma) and epcoritamab, glofitamab,
mosunetuzumab (lymphoma), equally likely; tarlatamab is not simulated (its doses are not
verified against the label).  The doses are the label plan of ``crswatch.regimens``
(``plan_regimen``: teclistamab and talquetamab weekly, epcoritamab DLBCL) for the patient's
weight, for the first ``COURSE_DAYS`` days; the therapy start is day 1 of the plan (for
glofitamab, the obinutuzumab pretreatment).

Premedication is written where the label's drug and dose are verified: dexamethasone 16 mg
before teclistamab's step-up schedule doses; dexamethasone 20 mg, diphenhydramine 50 mg (as
``antihistamine``) and acetaminophen 1000 mg before mosunetuzumab's cycle 1-2 doses; for
epcoritamab ("premedicate before each dose in Cycle 1", drugs not verified) the simulator gives
dexamethasone 16 mg, an assumption of the synthetic data, not label content.  One hour before
the dose (teclistamab "1 to 3 hours", mosunetuzumab "at least 1 hour").

CRS follows the first doses, as the labels' trials report: the main episode comes after step-up
dose 1 (50 %), step-up dose 2 (30 %) or the third dose (20 %); onset a median 24 h after that
dose (log-normal spread 0.5, 4-72 h; an assumption: subcutaneous and intravenous step-up doses
release cytokines over the first day).  Relative cytokine release per dose (``_cytokines``):
0.6 for the doses of the step-up schedule, 0.15 later (an assumption, after seed 004's lower
release at later steps of blinatumomab).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crswatch.regimens import plan_regimen

__all__ = [
    "BISPECIFIC_PRODUCTS",
    "COURSE_DAYS",
    "BispecificDose",
    "bispecific_doses",
    "draw_bispecific",
    "main_dose_index",
]

#: The products simulated, with the label schedule used.
BISPECIFIC_PRODUCTS: tuple[tuple[str, str | None], ...] = (
    ("teclistamab", "weekly"),
    ("elranatamab", "weekly"),
    ("talquetamab", "weekly"),
    ("epcoritamab", "dlbcl"),
    ("glofitamab", "dlbcl"),
    ("mosunetuzumab", "fl"),
)
#: Doses planned on days 1..COURSE_DAYS of the course are written.
COURSE_DAYS = 22
#: Where the main CRS episode comes: after the first, second or third dose of the product.
_MAIN_DOSE_SHARES = (0.5, 0.3, 0.2)
_STEP_UP_STRENGTH = 0.6
_LATER_STRENGTH = 0.15


@dataclass(frozen=True, slots=True)
class BispecificDose:
    """A dose (hours after the therapy start) and its premedication (item, mg) an hour before."""

    hours: float
    item: str
    mg: float
    strength: float
    premedication: tuple[tuple[str, float], ...]


def draw_bispecific(rng: np.random.Generator) -> tuple[str, str | None]:
    """A product and its label schedule."""
    return BISPECIFIC_PRODUCTS[int(rng.integers(0, len(BISPECIFIC_PRODUCTS)))]


def _premedication(
    product: str, period: int, step_up_schedule: bool
) -> tuple[tuple[str, float], ...]:
    if product == "teclistamab" and step_up_schedule:
        return (("dexamethasone", 16.0),)
    if product == "mosunetuzumab" and period <= 2:
        return (("dexamethasone", 20.0), ("antihistamine", 50.0), ("antipyretic", 1000.0))
    if product == "epcoritamab" and period == 1:
        return (("dexamethasone", 16.0),)
    return ()


def bispecific_doses(product: str, schedule: str | None, weight_kg: float) -> list[BispecificDose]:
    """The label plan's doses of the first ``COURSE_DAYS`` days for this weight."""
    plan = plan_regimen(product, weight_kg=weight_kg, indication=schedule, periods=4)
    doses = []
    for dose in plan.doses:
        if dose.course_day > COURSE_DAYS or dose.dose_mg is None:
            continue
        own = dose.drug == product
        strength = (
            0.0 if not own else (_STEP_UP_STRENGTH if dose.step_up_schedule else _LATER_STRENGTH)
        )
        doses.append(
            BispecificDose(
                hours=(dose.course_day - 1) * 24.0,
                item=dose.drug,
                mg=dose.dose_mg,
                strength=strength,
                premedication=_premedication(product, dose.period, dose.step_up_schedule)
                if own
                else (),
            )
        )
    return doses


def main_dose_index(rng: np.random.Generator, count: int) -> int:
    """Which of the product's doses the main CRS episode follows."""
    shares = np.asarray(_MAIN_DOSE_SHARES[:count])
    return int(rng.choice(len(shares), p=shares / shares.sum()))
