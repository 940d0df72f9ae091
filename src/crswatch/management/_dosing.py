"""Dosing: tocilizumab by the current US label, corticosteroid regimens with mg/kg and caps.

Tocilizumab (ACTEMRA US label, CRS indication; clinical-criteria §4.2, §6.3 D40): 12 mg/kg IV
over 60 minutes under 30 kg, 8 mg/kg from 30 kg, at most 800 mg per infusion; repeat doses at
least 8 hours apart, at most 3 in a 24-hour period and 4 in total (GC-CAR-T pocket guide [V];
the label sentence itself is [R]).  Lee 2014's 4 mg/kg adult dose is historical (erratum, §8
D16): every rule set doses tocilizumab by the label.

Time semantics (decision 0014): the interval runs from the latest recorded dose and is closed
at 8 h (exactly 8 h after a dose is allowed, 7 h 59 min is not).  "3 in a 24-hour period" counts
the doses in the half-open window ``(T - 24 h, T]``: a dose is refused when it already holds 3
(a dose exactly 24 h after another starts a new period).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crswatch.errors import InputError
from crswatch.management._model import Dose
from crswatch.timeline import format_time

__all__ = [
    "TOCILIZUMAB_LABEL",
    "TocilizumabCheck",
    "TocilizumabLabel",
    "corticosteroid_dose",
    "tocilizumab_dose",
]


@dataclass(frozen=True, slots=True)
class TocilizumabLabel:
    """The label's numbers, as data, with their source."""

    weight_threshold_kg: float = 30.0
    mg_per_kg_below: float = 12.0
    mg_per_kg_at_or_above: float = 8.0
    max_mg_per_dose: float = 800.0
    min_interval: timedelta = timedelta(hours=8)
    max_per_24h: int = 3
    max_total: int = 4
    reference: str = (
        "ACTEMRA (tocilizumab) US prescribing information, CRS indication: 12 mg/kg (<30 kg), "
        "8 mg/kg (>=30 kg) IV over 60 min, max 800 mg per infusion [V, drugs.com]; 'Repeat "
        "every 8 hours as needed. Limit to a maximum of 3 doses in a 24-hour period; maximum "
        "total of 4 doses' [V, GC-CAR-T pocket guide]; clinical-criteria §4.2, §6.3 D40"
    )


TOCILIZUMAB_LABEL = TocilizumabLabel()


@dataclass(frozen=True, slots=True)
class TocilizumabCheck:
    """The label dose for a weight, and whether a dose at ``at`` is allowed given past doses."""

    weight_kg: float
    at: datetime
    dose_mg: float
    mg_per_kg: float
    uncapped_mg: float
    cap_applied: bool
    allowed: bool
    reasons: tuple[str, ...]
    checks: tuple[tuple[str, bool, str], ...]
    given: tuple[datetime, ...]
    next_allowed_at: datetime | None
    requested_mg: float | None = None

    def to_dose(self) -> Dose:
        return Dose(
            drug="tocilizumab",
            dose_mg=self.dose_mg,
            mg_per_kg=self.mg_per_kg,
            basis=f"{_num(self.mg_per_kg)} mg/kg x {_num(self.weight_kg)} kg",
            cap_mg=TOCILIZUMAB_LABEL.max_mg_per_dose,
            cap_applied=self.cap_applied,
            route="IV over 60 minutes",
            timing=(
                "now; if no clinical improvement, repeat no sooner than 8 h after the last dose, "
                "at most 3 doses in 24 h and 4 in total"
            ),
            allowed=self.allowed,
            reasons=self.reasons,
            next_allowed_at=self.next_allowed_at,
            notes=tuple(f"{rule}: {detail}" for rule, ok, detail in self.checks if ok),
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``crswatch dose tocilizumab --json`` payload."""
        return {
            "drug": "tocilizumab",
            "dose_mg": self.dose_mg,
            "mg_per_kg": self.mg_per_kg,
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "weight_kg": self.weight_kg,
            "at": format_time(self.at),
            "uncapped_mg": self.uncapped_mg,
            "cap_mg": TOCILIZUMAB_LABEL.max_mg_per_dose,
            "cap_applied": self.cap_applied,
            "requested_mg": self.requested_mg,
            "doses_given": [format_time(t) for t in self.given],
            "next_allowed_at": (
                format_time(self.next_allowed_at) if self.next_allowed_at is not None else None
            ),
            "checks": [
                {"rule": rule, "ok": ok, "detail": detail} for rule, ok, detail in self.checks
            ],
            "route": "IV over 60 minutes",
            "source": {"reference": TOCILIZUMAB_LABEL.reference, "verification": "V"},
        }


def _num(value: float) -> str:
    return f"{value:g}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"


def tocilizumab_dose(
    weight_kg: float,
    *,
    at: datetime,
    given: Sequence[datetime] = (),
    requested_mg: float | None = None,
) -> TocilizumabCheck:
    """The label dose for ``weight_kg`` and every label rule checked for a dose at ``at``.

    ``given`` are the times of doses already given (any order; one after ``at`` is an error).
    ``requested_mg`` (optional) is checked against the label dose and the 800 mg cap.
    """
    label = TOCILIZUMAB_LABEL
    if not weight_kg > 0:
        raise InputError(f"weight_kg={weight_kg!r} must be a positive number of kilograms")
    if at.tzinfo is None:
        raise InputError(f"at={at!r} must carry a UTC offset")
    past = tuple(sorted(given))
    late = [t for t in past if t > at]
    if late:
        raise InputError(
            f"given_at={format_time(late[0])!r} is after at={format_time(at)!r}: "
            "only doses already given count"
        )
    below = weight_kg < label.weight_threshold_kg
    mg_per_kg = label.mg_per_kg_below if below else label.mg_per_kg_at_or_above
    uncapped = round(mg_per_kg * weight_kg, 1)
    capped = uncapped > label.max_mg_per_dose
    dose = label.max_mg_per_dose if capped else uncapped
    band = "<" if below else ">="
    weight_rule = (
        f"{_num(mg_per_kg)} mg/kg because {_num(weight_kg)} kg {band} "
        f"{_num(label.weight_threshold_kg)} kg"
    )
    cap_detail = f"{_num(uncapped)} mg capped to 800 mg" if capped else f"{_num(dose)} mg"
    checks: list[tuple[str, bool, str]] = [
        ("weight_band", True, weight_rule),
        ("max_800mg_per_dose", True, cap_detail),
    ]
    reasons: list[str] = []
    waits: list[datetime] = []

    def refuse(rule: str, detail: str) -> None:
        checks.append((rule, False, detail))
        reasons.append(f"{rule}: {detail}")

    if len(past) >= label.max_total:
        refuse(
            "max_4_total",
            f"{len(past)} doses already given; the label allows at most {label.max_total}",
        )
    else:
        checks.append(("max_4_total", True, f"dose {len(past) + 1} of at most {label.max_total}"))

    if past:
        since = at - past[-1]
        if since < label.min_interval:
            ready = past[-1] + label.min_interval
            refuse(
                "min_interval_8h",
                f"last dose at {format_time(past[-1])}, {_duration(since)} before; doses must "
                f"be at least 8 h apart (next allowed at {format_time(ready)})",
            )
            waits.append(ready)
        else:
            checks.append(("min_interval_8h", True, f"{_duration(since)} since the last dose"))

    window = [t for t in past if t > at - timedelta(hours=24)]
    if len(window) >= label.max_per_24h:
        ready = window[-label.max_per_24h] + timedelta(hours=24)
        refuse(
            "max_3_per_24h",
            f"{len(window)} doses in the 24 h before {format_time(at)}; at most "
            f"{label.max_per_24h} in a 24-hour period (next allowed at {format_time(ready)})",
        )
        waits.append(ready)
    else:
        checks.append(("max_3_per_24h", True, f"{len(window)} dose(s) in the last 24 h"))

    if requested_mg is not None:
        if requested_mg > label.max_mg_per_dose:
            refuse(
                "max_800mg_per_dose",
                f"requested {_num(requested_mg)} mg exceeds 800 mg per infusion",
            )
        elif requested_mg > dose:
            refuse(
                "weight_band",
                f"requested {_num(requested_mg)} mg exceeds the label dose {_num(dose)} mg "
                f"({weight_rule})",
            )
        else:
            checks.append(("requested_dose", True, f"requested {_num(requested_mg)} mg"))

    exhausted = len(past) >= label.max_total
    return TocilizumabCheck(
        weight_kg=weight_kg,
        at=at,
        dose_mg=dose,
        mg_per_kg=mg_per_kg,
        uncapped_mg=uncapped,
        cap_applied=capped,
        allowed=not reasons,
        reasons=tuple(reasons),
        checks=tuple(checks),
        given=past,
        next_allowed_at=None if exhausted or not waits else max(waits),
        requested_mg=requested_mg,
    )


def corticosteroid_dose(
    drug: str,
    *,
    route: str,
    timing: str,
    mg: float | None = None,
    mg_per_kg: float | None = None,
    mg_per_m2: float | None = None,
    weight_kg: float | None = None,
    bsa_m2: float | None = None,
    cap_mg: float | None = None,
    course: str | None = None,
    notes: Sequence[str] = (),
) -> Dose | None:
    """A fixed, mg/kg or mg/m² corticosteroid dose, with an optional cap per dose.

    Returns ``None`` when the weight (or BSA) the dose needs is missing: the engine then gives
    the action without a dose and says what is missing, never a guessed dose.
    """
    if mg is not None:
        amount, basis = mg, f"{_num(mg)} mg fixed"
    elif mg_per_kg is not None:
        if weight_kg is None:
            return None
        amount = round(mg_per_kg * weight_kg, 2)
        basis = f"{_num(mg_per_kg)} mg/kg x {_num(weight_kg)} kg"
    elif mg_per_m2 is not None:
        if bsa_m2 is None:
            return None
        amount = round(mg_per_m2 * bsa_m2, 2)
        basis = f"{_num(mg_per_m2)} mg/m2 x {bsa_m2:.2f} m2"
    else:
        raise ValueError("corticosteroid_dose needs mg, mg_per_kg or mg_per_m2")
    capped = cap_mg is not None and amount > cap_mg
    return Dose(
        drug=drug,
        dose_mg=cap_mg if capped and cap_mg is not None else amount,
        route=route,
        timing=timing,
        mg_per_kg=mg_per_kg,
        mg_per_m2=mg_per_m2,
        basis=basis,
        cap_mg=cap_mg,
        cap_applied=capped,
        course=course,
        notes=tuple(notes),
    )
