"""The T-cell engaging therapy: CAR T products and blinatumomab regimens.

CAR T (one infusion at time 0, written as ``car_t_infusion`` in 10^6 cells/kg):

| product | share (adults) | median CRS onset, days | ICANS share |
|---|---|---|---|
| axicabtagene ciloleucel | 30 % | 2 | 55 % (Pennisi 2020, clinical-criteria §6.2) |
| tisagenlecleucel (all children) | 20 % | 3 | 15 % (Pennisi 2020) |
| lisocabtagene maraleucel | 15 % | 5 | 30 % |
| brexucabtagene autoleucel | 10 % | 3 | 60 % |
| idecabtagene vicleucel | 10 % | 1 | 18 % |
| ciltacabtagene autoleucel | 15 % | 6 | 20 % |

Onset medians and the ICANS shares not attributed above are assumptions in line with the
pivotal trials (not in the seeds); onset is always kept on days 1-7 (the issue's requirement;
seed 003: fever on day 1; seed 002 Figure 3: fever on day 3).  Cell doses follow the labels
(per kg, or a total divided by the weight).

Blinatumomab (continuous infusion, ``blinatumomab`` events in ug/d with ``end``), cycle 1 of 28
days (clinical-criteria §4.6):

- ``label_step`` (60 %): 9 ug/d days 1-7, then 28 ug/d (seed 002; BLINCYTO label, r/r ALL);
  below 45 kg 5 then 15 ug/m²/d, capped at 9 and 28 ug/d, written in ug/d via the BSA.
- ``flat`` (25 %): 28 ug/d from day 1 (label, MRD-positive ALL; 15 ug/m²/d below 45 kg).
- ``three_step`` (15 %): 5, 15, then 30 ug/m²/d from days 1, 8 and 15 (seed 004, cohort 2b),
  converted with the BSA at every weight.

Step dosing lowers the cytokine peaks (seed 004, Figure 6a): a reduced first dose releases about
half the cytokines of a full flat dose, and a later step less again ("at the dose step to 15
ug/m²/day, cytokine levels were even lower than at 5 ug/m²/day").  :func:`dose_strengths`
encodes that as relative strengths 1.0 (full first dose), 0.5 (reduced first dose), 0.35 (step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crswatch.simulate._demographics import Demographics

__all__ = [
    "BLINATUMOMAB_REGIMENS",
    "CAR_T_PRODUCTS",
    "CYCLE_HOURS",
    "CarTProduct",
    "InfusionStep",
    "Regimen",
    "blinatumomab_steps",
    "car_t_cell_dose",
    "dose_strengths",
    "draw_car_t_product",
    "draw_regimen",
]

CYCLE_HOURS = 28 * 24.0
#: Body weight below which blinatumomab is dosed per m² (label).
BSA_DOSING_BELOW_KG = 45.0


@dataclass(frozen=True, slots=True)
class CarTProduct:
    name: str
    share: float
    onset_median_days: float
    icans_share: float
    #: Label cell dose: per kg (10^6/kg, cap in 10^6 cells) or a total (10^6 cells).
    per_kg: tuple[float, float] | None
    total: tuple[float, float] | None
    cap_total: float | None = None


CAR_T_PRODUCTS: tuple[CarTProduct, ...] = (
    CarTProduct("axicabtagene ciloleucel", 0.30, 2.0, 0.55, (2.0, 2.0), None, 200.0),
    CarTProduct("tisagenlecleucel", 0.20, 3.0, 0.15, None, (60.0, 600.0)),
    CarTProduct("lisocabtagene maraleucel", 0.15, 5.0, 0.30, None, (100.0, 100.0)),
    CarTProduct("brexucabtagene autoleucel", 0.10, 3.0, 0.60, (2.0, 2.0), None, 200.0),
    CarTProduct("idecabtagene vicleucel", 0.10, 1.0, 0.18, None, (300.0, 460.0)),
    CarTProduct("ciltacabtagene autoleucel", 0.15, 6.0, 0.20, (0.5, 1.0), None, 100.0),
)
_TISAGENLECLEUCEL = CAR_T_PRODUCTS[1]


@dataclass(frozen=True, slots=True)
class Regimen:
    name: str
    share: float
    #: (day the rate starts, ug/d at >= 45 kg, ug/m2/d below 45 kg, ug/d cap below 45 kg).
    steps: tuple[tuple[float, float, float, float], ...]
    #: Dose every patient per m² (the seed 004 dose-finding cohorts).
    per_m2_always: bool = False


BLINATUMOMAB_REGIMENS: tuple[Regimen, ...] = (
    Regimen("label_step", 0.60, ((0.0, 9.0, 5.0, 9.0), (7.0, 28.0, 15.0, 28.0))),
    Regimen("flat", 0.25, ((0.0, 28.0, 15.0, 28.0),)),
    Regimen(
        "three_step",
        0.15,
        ((0.0, 0.0, 5.0, 1e9), (7.0, 0.0, 15.0, 1e9), (14.0, 0.0, 30.0, 1e9)),
        per_m2_always=True,
    ),
)


@dataclass(frozen=True, slots=True)
class InfusionStep:
    """One rate of the planned cycle: from ``start`` (hours after the first dose)."""

    start: float
    rate_ug_per_day: float


def _pick(rng: np.random.Generator, shares: list[float]) -> int:
    return int(rng.choice(len(shares), p=np.asarray(shares) / sum(shares)))


def draw_car_t_product(rng: np.random.Generator, demographics: Demographics) -> CarTProduct:
    if demographics.child:
        return _TISAGENLECLEUCEL
    return CAR_T_PRODUCTS[_pick(rng, [product.share for product in CAR_T_PRODUCTS])]


def car_t_cell_dose(rng: np.random.Generator, product: CarTProduct, patient: Demographics) -> float:
    """The infused dose in 10^6 CAR+ cells per kg."""
    weight_kg = patient.weight_kg
    if product is _TISAGENLECLEUCEL and patient.child:
        # Label (paediatric ALL): 0.2-5.0 x 10^6/kg up to 50 kg, else 0.1-2.5 x 10^8 in total.
        if weight_kg <= 50.0:
            return round(float(rng.uniform(0.2, 5.0)), 2)
        return round(float(rng.uniform(10.0, 250.0)) / weight_kg, 2)
    if product.per_kg is not None:
        per_kg = float(rng.uniform(*product.per_kg))
        if product.cap_total is not None:
            per_kg = min(per_kg, product.cap_total / weight_kg)
        return round(per_kg, 2)
    assert product.total is not None  # every product has a per-kg or a total dose
    return round(float(rng.uniform(*product.total)) / weight_kg, 2)


def draw_regimen(rng: np.random.Generator) -> Regimen:
    return BLINATUMOMAB_REGIMENS[_pick(rng, [regimen.share for regimen in BLINATUMOMAB_REGIMENS])]


def blinatumomab_steps(regimen: Regimen, demographics: Demographics) -> list[InfusionStep]:
    """The planned rates of cycle 1 in ug/d for this patient's weight and BSA."""
    per_m2 = regimen.per_m2_always or demographics.weight_kg < BSA_DOSING_BELOW_KG
    steps = []
    for day, fixed, per_square_metre, cap in regimen.steps:
        rate = min(cap, per_square_metre * demographics.bsa_m2) if per_m2 else fixed
        steps.append(InfusionStep(start=day * 24.0, rate_ug_per_day=round(rate, 1)))
    return steps


def dose_strengths(regimen: Regimen) -> list[float]:
    """Relative cytokine release at each planned step (seed 004, Figure 6a)."""
    first = 1.0 if len(regimen.steps) == 1 else 0.5
    return [first] + [0.35] * (len(regimen.steps) - 1)
