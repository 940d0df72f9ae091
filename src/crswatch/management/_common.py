"""Dose builders and the rules every rule set shares (neutropenic fever, HLH-directed steps)."""

from __future__ import annotations

from datetime import timedelta

from crswatch.management._dosing import corticosteroid_dose, tocilizumab_dose
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule
from crswatch.timeline import format_time

__all__ = [
    "CARHLH_TREATMENT_REF",
    "dexamethasone_fixed",
    "hlh_rules",
    "methylprednisolone_fixed",
    "methylprednisolone_per_kg",
    "neutropenic_fever_rule",
    "tocilizumab_now",
    "tocilizumab_status",
]

CARHLH_TREATMENT_REF = (
    "Neelapu et al., Nat Rev Clin Oncol 2018 (CARTOX), carHLH management as summarised in the "
    "MGH White Book (grepmed 9558); clinical-criteria §3.3"
)


def tocilizumab_now(facts: Facts) -> Dose | None:
    """The label dose at T, with every label rule checked against the doses already given."""
    if facts.weight_kg is None:
        return None
    return tocilizumab_dose(facts.weight_kg, at=facts.at, given=facts.tocilizumab_given).to_dose()


def tocilizumab_status(facts: Facts) -> str:
    given = facts.tocilizumab_given
    if not given:
        return "No tocilizumab recorded so far."
    times = ", ".join(format_time(t) for t in given)
    return f"Tocilizumab recorded: {len(given)} dose(s) ({times})."


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
        because="fever with ANC < 0.5 x10^3/uL (latest ANC in the last 72 h)",
        reads=("fever", "anc", "anc_at", "neutropenic"),
        text=(
            "Fever with neutropenia: draw blood cultures and start empiric broad-spectrum "
            "antibiotics now; infection must be treated whatever the CRS grade."
        ),
        timing="now",
        reference=reference,
        verification="V",
        quote=quote,
    )


def _met(facts: Facts) -> str:
    met = [name for name, status in facts.hlh.items() if status == "met"]
    return f"Screens met: {', '.join(met)}."


def hlh_rules(prefix: str) -> tuple[Rule, ...]:
    """HLH-directed steps when an HLH/MAS or IEC-HS screen is met (crswatch.hlh)."""
    return (
        Rule(
            id=f"{prefix}.hlh.carhlh",
            category="hlh",
            priority=1,
            when=lambda f: f.hlh_positive,
            because="an HLH/MAS screen (HLH-2004, HScore, carHLH or IEC-HS) is met at T",
            reads=("hlh", "crs_grade", "tocilizumab_given"),
            text=(
                "HLH/MAS physiology: anti-IL-6 therapy plus high-dose corticosteroids; if no "
                "improvement within 48 h, consider etoposide (as in HLH-94) and intrathecal "
                "cytarabine for CNS involvement; involve haematology."
            ),
            timing="now; reassess at 48 h",
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
            because="the IEC-HS screen (Hines 2023; criteria recalled, unverified) is met at T",
            reads=("hlh",),
            text=(
                "IEC-HS: anakinra first line, add corticosteroids; consider ruxolitinib or "
                "emapalumab, and low-dose etoposide if refractory."
            ),
            timing="now",
            reference=(
                "Hines et al., Transplant Cell Ther 2023 (ASTCT IEC-HS); clinical-criteria §3.4"
            ),
            verification="R",
            note="treatment recalled from the paper, not verified (clinical-criteria §3.4, §9)",
        ),
    )


def hours_after(facts: Facts, hours: float) -> str:
    last = facts.tocilizumab_last_at
    if last is None:
        return ""
    return format_time(last + timedelta(hours=hours))
