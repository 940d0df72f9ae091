"""BLINCYTO (blinatumomab) label rules as data: sources, label versions and the rule table.

Every rule is a row: id, condition (the label's wording, paraphrased), action, the source, the
label versions it belongs to and a verification tag copied from
``shared/spec/clinical-criteria.md`` §4.6 (``V``, ``V-2``, ``R``; ``derived`` for a convention of
this implementation, ``seed`` for the investigational step regimens of seed 004).  Every action
crswatch reports names its rule, so the source and the tag travel with it.

Label versions (discrepancy D13):

- ``current``: the current US prescribing information (blincytohcp): CRS grade 3 adds a
  dexamethasone course (8 mg q8h up to 3 days, taper over 4 days); restart premedication after an
  interruption of **4 or more hours**.
- ``2015``: the 2014-2015 labels (PMC4994468 Table 1; seed 002 Table 3): CRS grade 3 is
  "withhold until resolved, then restart at 9 mcg/d" with dexamethasone 20 mg 1 h before
  re-initiation "if blinatumomab was held for **more than 4 hours**"; neurological grade 3 also
  discontinues "if the toxicity recurs"; other grade 3 reactions are withheld "for at least 3
  days" at grade 1 or less.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from crswatch.references import cite

__all__ = [
    "LABEL_VERSIONS",
    "RULES",
    "SOURCES",
    "LabelVersion",
    "Rule",
    "Tag",
    "get_label_version",
    "rule",
]

Tag = Literal["V", "V-2", "R", "derived", "seed"]

#: Short source names to citations, as a clinician reads them (``crswatch.references``).
SOURCES = MappingProxyType(
    {
        "BLINCYTO-current": cite(
            "blincyto-label", "current version, dose modifications for adverse reactions"
        ),
        "BLINCYTO-2015": cite("blincyto-label-2015", "'Toxicity Management'")
        + "; "
        + cite("frey2016", "Table 3"),
        "BLINCYTO-cycles": cite("blincyto-dosing-tables"),
        "BLINCYTO-hospitalization": cite("blincyto-label", "hospitalisation"),
        "BLINCYTO-premedication": cite(
            "blincyto-smpc", "premedication, dexamethasone 20 mg IV 1 hour prior"
        )
        + "; "
        + cite("frey2016", "Table 3"),
        "BLINCYTO-peds-US": cite("blincyto-label", "premedication for children"),
        "BLINCYTO-peds-EU": cite("blincyto-smpc", "premedication for children"),
        "BLINCYTO-MRD-premed": cite(
            "blincyto-label", "MRD-positive setting, premedication with prednisone 100 mg"
        ),
        "BLINCYTO-cytoreduction": cite("blincyto-smpc", "cytoreduction") + "; " + cite("frey2016"),
        "BLINCYTO-interruptions": cite("blincyto-label", "interruptions of 7 days or less"),
        "Nagele2017": cite("nagele2017", "NCT01209286 dose cohorts"),
        "crswatch": cite("crswatch-convention", "blinatumomab rules"),
    }
)


@dataclass(frozen=True, slots=True)
class LabelVersion:
    """What differs between BLINCYTO label versions (D13), as parameters."""

    id: str
    name: str
    source: str
    #: CRS grade 3: the dexamethasone course (8 mg q8h up to 3 days, taper over 4 days).
    crs_g3_dexamethasone_course: bool
    #: Re-premedication after an interruption: ``>=`` 4 h (current) or ``>`` 4 h (2015).
    restart_premedication_operator: Literal[">=", ">"]
    #: Neurological grade 3: a recurrence after restart discontinues (2015 wording).
    neuro_g3_recurrence_discontinues: bool
    #: Other adverse reaction grade 3: days at <= grade 1 before restart (2015: "at least 3").
    other_g3_withhold_days: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "crs_g3_dexamethasone_course": self.crs_g3_dexamethasone_course,
            "restart_premedication_operator": self.restart_premedication_operator,
            "neuro_g3_recurrence_discontinues": self.neuro_g3_recurrence_discontinues,
            "other_g3_withhold_days": self.other_g3_withhold_days,
        }


LABEL_VERSIONS = MappingProxyType(
    {
        "current": LabelVersion(
            id="current",
            name="BLINCYTO US PI, current (dexamethasone course for CRS grade 3)",
            source="BLINCYTO-current",
            crs_g3_dexamethasone_course=True,
            restart_premedication_operator=">=",
            neuro_g3_recurrence_discontinues=False,
            other_g3_withhold_days=0,
        ),
        "2015": LabelVersion(
            id="2015",
            name="BLINCYTO US PI 2014-2015 (restart at 9 µg/day with dexamethasone 20 mg)",
            source="BLINCYTO-2015",
            crs_g3_dexamethasone_course=False,
            restart_premedication_operator=">",
            neuro_g3_recurrence_discontinues=True,
            other_g3_withhold_days=3,
        ),
    }
)

_BOTH = ("current", "2015")


def get_label_version(version: str) -> LabelVersion:
    """The label version ``version``; raises ``ValueError`` naming the known ones."""
    try:
        return LABEL_VERSIONS[version]
    except KeyError:
        known = ", ".join(LABEL_VERSIONS)
        raise ValueError(f"label_version={version!r} is not one of {known}") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """One label rule: what triggers it, what to do, where it comes from, how sure we are."""

    id: str
    condition: str
    action: str
    source: str
    tag: Tag
    label_versions: tuple[str, ...] = _BOTH

    @property
    def verified(self) -> bool:
        return self.tag in ("V", "V-2", "seed")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "condition": self.condition,
            "action": self.action,
            "source": self.source,
            "citation": SOURCES[self.source],
            "tag": self.tag,
            "verified": self.verified,
            "label_versions": list(self.label_versions),
        }


RULES: tuple[Rule, ...] = (
    # --- dosing, cycles, stays -----------------------------------------------------------------
    Rule(
        "dose.fixed_at_45kg",
        "body weight ≥ 45 kg",
        "fixed dose in µg/day; below 45 kg dose per m² BSA, capped at the fixed dose",
        "BLINCYTO-cycles",
        "V",
    ),
    Rule(
        "cycle.rr",
        "relapsed/refractory B-ALL",
        "cycle 1: 9 µg/day days 1-7, 28 µg/day days 8-28 (< 45 kg: 5 then 15 µg/m²/day, max 9 and "
        "28); cycle 2 and consolidation cycles 3-5: 28 µg/day days 1-28 (15 µg/m²/day, max 28), "
        "14 days off; continued therapy cycles 6-9: 28 µg/day, 56 days off",
        "BLINCYTO-cycles",
        "V",
    ),
    Rule(
        "cycle.mrd",
        "MRD-positive B-ALL (≥ 0.1%)",
        "cycles 1-4: 28 µg/day days 1-28 (15 µg/m²/day, max 28), 14 days off",
        "BLINCYTO-cycles",
        "V",
    ),
    Rule(
        "cycle.investigational",
        "investigational step regimen of the NCT01209286 dose cohorts (Nägele 2017)",
        "per m² at every weight: 15 flat, 5-15 or 5-15-30 µg/m²/day over 4 weeks, 2 weeks off",
        "Nagele2017",
        "seed",
    ),
    Rule(
        "hospital.rr",
        "relapsed/refractory setting",
        "hospitalize for the first 9 days of cycle 1 and the first 2 days of cycle 2; later cycle "
        "starts and re-initiations: supervision by a healthcare professional or hospitalization",
        "BLINCYTO-hospitalization",
        "V",
    ),
    Rule(
        "hospital.mrd",
        "MRD-positive setting",
        "hospitalize for the first 3 days of cycle 1 and the first 2 days of cycle 2",
        "BLINCYTO-hospitalization",
        "V",
    ),
    Rule(
        "cytoreduction",
        "bone-marrow blasts ≥ 50% or peripheral-blood blasts > 15,000/µL before cycle 1",
        "cytoreduce before the first cycle (dexamethasone not to exceed 24 mg/day; "
        "'for up to 4 days' is unverified)",
        "BLINCYTO-cytoreduction",
        "V",
    ),
    # --- premedication -------------------------------------------------------------------------
    Rule(
        "premed.adult.cycle_start",
        "adult, first dose of each cycle",
        "dexamethasone 20 mg IV 1 hour prior",
        "BLINCYTO-premedication",
        "V-2",
    ),
    Rule(
        "premed.adult.step",
        "adult, before a step dose (e.g. cycle 1 day 8)",
        "dexamethasone 20 mg IV 1 hour prior",
        "BLINCYTO-premedication",
        "V-2",
    ),
    Rule(
        "premed.adult.restart",
        "adult, restarting after an interruption of 4 or more hours (2015 label: more than 4 h)",
        "dexamethasone 20 mg IV 1 hour prior",
        "BLINCYTO-premedication",
        "V-2",
    ),
    Rule(
        "premed.child.us",
        "child (US text): before the first dose of the first cycle, before a step dose, and "
        "restarting after an interruption of ≥ 4 h in the first cycle",
        "dexamethasone 5 mg/m², max 20 mg",
        "BLINCYTO-peds-US",
        "V",
    ),
    Rule(
        "premed.child.eu",
        "child (EU SmPC): start of cycle 1",
        "dexamethasone 10 mg/m² (max 20 mg) 6-12 h before, then 5 mg/m² within 30 min before",
        "BLINCYTO-peds-EU",
        "V",
    ),
    Rule(
        "premed.mrd",
        "MRD-positive setting, first dose of each cycle",
        "prednisone 100 mg IV or equivalent (e.g. dexamethasone 16 mg) 1 hour prior",
        "BLINCYTO-MRD-premed",
        "V",
    ),
    Rule(
        "premed.given",
        "a corticosteroid dose in [start - premedication window, start] (default window 6 h)",
        "premedication counted as given (the dose is not checked)",
        "crswatch",
        "derived",
    ),
    # --- interruptions -------------------------------------------------------------------------
    Rule(
        "interrupt.continue_cycle",
        "interruption no longer than 7 days (gap ≤ 7 d exactly)",
        "continue the same cycle to a total of 28 days of infusion",
        "BLINCYTO-interruptions",
        "V",
    ),
    Rule(
        "interrupt.new_cycle",
        "interruption longer than 7 days (gap > 7 d)",
        "start a new cycle",
        "BLINCYTO-interruptions",
        "V",
    ),
    # --- dose modifications --------------------------------------------------------------------
    Rule(
        "crs.g3",
        "CRS grade 3",
        "interrupt; dexamethasone 8 mg q8h IV/PO (< 45 kg: 5 mg/m², max 8 mg) for up to 3 days, "
        "taper over 4 days; when resolved restart at 9 µg/day (5 µg/m²/day) and escalate to 28 "
        "µg/day (15 µg/m²/day) after 7 days if it does not recur",
        "BLINCYTO-current",
        "V",
        ("current",),
    ),
    Rule(
        "crs.g3.2015",
        "CRS grade 3",
        "withhold until resolved, then restart at 9 µg/day with dexamethasone 20 mg 1 h before "
        "re-initiation; escalate to 28 µg/day after 7 days if it does not recur",
        "BLINCYTO-2015",
        "V",
        ("2015",),
    ),
    Rule(
        "crs.g4",
        "CRS grade 4",
        "discontinue permanently (current label: dexamethasone as for grade 3)",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "crs.scale",
        "which CRS grading scale the current label uses",
        "configurable; the ASTCT 2019 CRS grade by default, not verified against the label",
        "crswatch",
        "R",
    ),
    Rule(
        "neuro.seizure",
        "more than one seizure",
        "discontinue permanently",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "neuro.g3",
        "neurological toxicity grade 3",
        "withhold until ≤ grade 1 and for at least 3 days, restart at 9 µg/day, escalate to 28 "
        "µg/day after 7 days if no recurrence (< 45 kg: 5 → 15 µg/m²/day, unverified)",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "neuro.g3.at_9",
        "neurological toxicity grade 3 that occurred at 9 µg/day",
        "discontinue permanently",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "neuro.g3.over_7_days",
        "neurological toxicity grade 3 taking more than 7 days to resolve to ≤ grade 1",
        "discontinue permanently",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "neuro.g3.recurrence",
        "neurological toxicity grade 3 recurs after restart",
        "discontinue permanently",
        "BLINCYTO-2015",
        "V",
        ("2015",),
    ),
    Rule(
        "neuro.g4",
        "neurological toxicity grade 4",
        "discontinue permanently",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "neuro.scale",
        "neurological toxicity graded by ASTCT 2019 ICANS",
        "the label grades neurological events by CTCAE; ICANS is a proxy",
        "crswatch",
        "R",
    ),
    Rule(
        "other.g3",
        "other clinically relevant adverse reaction grade 3",
        "withhold until ≤ grade 1, restart at 9 µg/day, escalate to 28 µg/day after 7 days if "
        "no recurrence",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "other.g3.over_14_days",
        "other clinically relevant adverse reaction grade 3 taking more than 14 days to resolve",
        "discontinue permanently",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "other.g4",
        "other clinically relevant adverse reaction grade 4",
        "consider permanent discontinuation",
        "BLINCYTO-current",
        "V",
    ),
    Rule(
        "escalate.after_7_days",
        "at the reduced dose (cycle 1 days 1-7, or a restart after a dose modification)",
        "escalate only after 7 days at the reduced dose (≥ 7 d) without recurrence",
        "BLINCYTO-current",
        "V",
    ),
)

_BY_ID = {entry.id: entry for entry in RULES}


def rule(rule_id: str) -> Rule:
    """The rule ``rule_id`` (a ``KeyError`` here is a programming error)."""
    return _BY_ID[rule_id]
