"""Glucocorticoid equivalence and the running steroid exposure of a timeline.

Equivalent anti-inflammatory doses, as data with their source: hydrocortisone 20 mg =
prednisone 5 mg = methylprednisolone 4 mg = dexamethasone 0.75 mg.  The ratio is the FDA
prednisolone label's equivalence sentence (15 mg prednisolone = hydrocortisone 60 mg =
prednisone 15 mg = methylprednisolone 12 mg = dexamethasone 2.25 mg), read in a secondary
quotation (droracle.ai article 632347), and it agrees with the standard tables (Neuro-Oncology
Practice 2014;2(1):6, PMC4369706 Table 1: potency prednisone 4, methylprednisolone 5,
dexamethasone about 25-30 relative to cortisol; that table's dexamethasone cortisol-equivalent
0.04 gives 0.8 mg rather than 0.75 mg, a spread noted in the source).  Equivalence is for
anti-inflammatory potency, not for mineralocorticoid activity or CNS penetration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from crswatch.errors import InputError
from crswatch.timeline import Timeline, format_time

__all__ = [
    "CORTICOSTEROID_ITEMS",
    "STEROID_EQUIVALENCE",
    "STEROID_EQUIVALENCE_SOURCE",
    "SteroidExposure",
    "dexamethasone_equivalent",
    "steroid_exposure",
]

#: mg of each drug (timeline item, canonical unit mg) equivalent to 0.75 mg dexamethasone.
STEROID_EQUIVALENCE = MappingProxyType(
    {
        "dexamethasone": 0.75,
        "methylprednisolone": 4.0,
        "prednisone": 5.0,
        "hydrocortisone": 20.0,
    }
)
STEROID_EQUIVALENCE_SOURCE: dict[str, str] = {
    "reference": (
        "FDA prednisolone label equivalence sentence (15 mg prednisolone = 60 mg hydrocortisone "
        "= 15 mg prednisone = 12 mg methylprednisolone = 2.25 mg dexamethasone), as quoted at "
        "droracle.ai/articles/632347; consistent with PMC4369706 Table 1 potencies"
    ),
    "verification": "V",
    "note": "anti-inflammatory equivalence; dexamethasone 0.75-0.8 mg across tables",
}
CORTICOSTEROID_ITEMS: tuple[str, ...] = tuple(STEROID_EQUIVALENCE)


def dexamethasone_equivalent(drug: str, mg: float) -> float:
    """``mg`` of ``drug`` expressed as mg of dexamethasone."""
    try:
        per = STEROID_EQUIVALENCE[drug]
    except KeyError:
        known = ", ".join(STEROID_EQUIVALENCE)
        raise InputError(f"drug={drug!r} has no glucocorticoid equivalence ({known})") from None
    if mg < 0:
        raise InputError(f"mg={mg!r} must not be negative")
    return mg * STEROID_EQUIVALENCE["dexamethasone"] / per


@dataclass(frozen=True, slots=True)
class SteroidExposure:
    """Corticosteroids given up to ``at``: per drug, and in dexamethasone equivalents."""

    at: datetime
    mg_by_drug: dict[str, float]
    dexamethasone_equivalent_mg: float
    dexamethasone_equivalent_mg_24h: float
    doses: tuple[tuple[datetime, str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": format_time(self.at),
            "mg_by_drug": {drug: round(mg, 3) for drug, mg in self.mg_by_drug.items()},
            "dexamethasone_equivalent_mg": round(self.dexamethasone_equivalent_mg, 3),
            "dexamethasone_equivalent_mg_last_24h": round(self.dexamethasone_equivalent_mg_24h, 3),
            "doses": [
                {"time": format_time(time), "drug": drug, "mg": mg} for time, drug, mg in self.doses
            ],
            "equivalence": {
                "mg_equivalent_to_dexamethasone_0.75_mg": dict(STEROID_EQUIVALENCE),
                **STEROID_EQUIVALENCE_SOURCE,
            },
        }


def steroid_exposure(timeline: Timeline, at: datetime) -> SteroidExposure:
    """Every corticosteroid dose recorded at or before ``at`` (premedication included)."""
    doses = tuple(
        (event.time, event.item, float(event.value))
        for event in timeline.of(*CORTICOSTEROID_ITEMS)
        if event.time <= at and isinstance(event.value, int | float)
    )
    by_drug: dict[str, float] = {}
    for _, drug, mg in doses:
        by_drug[drug] = by_drug.get(drug, 0.0) + mg
    total = sum(dexamethasone_equivalent(drug, mg) for _, drug, mg in doses)
    recent = sum(
        dexamethasone_equivalent(drug, mg)
        for time, drug, mg in doses
        if time > at - timedelta(hours=24)
    )
    return SteroidExposure(
        at=at,
        mg_by_drug=by_drug,
        dexamethasone_equivalent_mg=total,
        dexamethasone_equivalent_mg_24h=recent,
        doses=doses,
    )
