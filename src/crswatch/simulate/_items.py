"""The vocabulary as the simulator writes it: item numbers, canonical units, rounding, bounds.

Items are numbered in *name order*, so sorting events by (time, item number) gives exactly the
(time, item) order of :class:`crswatch.timeline.Timeline`.  Every quantity is written in its
item's primary canonical unit, so the reader never converts a simulated value; values are
rounded to what a chart or a laboratory report would show and kept inside the vocabulary's
plausibility bounds (the bounds are a guard here, the physiology keeps values well inside them).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from crswatch.timeline import NOT_ASSESSED, vocabulary

__all__ = [
    "CODES",
    "CODE_INDEX",
    "DECIMALS",
    "HIGH",
    "INDEX",
    "ITEMS",
    "KINDS",
    "LOW",
    "UNITS",
]

ITEMS: tuple[str, ...] = tuple(sorted(vocabulary()))
INDEX: dict[str, int] = {name: number for number, name in enumerate(ITEMS)}
KINDS: tuple[str, ...] = tuple(vocabulary()[name].kind for name in ITEMS)

#: The cell dose is kept as given by the reader; the simulator writes it per kg of body weight.
_UNIT_OVERRIDES = {"car_t_infusion": "10*6/kg"}
UNITS: tuple[str | None, ...] = tuple(
    _UNIT_OVERRIDES.get(
        name, vocabulary()[name].unit if vocabulary()[name].kind == "quantity" else None
    )
    for name in ITEMS
)


def _bound(value: float | None, default: float) -> float:
    return default if value is None else value


LOW: npt.NDArray[np.float64] = np.array(
    [_bound(vocabulary()[name].low, -np.inf) for name in ITEMS], dtype=np.float64
)
HIGH: npt.NDArray[np.float64] = np.array(
    [_bound(vocabulary()[name].high, np.inf) for name in ITEMS], dtype=np.float64
)

#: Decimal places as charted or reported; anything not listed keeps two.
_DECIMALS = {
    "temperature": 1,
    "sbp": 0,
    "dbp": 0,
    "map": 0,
    "heart_rate": 0,
    "resp_rate": 0,
    "spo2": 0,
    "o2_flow": 1,
    "fio2": 0,
    "fluid_bolus": 0,
    "norepinephrine": 1,
    "epinephrine": 1,
    "phenylephrine": 0,
    "dopamine": 1,
    "vasopressin": 2,
    "tocilizumab": 0,
    "anakinra": 0,
    "etoposide": 0,
    "dexamethasone": 1,
    "methylprednisolone": 0,
    "prednisone": 0,
    "antipyretic": 0,
    "blinatumomab": 1,
    "crp": 1,
    "ferritin": 0,
    "fibrinogen": 0,
    "d_dimer": 2,
    "ast": 0,
    "alt": 0,
    "ldh": 0,
    "bilirubin": 1,
    "creatinine": 2,
    "triglycerides": 0,
    "platelets": 0,
    "hemoglobin": 1,
    "sodium": 0,
    "il2r": 0,
    "ice_score": 0,
    "capd_score": 0,
}
DECIMALS: tuple[int, ...] = tuple(
    _DECIMALS.get(name, 1 if vocabulary()[name].group == "cytokine" else 2) for name in ITEMS
)

#: Every code the simulator may write, and the text of booleans and unassessed scores.
CODES: tuple[str, ...] = tuple(
    sorted(
        {code for spec in vocabulary().values() for code in spec.values}
        | {"true", "false", NOT_ASSESSED}
    )
)
CODE_INDEX: dict[str, int] = {code: number for number, code in enumerate(CODES)}
