"""Dosing: tocilizumab by the current US label, corticosteroid regimens with mg/kg and caps.

Tocilizumab (ACTEMRA US prescribing information, cytokine release syndrome; verified in a
label-derived transcription): 12 mg/kg IV over 60 minutes under 30 kg, 8 mg/kg from 30 kg,
doses over 800 mg per infusion not recommended; if no clinical improvement after the first dose,
up to 3 additional doses (4 in total), at least 8 hours apart.  "A maximum total of 4 doses"
is the KYMRIAH label's wording; "at most 3 doses in 24 hours" is guideline and institutional
wording (not the label), kept as a check and cited as such (decision 0033).

Display (decision 0033): the dose is written in whole milligrams (572.8 mg -> 573 mg, halves
up); the unrounded arithmetic stays in ``exact_mg`` and the basis.  A site may round to whole
vials (:class:`DosingOptions`, off by default).

Time semantics (decision 0014): the interval runs from the latest recorded dose and is closed
at 8 h (exactly 8 h after a dose is allowed, 7 h 59 min is not).  "3 in a 24-hour period" counts
the doses in the half-open window ``(T - 24 h, T]``: a dose is refused when it already holds 3
(a dose exactly 24 h after another starts a new period).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations_with_replacement
from typing import Any

from crswatch.errors import InputError
from crswatch.management._model import Dose, format_clock, format_mg, round_half_up
from crswatch.references import cite
from crswatch.timeline import format_time

__all__ = [
    "TOCILIZUMAB_LABEL",
    "TOCILIZUMAB_VIALS_MG",
    "DosingOptions",
    "TocilizumabCheck",
    "TocilizumabLabel",
    "corticosteroid_dose",
    "round_to_vials",
    "tocilizumab_dose",
]

#: The ACTEMRA IV vial sizes (80 mg/4 mL, 200 mg/10 mL, 400 mg/20 mL), for the site's optional
#: whole-vial rounding.
TOCILIZUMAB_VIALS_MG: tuple[float, ...] = (80.0, 200.0, 400.0)


@dataclass(frozen=True, slots=True)
class DosingOptions:
    """Site dosing rules (decision 0033), off by default.

    ``tocilizumab_vials``: round the tocilizumab dose to the nearest total of whole vials of
    these sizes (never above the 800 mg cap; a tie goes to the smaller total).  Empty: whole
    milligrams, no vial rounding.
    """

    tocilizumab_vials: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        bad = [size for size in self.tocilizumab_vials if not size > 0]
        if bad:
            raise InputError(f"tocilizumab_vials={self.tocilizumab_vials!r}: sizes must be > 0")


@dataclass(frozen=True, slots=True)
class TocilizumabLabel:
    """The label's numbers, as data, with the source of each."""

    weight_threshold_kg: float = 30.0
    mg_per_kg_below: float = 12.0
    mg_per_kg_at_or_above: float = 8.0
    max_mg_per_dose: float = 800.0
    min_interval: timedelta = timedelta(hours=8)
    max_per_24h: int = 3
    max_total: int = 4
    reference: str = cite(
        "actemra-label",
        "cytokine release syndrome: 12 mg/kg under 30 kg, 8 mg/kg from 30 kg, IV over 60 "
        "minutes; doses over 800 mg per infusion not recommended; up to 3 additional doses, at "
        "least 8 hours apart",
    )
    total_reference: str = (
        cite("actemra-label", "'up to 3 additional doses' after the first (4 in total)")
        + "; "
        + cite("kymriah-label", "'a maximum total of 4 tocilizumab doses'")
    )
    per_24h_reference: str = cite(
        "tocilizumab-24h-limit", "'no more than 3 doses in 24 h' (guideline wording, not the label)"
    )


TOCILIZUMAB_LABEL = TocilizumabLabel()

_ROUTE = "IV over 60 minutes"


def round_to_vials(mg: float, vials: Sequence[float], cap_mg: float) -> float:
    """The total of whole vials nearest ``mg`` and not above ``cap_mg`` (ties: the smaller)."""
    sizes = sorted(set(vials))
    best: float | None = None
    most = int(cap_mg // min(sizes)) + 1
    totals = {0.0}
    for count in range(1, most + 1):
        totals.update(sum(combo) for combo in combinations_with_replacement(sizes, count))
    for total in sorted(t for t in totals if 0 < t <= cap_mg):
        if best is None or abs(total - mg) < abs(best - mg):
            best = total
    return best if best is not None else min(sizes)


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
    #: The label arithmetic before rounding (mg/kg x kg, capped at 800 mg).
    exact_mg: float = 0.0
    vial_rounding: bool = False

    @property
    def exhausted(self) -> bool:
        """Every dose the label allows has been given."""
        return len(self.given) >= TOCILIZUMAB_LABEL.max_total

    @property
    def basis(self) -> str:
        text = (
            f"{format_mg(self.mg_per_kg)} mg/kg × {self.weight_kg:g} kg = {self.uncapped_mg:g} mg"
        )
        if self.cap_applied:
            text += ", capped at 800 mg"
        elif self.vial_rounding:
            text += ", rounded to whole vials (site rule)"
        elif self.dose_mg != self.uncapped_mg:
            text += ", written in whole mg"
        return text

    @property
    def summary(self) -> str:
        """One sentence for the bedside: the dose and when it may be given."""
        return self.to_dose().text

    def to_dose(self) -> Dose:
        return Dose(
            drug="tocilizumab",
            dose_mg=self.dose_mg,
            exact_mg=self.exact_mg,
            mg_per_kg=self.mg_per_kg,
            basis=self.basis,
            cap_mg=TOCILIZUMAB_LABEL.max_mg_per_dose,
            cap_applied=self.cap_applied,
            route=_ROUTE,
            timing="now",
            course=(
                "if no clinical improvement, up to 3 additional doses at least 8 h apart "
                "(4 in total)"
            ),
            allowed=self.allowed,
            reasons=self.reasons,
            next_allowed_at=self.next_allowed_at,
            notes=tuple(f"{rule}: {detail}" for rule, ok, detail in self.checks if ok),
            exhausted=self.exhausted,
            doses_given=len(self.given),
            max_doses=TOCILIZUMAB_LABEL.max_total,
            whole_mg=True,
        )

    def to_dict(self) -> dict[str, Any]:
        """The ``crswatch dose tocilizumab --json`` payload."""
        label = TOCILIZUMAB_LABEL
        return {
            "drug": "tocilizumab",
            "dose_mg": self.dose_mg,
            "exact_mg": self.exact_mg,
            "mg_per_kg": self.mg_per_kg,
            "basis": self.basis,
            "allowed": self.allowed,
            "exhausted": self.exhausted,
            "reasons": list(self.reasons),
            "weight_kg": self.weight_kg,
            "at": format_time(self.at),
            "uncapped_mg": self.uncapped_mg,
            "cap_mg": label.max_mg_per_dose,
            "cap_applied": self.cap_applied,
            "vial_rounding": self.vial_rounding,
            "requested_mg": self.requested_mg,
            "doses_given": [format_time(t) for t in self.given],
            "next_allowed_at": (
                format_time(self.next_allowed_at) if self.next_allowed_at is not None else None
            ),
            "checks": [
                {"rule": rule, "ok": ok, "detail": detail, "source": _CHECK_SOURCES[rule]}
                for rule, ok, detail in self.checks
            ],
            "route": _ROUTE,
            "text": self.summary,
            "source": {
                "reference": label.reference,
                "verification": "V",
                "total": label.total_reference,
                "per_24h": label.per_24h_reference,
            },
        }


_CHECK_SOURCES = {
    "weight_band": TOCILIZUMAB_LABEL.reference,
    "max_800mg_per_dose": TOCILIZUMAB_LABEL.reference,
    "requested_dose": TOCILIZUMAB_LABEL.reference,
    "min_interval_8h": TOCILIZUMAB_LABEL.reference,
    "max_4_total": TOCILIZUMAB_LABEL.total_reference,
    "max_3_per_24h": TOCILIZUMAB_LABEL.per_24h_reference,
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
    options: DosingOptions | None = None,
) -> TocilizumabCheck:
    """The label dose for ``weight_kg`` and every label rule checked for a dose at ``at``.

    ``given`` are the times of doses already given (any order; one after ``at`` is an error).
    ``requested_mg`` (optional) is checked against the label dose and the 800 mg cap.
    ``options`` carries the site's optional vial rounding (default: whole milligrams).
    """
    label = TOCILIZUMAB_LABEL
    options = options or DosingOptions()
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
    exact = label.max_mg_per_dose if capped else uncapped
    if options.tocilizumab_vials:
        dose = round_to_vials(exact, options.tocilizumab_vials, label.max_mg_per_dose)
    else:
        dose = float(round_half_up(exact))
    band = "under" if below else "from"
    weight_rule = (
        f"{_num(mg_per_kg)} mg/kg for {_num(weight_kg)} kg ({band} "
        f"{_num(label.weight_threshold_kg)} kg)"
    )
    cap_detail = f"{_num(uncapped)} mg capped at 800 mg" if capped else f"{_num(exact)} mg"
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
            f"{len(past)} of {label.max_total} doses already given; the label allows the first "
            "dose and up to 3 additional doses",
        )
    else:
        checks.append(("max_4_total", True, f"dose {len(past) + 1} of at most {label.max_total}"))

    if past:
        since = at - past[-1]
        if since < label.min_interval:
            ready = past[-1] + label.min_interval
            refuse(
                "min_interval_8h",
                f"last dose at {format_clock(past[-1])}, {_duration(since)} before; doses must "
                f"be at least 8 h apart (next allowed from {format_clock(ready)})",
            )
            waits.append(ready)
        else:
            checks.append(("min_interval_8h", True, f"{_duration(since)} since the last dose"))

    window = [t for t in past if t > at - timedelta(hours=24)]
    if len(window) >= label.max_per_24h:
        ready = window[-label.max_per_24h] + timedelta(hours=24)
        refuse(
            "max_3_per_24h",
            f"{len(window)} doses in the 24 h before {format_clock(at)}; guideline limit of "
            f"{label.max_per_24h} in 24 hours (next allowed from {format_clock(ready)})",
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
        elif requested_mg > exact and requested_mg > dose:
            refuse(
                "weight_band",
                f"requested {_num(requested_mg)} mg exceeds the label dose {format_mg(dose)} mg "
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
        exact_mg=exact,
        vial_rounding=bool(options.tocilizumab_vials),
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
    the action without a dose and says what is missing, never a guessed dose.  A computed dose
    is written as a clinician writes it (whole mg from 10 mg, one decimal below); the
    arithmetic stays in ``exact_mg`` and ``basis``.
    """
    if mg is not None:
        amount, basis = mg, f"{_num(mg)} mg fixed dose"
    elif mg_per_kg is not None:
        if weight_kg is None:
            return None
        amount = mg_per_kg * weight_kg
        basis = f"{_num(mg_per_kg)} mg/kg × {_num(weight_kg)} kg = {amount:.3g} mg"
    elif mg_per_m2 is not None:
        if bsa_m2 is None:
            return None
        amount = mg_per_m2 * bsa_m2
        basis = f"{_num(mg_per_m2)} mg/m² × {bsa_m2:.2f} m² = {amount:.3g} mg"
    else:
        raise ValueError("corticosteroid_dose needs mg, mg_per_kg or mg_per_m2")
    capped = cap_mg is not None and amount > cap_mg
    if capped:
        basis += f", capped at {_num(cap_mg or 0)} mg"
    exact = cap_mg if capped and cap_mg is not None else amount
    written = float(format_mg(exact).replace(",", ""))
    return Dose(
        drug=drug,
        dose_mg=written,
        exact_mg=round(exact, 3),
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
