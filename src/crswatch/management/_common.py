"""Dose builders and the rules every rule set shares (neutropenic fever, HLH-directed steps,
measuring what is missing, the tocilizumab status sentence)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from crswatch.management._dosing import corticosteroid_dose, tocilizumab_dose
from crswatch.management._facts import Facts
from crswatch.management._labels import measurement_requests
from crswatch.management._model import Dose, Rule, format_clock
from crswatch.references import cite

__all__ = [
    "CARHLH_TREATMENT_REF",
    "HLH_SCREEN_LABELS",
    "dexamethasone_fixed",
    "hlh_rules",
    "measurement_rules",
    "methylprednisolone_fixed",
    "methylprednisolone_per_kg",
    "neutropenic_fever_rule",
    "tocilizumab_now",
    "tocilizumab_status",
]

CARHLH_TREATMENT_REF = cite("mgh-carhlh", "carHLH management")

#: The HLH/MAS screens by their clinical names (``crswatch.hlh`` screen ids).
HLH_SCREEN_LABELS: dict[str, str] = {
    "hlh2004": "the HLH-2004 diagnostic criteria",
    "hscore": "the HScore",
    "carhlh": "the carHLH criteria",
    "iechs": "the IEC-HS criteria (unverified)",
}


def tocilizumab_now(facts: Facts) -> Dose | None:
    """The label dose at T, with every label rule checked against the doses already given."""
    if facts.weight_kg is None:
        return None
    check = tocilizumab_dose(
        facts.weight_kg, at=facts.at, given=facts.tocilizumab_given, options=facts.dosing
    )
    return check.to_dose()


def tocilizumab_status(facts: Facts) -> str:
    given = facts.tocilizumab_given
    if not given:
        return "No tocilizumab recorded so far."
    times = ", ".join(format_clock(t) for t in given)
    doses = "1 dose" if len(given) == 1 else f"{len(given)} doses"
    return f"Tocilizumab recorded: {doses} ({times})."


def dexamethasone_fixed(mg: float, timing: str, course: str | None = None) -> Dose | None:
    return corticosteroid_dose("dexamethasone", mg=mg, route="IV", timing=timing, course=course)


def methylprednisolone_fixed(mg: float, timing: str, course: str | None = None) -> Dose | None:
    return corticosteroid_dose(
        "methylprednisolone", mg=mg, route="IV", timing=timing, course=course
    )


def methylprednisolone_per_kg(
    facts: Facts, mg_per_kg: float, timing: str, course: str | None = None
) -> Dose | None:
    return corticosteroid_dose(
        "methylprednisolone",
        mg_per_kg=mg_per_kg,
        weight_kg=facts.weight_kg,
        route="IV",
        timing=timing,
        course=course,
    )


def neutropenic_fever_rule(prefix: str, reference: str, quote: str) -> Rule:
    return Rule(
        id=f"{prefix}.attribution.neutropenic_fever",
        category="attribution",
        priority=1,
        when=lambda f: bool(f.fever) and f.neutropenic is True,
        because="fever with an ANC below 0.5 × 10⁹/L (latest ANC in the last 72 hours)",
        reads=("fever", "anc", "anc_at", "neutropenic"),
        text=(
            "Fever with neutropenia: draw blood cultures and start empiric broad-spectrum "
            "antibiotics now; infection must be treated whatever the CRS grade. The source "
            "names no antibiotic or dose: follow the local neutropenic fever policy."
        ),
        timing="now",
        reference=reference,
        verification="V",
        quote=quote,
    )


def _met(facts: Facts) -> str:
    met = [
        HLH_SCREEN_LABELS.get(name, name) for name, status in facts.hlh.items() if status == "met"
    ]
    return f"Met: {', '.join(met)}." if met else ""


def hlh_rules(prefix: str) -> tuple[Rule, ...]:
    """HLH-directed steps when an HLH/MAS or IEC-HS screen is met (crswatch.hlh)."""
    return (
        Rule(
            id=f"{prefix}.hlh.carhlh",
            category="hlh",
            priority=1,
            when=lambda f: f.hlh_positive,
            because=(
                "when an HLH/MAS screen is met (the HLH-2004 criteria, the HScore, the carHLH "
                "criteria or the IEC-HS criteria)"
            ),
            reads=("hlh", "crs_grade", "tocilizumab_given"),
            text=(
                "HLH/MAS physiology: anti-IL-6 therapy plus high-dose corticosteroids; if there "
                "is no improvement within 48 hours, consider etoposide (as in HLH-94) and "
                "intrathecal cytarabine for CNS involvement; involve haematology. The source "
                "names no dose for etoposide, cytarabine or the corticosteroid."
            ),
            timing="now; reassess at 48 hours",
            reference=CARHLH_TREATMENT_REF,
            verification="V",
            quote=(
                "anti-IL-6 plus high-dose glucocorticoids; If failure to improve in 48h, "
                "consider etoposide as in HLH-94 ... consider intrathecal cytarabine"
            ),
            detail=_met,
        ),
        Rule(
            id=f"{prefix}.hlh.iechs",
            category="hlh",
            priority=2,
            when=lambda f: f.hlh.get("iechs") == "met",
            because="when the IEC-HS criteria are met (criteria not verified against Hines 2023)",
            reads=("hlh",),
            text=(
                "IEC-HS: anakinra first line, add corticosteroids; consider ruxolitinib or "
                "emapalumab, and low-dose etoposide if refractory. Not verified against the "
                "publication, and the source as recorded names no doses."
            ),
            timing="now",
            reference=cite("hines2023", "treatment recommendations"),
            verification="R",
            note="treatment recalled from the paper, not verified against it",
        ),
    )


# --- measure what is missing ---------------------------------------------------------------


def _measure_text(kind: str, label: str) -> Callable[[Facts], str]:
    def detail(f: Facts) -> str:
        status = f.crs_status if kind == "crs" else f.icans_status
        missing = f.crs_missing if kind == "crs" else f.icans_missing
        asks = measurement_requests(missing, f.age_years)
        what = "; ".join(asks)
        if status == "not_assessable":
            why = f"{label} cannot be graded"
        else:
            grade = f.crs_grade if kind == "crs" else f.icans_grade
            upper = f.crs_upper if kind == "crs" else f.icans_upper
            why = f"{label} grade {grade} is provisional (could be up to {upper})"
        return f"{what[:1].upper()}{what[1:]}: {why}."

    return detail


def measurement_rules(prefix: str, crs_reference: str, icans_reference: str) -> tuple[Rule, ...]:
    """Ask for the inputs that leave the CRS or ICANS grade provisional or not assessable."""

    def lacks(kind: str) -> Callable[[Facts], bool]:
        def when(f: Facts) -> bool:
            status = f.crs_status if kind == "crs" else f.icans_status
            missing = f.crs_missing if kind == "crs" else f.icans_missing
            return status in ("provisional", "not_assessable") and bool(missing)

        return when

    return tuple(
        Rule(
            id=f"{prefix}.measure.{kind}",
            category="measurement",
            priority=1,
            when=lacks(kind),
            because=f"the {label} grade lacks inputs: missing is not normal",
            reads=(f"{kind}_status", f"{kind}_missing", "age_years"),
            text="",
            timing="now",
            reference=reference,
            verification="rule",
            note=(
                "a missing input never counts as normal; the grade on record is the grade on "
                "the documented findings"
            ),
            detail=_measure_text(kind, label),
        )
        for kind, label, reference in (
            ("crs", "CRS", crs_reference),
            ("icans", "ICANS", icans_reference),
        )
    )


def hours_after(facts: Facts, hours: float) -> str:
    last = facts.tocilizumab_last_at
    if last is None:
        return ""
    return format_clock(last + timedelta(hours=hours))
