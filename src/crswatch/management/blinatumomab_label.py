"""Blinatumomab (BLINCYTO) label and seed 001/002 management of CRS and neurotoxicity, as rules.

Sources: the BLINCYTO US prescribing information, dose modifications for adverse reactions
(current label via blincytohcp.com, with the 2014-2015 labels; clinical-criteria §4.6 [V],
golden cases §6.1 P10-P13); seed 001 (Ojemolon et al., Cureus 2022, Table 2 "Grading of
cytokine release syndrome resulting from BiTe monoclonal antibody therapy" and its discussion);
seed 002 (Frey & Porter, Hematology ASH Educ Program 2016, Table 3 "Risk factors, prevention,
and management of CRS").

The regimen engine (``crswatch.regimens``) had not landed when this rule set was written, so
the label's CRS/neurological action table is implemented here from the sources above.

Interpreted (decision 0014):

- Label version: the current label (interrupt + dexamethasone 8 mg q8h course at grade 3,
  §8 D13).  Which CRS scale the current label uses is not confirmed [R]: the CRS grade is read
  from ``astct2019`` by default (a parameter of :func:`crswatch.management.recommend`).
- The label grades neurological toxicity by CTCAE; crswatch reads it from the ASTCT 2019 ICANS
  grade (noted on each neuro action).  Seizures are counted from ``seizure`` events since the
  start of therapy (attributable ones).
- Grade 4 (CRS or neurological) and "more than one seizure" stay in force: the discontinue
  actions fire when the peak grade of the last 7 days reached 4.
- Restart: when the infusion is stopped, CRS is now grade 0 and the 7-day peak was 2 or 3.
"""

from __future__ import annotations

from crswatch.management._common import (
    hlh_rules,
    measurement_rules,
    neutropenic_fever_rule,
    tocilizumab_now,
)
from crswatch.management._dosing import corticosteroid_dose
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule, RuleSet, format_clock
from crswatch.references import cite

__all__ = ["RULESET"]

ID = "blinatumomab_label"
VERSION = "label-current.1"
LABEL = cite("blincyto-label", "dose modifications for adverse reactions")
SEED1 = cite(
    "ojemolon2022",
    "Table 2 'Grading of cytokine release syndrome resulting from BiTe monoclonal antibody "
    "therapy'",
)
SEED1_TEXT = cite("ojemolon2022", "Discussion")
SEED2 = cite("frey2016", "Table 3 'Risk factors, prevention, and management of CRS'")
NEURO_NOTE = (
    "the label grades neurological toxicity by CTCAE; crswatch reads the ASTCT 2019 ICANS grade"
)
LABEL_CRS3_QUOTE = (
    "Interrupt BLINCYTO. Administer dexamethasone 8 mg every 8 hours intravenously or orally "
    "for up to 3 days, and taper thereafter over 4 days. When CRS is resolved, restart BLINCYTO "
    "at 9 mcg/day, and escalate to 28 mcg/day after 7 days if the adverse reaction does not "
    "recur."
)
FIXED_DOSE_KG = 45.0


def _dexamethasone_course(f: Facts) -> Dose | None:
    if f.weight_kg is None:
        return None
    course = "every 8 h for up to 3 days, then taper over 4 days"
    if f.weight_kg >= FIXED_DOSE_KG:
        return corticosteroid_dose(
            "dexamethasone", mg=8.0, route="IV or PO", timing="every 8 h", course=course
        )
    return corticosteroid_dose(
        "dexamethasone",
        mg_per_m2=5.0,
        bsa_m2=f.bsa_m2,
        cap_mg=8.0,
        route="IV or PO",
        timing="every 8 h",
        course=course,
    )


def _premedication(f: Facts) -> Dose | None:
    if f.age_years is None:
        return None
    if not f.child:
        return corticosteroid_dose(
            "dexamethasone", mg=20.0, route="IV", timing="1 h before restarting"
        )
    return corticosteroid_dose(
        "dexamethasone",
        mg_per_m2=5.0,
        bsa_m2=f.bsa_m2,
        cap_mg=20.0,
        route="IV",
        timing="before restarting (first cycle)",
    )


def _restart_rate(f: Facts) -> str:
    if f.weight_kg is not None and f.weight_kg < FIXED_DOSE_KG:
        if f.bsa_m2 is None:
            return "5 µg/m²/day (body-surface area not recorded), escalating to 15 µg/m²/day"
        start = min(5.0 * f.bsa_m2, 9.0)
        step = min(15.0 * f.bsa_m2, 28.0)
        return (
            f"5 µg/m²/day = {start:.1f} µg/day (at most 9), escalating to 15 µg/m²/day = "
            f"{step:.1f} µg/day (at most 28) after 7 days"
        )
    return "9 µg/day, escalating to 28 µg/day after 7 days"


def _interruption(f: Facts) -> str:
    stopped = f.blinatumomab_stopped_at
    if stopped is None:
        return f"Restart at {_restart_rate(f)} if CRS does not recur."
    hours = (f.at - stopped).total_seconds() / 3600.0
    premed = (
        "interrupted for 4 hours or more: dexamethasone premedication before restarting, and "
        "supervision by a healthcare professional or hospitalisation at the restart"
        if hours >= 4
        else "interrupted for less than 4 hours: no dexamethasone re-premedication needed"
    )
    cycle = (
        "interrupted for more than 7 days: start a new cycle"
        if hours > 7 * 24
        else "interrupted for 7 days or less: continue the same cycle"
    )
    elapsed = f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"
    return (
        f"Infusion stopped at {format_clock(stopped)} ({elapsed} ago): {premed}; {cycle}. "
        f"Restart at {_restart_rate(f)} if CRS does not recur."
    )


def _at_step_one(f: Facts) -> bool:
    rate, unit = f.blinatumomab_last_rate, f.blinatumomab_last_unit
    if rate is None:
        return False
    if unit == "ug/m2/d":
        return rate <= 5.0
    return rate <= 9.0


RULES: tuple[Rule, ...] = (
    Rule(
        id="blinatumomab_label.grade1.symptomatic",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher",
        reads=("crs_scale", "crs_grade"),
        text="Antipyretics, antihistamines, analgesics, maintenance IV fluids.",
        timing="continuing",
        reference=f"{SEED1}, grade 1",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.attribution.infection",
        category="attribution",
        priority=2,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher during blinatumomab: CRS is a diagnosis of exclusion",
        reads=("crs_grade", "fever", "hypotension"),
        text=(
            "Exclude other causes: blood cultures (peripheral and from the infusion catheter), "
            "chest radiograph, urinalysis; consider sepsis, capillary leak, tumour lysis and "
            "HLH/MAS."
        ),
        timing="now",
        reference=f"{SEED1_TEXT} and case presentation",
        verification="V",
        quote=(
            "The differential diagnosis includes sepsis, capillary leak syndrome, heart "
            "failure, pulmonary embolism, disease progression, tumor lysis syndrome, and "
            "macrophage activation syndrome/hemophagocytic lymphohistiocytosis"
        ),
    ),
    neutropenic_fever_rule(
        "blinatumomab_label",
        (
            f"{SEED1_TEXT} (work-up for 'possible etiologies for neutropenic fever'); "
            + cite("lee2014", "Figure 2 legend")
        ),
        "empiric treatment of concurrent bacterial infections",
    ),
    Rule(
        id="blinatumomab_label.grade2.fluids_oxygen",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 2,
        because="CRS grade 2 or higher",
        reads=("crs_grade", "hypotension"),
        text=(
            "IV fluid bolus to keep the systolic blood pressure at 90 mmHg or more; supplemental "
            "oxygen to keep the oxygen saturation above 90%."
        ),
        timing="now",
        reference=f"{SEED1}, grade 2",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.grade2.interrupt",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.crs_grade == 2 and f.blinatumomab_running is True,
        because="CRS grade 2 while blinatumomab is running",
        reads=("crs_grade", "blinatumomab_running", "blinatumomab_last_rate"),
        text="Interrupt the blinatumomab infusion temporarily, with symptomatic support.",
        timing="now",
        reference=SEED1_TEXT,
        verification="V",
        quote=(
            "In patients with grade 2 or 3 CRS, temporary infusion interruption is indicated "
            "along with symptomatic support."
        ),
        note="the label's dose-modification table starts at grade 3",
    ),
    Rule(
        id="blinatumomab_label.grade2.steroids_high_risk",
        category="corticosteroid",
        priority=2,
        when=lambda f: f.crs_grade == 2 and f.high_risk is True,
        because="CRS grade 2 in a high-risk patient (advanced age, cardiorespiratory disease)",
        reads=("crs_grade", "high_risk"),
        text=(
            "Consider corticosteroids for high-risk patients (advanced age or "
            "cardiorespiratory comorbidities)."
        ),
        timing="now",
        reference=f"{SEED1}, grade 2",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.grade3.interrupt",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.crs_grade == 3 and f.crs_peak_7d < 4,
        because="CRS grade 3",
        reads=("crs_grade", "blinatumomab_running"),
        text=(
            "Interrupt blinatumomab (keep it interrupted) until CRS resolves; then restart at "
            "9 µg/day and escalate to 28 µg/day after 7 days if CRS does not recur (under "
            "45 kg: 5 µg/m²/day, then 15 µg/m²/day)."
        ),
        timing="now",
        reference=f"{LABEL}, CRS grade 3; {SEED2}",
        verification="V-2",
        quote=LABEL_CRS3_QUOTE,
        detail=lambda f: f"For this patient: restart at {_restart_rate(f)}.",
    ),
    Rule(
        id="blinatumomab_label.grade3.dexamethasone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade 3 or higher (grade 4: dexamethasone as for grade 3)",
        reads=("crs_grade", "weight_kg", "bsa_m2", "steroids"),
        text=(
            "Dexamethasone 8 mg IV or by mouth every 8 hours for up to 3 days, then taper over "
            "4 days (under 45 kg: 5 mg/m², at most 8 mg, every 8 hours)."
        ),
        timing="now, every 8 h",
        reference=f"{LABEL}, CRS grades 3 and 4",
        verification="V",
        quote=LABEL_CRS3_QUOTE,
        note="current label; the 2014-2015 labels had no dexamethasone course",
        dose=_dexamethasone_course,
    ),
    Rule(
        id="blinatumomab_label.grade3.icu",
        category="monitoring",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade 3 or higher",
        reads=("crs_grade", "pressors_running"),
        text=(
            "Consider ICU admission; IV fluids and oxygen to grade 2 targets; low-dose "
            "vasopressors; corticosteroids ± tocilizumab."
        ),
        timing="now",
        reference=f"{SEED1}, grade 3",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.grade4.icu",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 4,
        because="CRS grade 4",
        reads=("crs_grade", "invasive_ventilation", "pressors_running"),
        text=(
            "ICU admission; mechanical ventilation and multiple vasopressors as needed; "
            "corticosteroids ± tocilizumab."
        ),
        timing="now",
        reference=f"{SEED1}, grade 4",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.grade4.discontinue",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.crs_peak_7d >= 4,
        because="CRS grade 4 within the last 7 days",
        reads=("crs_grade", "crs_peak_7d"),
        text="Discontinue blinatumomab permanently.",
        timing="now",
        reference=f"{LABEL}, CRS grade 4; {SEED2}",
        verification="V",
        quote=(
            "Discontinue BLINCYTO permanently. Administer dexamethasone as instructed for "
            "Grade 3 CRS."
        ),
    ),
    Rule(
        id="blinatumomab_label.tocilizumab.steroid_refractory",
        category="anti_il6",
        priority=1,
        when=lambda f: (
            f.crs_grade >= 3
            and f.blinatumomab_running is not True
            and f.no_improvement_24h_on_steroids is True
        ),
        because=(
            "CRS grade 3 or higher, blinatumomab held, and no improvement 24 hours after a "
            "corticosteroid dose"
        ),
        reads=("crs_grade", "blinatumomab_running", "no_improvement_24h_on_steroids", "steroids"),
        text="CRS refractory to holding blinatumomab and corticosteroids: tocilizumab.",
        timing="now if the label allows it (see the dose)",
        reference=(
            f"{SEED2}; {cite('teachey2013', 'single 8 mg/kg dose')}; "
            f"dose: {cite('actemra-label', 'dose')}"
        ),
        verification="V",
        quote=(
            "Tocilizumab has been successful in cases of CRS refractory to holding agent and "
            "giving corticosteroids"
        ),
        note="refractory read as: CRS grade not lower 24 h after a corticosteroid dose",
        dose=tocilizumab_now,
    ),
    Rule(
        id="blinatumomab_label.restart_after_crs",
        category="therapy_hold",
        priority=2,
        when=lambda f: (
            f.blinatumomab_running is False
            and f.crs_grade == 0
            and 2 <= f.crs_peak_7d <= 3
            and f.seizures <= 1
            and f.icans_peak_7d < 3
        ),
        because="blinatumomab interrupted for CRS grade 2 or 3 that has now resolved",
        reads=("crs_grade", "crs_peak_7d", "blinatumomab_stopped_at", "blinatumomab_last_rate"),
        text=(
            "CRS resolved: restart blinatumomab at the step-1 dose and escalate after 7 days if "
            "CRS does not recur; dexamethasone premedication when the interruption lasted 4 h "
            "or more; start a new cycle if it lasted more than 7 days."
        ),
        timing="when CRS has resolved",
        reference=(
            f"{LABEL}, CRS grade 3, interruptions and re-initiation; "
            f"{cite('blincyto-smpc', 'premedication when restarting')}; {SEED1_TEXT}"
        ),
        verification="V",
        quote=(
            "When CRS is resolved, restart at 9 mcg/day and escalate to 28 mcg/day after 7 "
            "days if the adverse reaction does not recur ... Patients may resume therapy upon "
            "symptomatic resolution. However, therapy is re-initiated at low doses"
        ),
        dose=_premedication,
        detail=_interruption,
    ),
    Rule(
        id="blinatumomab_label.recurrent_crs.consider_discontinuation",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.crs_grade >= 2 and f.crs_episodes_grade2 >= 2 and f.crs_peak_7d < 4,
        because="a second (recurrent) episode of CRS grade 2 or higher",
        reads=("crs_grade", "crs_episodes_grade2"),
        text="Recurrent CRS of grade 2 or higher: consider discontinuing blinatumomab.",
        timing="now",
        reference=SEED1_TEXT,
        verification="V",
        quote="Therapy may also be discontinued in patients with recurrent ≥ grade 2 CRS",
    ),
    Rule(
        id="blinatumomab_label.neuro.seizures",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.seizures > 1,
        because="more than one seizure since the start of therapy",
        reads=("seizures",),
        text="More than one seizure: discontinue blinatumomab permanently.",
        timing="now",
        reference=f"{LABEL}, neurological toxicity, seizure",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.neuro.grade3.withhold",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.icans_grade == 3 and f.icans_peak_7d < 4 and not _at_step_one(f),
        because="neurological toxicity grade 3 (ICANS) at a dose above 9 µg/day",
        reads=("icans_grade", "blinatumomab_last_rate", "blinatumomab_last_unit"),
        text=(
            "Withhold blinatumomab until neurological toxicity is grade 1 or lower for at least 3 "
            "days, then restart at 9 µg/day and escalate to 28 µg/day after 7 days if it does "
            "not recur; discontinue permanently if it takes more than 7 days to resolve."
        ),
        timing="now",
        reference=f"{LABEL}, neurological toxicity grade 3",
        verification="V",
        note=NEURO_NOTE,
    ),
    Rule(
        id="blinatumomab_label.neuro.grade3_at_step1.discontinue",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.icans_peak_7d >= 3 and _at_step_one(f),
        because="neurological toxicity grade 3 or higher that occurred at 9 µg/day (5 µg/m²/day)",
        reads=("icans_grade", "icans_peak_7d", "blinatumomab_last_rate", "blinatumomab_last_unit"),
        text="Neurological toxicity grade 3 at 9 µg/day: discontinue blinatumomab permanently.",
        timing="now",
        reference=f"{LABEL}, neurological toxicity grade 3",
        verification="V",
        note=f"{NEURO_NOTE}; the equivalent under 45 kg (5 µg/m²/day) is not verified",
    ),
    Rule(
        id="blinatumomab_label.neuro.grade4.discontinue",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.icans_peak_7d >= 4,
        because="neurological toxicity grade 4 within the last 7 days",
        reads=("icans_grade", "icans_peak_7d"),
        text="Neurological toxicity grade 4: discontinue blinatumomab permanently.",
        timing="now",
        reference=f"{LABEL}, neurological toxicity grade 4",
        verification="V",
        note=NEURO_NOTE,
    ),
    *measurement_rules(
        "blinatumomab_label",
        cite("astct2019", "CRS grading"),
        cite("astct2019", "ICANS grading (ICE for 12 years and older, CAPD under 12)"),
    ),
    *hlh_rules("blinatumomab_label"),
)

RULESET = RuleSet(
    id=ID,
    version=VERSION,
    title="Blinatumomab (BLINCYTO) label: interrupt, restart, discontinue and dexamethasone",
    citation=(
        "BLINCYTO (blinatumomab) US prescribing information (current); Ojemolon et al., "
        "Cureus 2022; Frey & Porter, Hematology Am Soc Hematol Educ Program 2016"
    ),
    crs_scale="astct2019",
    icans_scale="astct2019",
    rules=RULES,
    notes=(
        "Which CRS grading scale the current label uses is not verified; the ASTCT 2019 grade "
        "is used by default.",
        "The label grades neurological toxicity by CTCAE; the ASTCT 2019 ICANS grade is used.",
    ),
)
