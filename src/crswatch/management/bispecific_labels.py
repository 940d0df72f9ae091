"""Per-label rule sets for the step-up bispecific T-cell engagers, built from the label data.

One rule set per product (``teclistamab_label``, ``elranatamab_label``, ...).  Each holds:

- the label's verified CRS/ICANS actions (``crswatch.regimens.bispecifics``, quotes from
  shared/research/criteria-verification.md §5): elranatamab CRS grades 1-3 (grade 3 first
  occurrence), epcoritamab 1-3 (grade 3 truncated), glofitamab 1, tarlatamab 1-2, teclistamab
  ICANS 1-2; each fires at its grade on ASTCT 2019 (the grade on record, the lower bound) and
  names the label, the quote and whether the text was truncated;
- a note that fires at every grade whose label action was not verified, saying that the
  treatment guidance shown is the ASTCT-era rule set and not the label;
- the ASTCT-era rule set (``astct_era``) for the treatment of CRS and ICANS (tocilizumab,
  corticosteroids, supportive care, HLH), each rule marked as that fallback in its note and
  its id (``elranatamab_label.fallback.astct_era.crs.supportive``).

Decision: docs/decisions/0043-bispecific-management.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from crswatch.management import astct_era
from crswatch.management._facts import Facts
from crswatch.management._model import Rule, RuleSet
from crswatch.regimens.bispecifics import PRODUCTS, CrsAction, Product

__all__ = ["RULESETS", "ruleset_for"]

VERSION = "label-verified.1"
FALLBACK = "ASTCT-era rule set (fallback: this is guidance, not the product label)"
_NAMES = {"crs": "CRS", "icans": "ICANS"}


def _grade(syndrome: str, f: Facts) -> int:
    return f.crs_grade if syndrome == "crs" else f.icans_grade


def _label_rule(product: Product, action: CrsAction) -> Rule:
    name = _NAMES[action.syndrome]
    notes = []
    if action.occurrence != "any":
        notes.append(f"{action.occurrence} occurrence row of the label table")
    if not action.complete:
        notes.append("the verified label text is truncated; see the quote")
    if action.next_dose_note:
        notes.append(f"next dose: {action.next_dose_note}")
    syndrome, grade = action.syndrome, action.grade
    return Rule(
        id=f"{product.id}_label.{syndrome}.grade{grade}",
        category="therapy_hold",
        priority=1,
        when=lambda f: _grade(syndrome, f) == grade,
        because=f"{name} grade {grade} on ASTCT 2019",
        reads=(f"{syndrome}_grade",) if syndrome == "icans" else ("crs_scale", "crs_grade"),
        text=" ".join(action.actions),
        timing="now",
        reference=action.source.citation,
        verification="V",
        quote=action.quote,
        note="; ".join(notes) or None,
    )


def _not_verified_rule(product: Product, syndrome: str) -> Rule:
    verified = {a.grade for a in product.actions if a.syndrome == syndrome}
    name = _NAMES[syndrome]
    shown = ", ".join(str(g) for g in sorted(verified)) or "none"
    general = " ".join(product.general)

    def detail(f: Facts) -> str:
        return f"(current {name} grade {_grade(syndrome, f)}; verified label grades: {shown})"

    return Rule(
        id=f"{product.id}_label.{syndrome}.not_verified",
        category="information",
        priority=2,
        when=lambda f: _grade(syndrome, f) >= 1 and _grade(syndrome, f) not in verified,
        because=f"{name} grade 1 or higher without a verified {product.brand} label action",
        reads=(f"{syndrome}_grade",),
        text=(
            f"The {product.brand} label's action at this {name} grade was not verified: the "
            "treatment guidance shown is the ASTCT-era rule set, not the label."
            + (f" {general}" if general else "")
        ),
        timing="now",
        reference=(
            f"{product.label.citation}; the {name} rows were not found in the label text that "
            "was read, so the label's action is not verified"
        ),
        verification="rule",
        detail=detail,
    )


def _fallback(ruleset_id: str, rule: Rule) -> Rule:
    note = FALLBACK if rule.note is None else f"{rule.note}; {FALLBACK}"
    # Action ids start with their rule set's id (tests/management/test_sources.py).
    return replace(rule, id=f"{ruleset_id}.fallback.{rule.id}", note=note)


def _ruleset(product: Product) -> RuleSet:
    rules = [_label_rule(product, action) for action in product.actions]
    rules += [_not_verified_rule(product, syndrome) for syndrome in ("crs", "icans")]
    rules += [_fallback(f"{product.id}_label", rule) for rule in astct_era.RULES]
    verified = (
        ", ".join(f"{_NAMES[a.syndrome]} grade {a.grade}" for a in product.actions)
        or "no CRS or ICANS row"
    )
    return RuleSet(
        id=f"{product.id}_label",
        version=VERSION,
        title=f"{product.brand} ({product.id}) label CRS/ICANS actions, with ASTCT-era fallback",
        citation=f"{product.label.citation}; label version: {product.label.version}",
        crs_scale="astct2019",
        icans_scale="astct2019",
        rules=tuple(rules),
        notes=(
            f"verified label actions: {verified}",
            "other grades: the ASTCT-era rule set, marked as not the label",
        ),
    )


RULESETS: Mapping[str, RuleSet] = MappingProxyType(
    {f"{product.id}_label": _ruleset(product) for product in PRODUCTS.values()}
)


def ruleset_for(product: str | None) -> str | None:
    """The label rule set id for a therapy's product (generic or brand name), if there is one."""
    if product is None:
        return None
    named = product.strip().lower()
    for item in PRODUCTS.values():
        if named in (item.id, item.brand.lower()):
            return f"{item.id}_label"
    return None
