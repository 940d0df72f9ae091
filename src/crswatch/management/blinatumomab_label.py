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

from crswatch.management._common import hlh_rules, neutropenic_fever_rule, tocilizumab_now
from crswatch.management._dosing import corticosteroid_dose
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule, RuleSet
from crswatch.timeline import format_time

__all__ = ["RULESET"]

ID = "blinatumomab_label"
VERSION = "label-current.1"
LABEL = (
    "BLINCYTO (blinatumomab) US prescribing information, Dosage and Administration, dose "
    "modifications for adverse reactions (blincytohcp.com; clinical-criteria §4.6)"
)
SEED1 = (
    "seed 001_874ee5635c2a88a5.txt (Ojemolon et al., Cureus 2022), Table 2 'Grading of "
    "cytokine release syndrome resulting from BiTe monoclonal antibody therapy'"
)
SEED1_TEXT = "seed 001_874ee5635c2a88a5.txt (Ojemolon et al., Cureus 2022), Discussion"
SEED2 = (
    "seed 002_dd8dc9d889f2c92a.txt (Frey & Porter 2016), Table 3 'Risk factors, prevention, "
    "and management of CRS'"
)
NEURO_NOTE = (
    "the label grades neurological toxicity by CTCAE; crswatch reads the ASTCT 2019 ICANS grade"
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
            return "5 ug/m2/day (BSA unknown), escalating to 15 ug/m2/day"
        start = min(5.0 * f.bsa_m2, 9.0)
        step = min(15.0 * f.bsa_m2, 28.0)
        return (
            f"5 ug/m2/day = {start:.2f} ug/day (max 9), escalating to 15 ug/m2/day = "
            f"{step:.2f} ug/day (max 28)"
        )
    return "9 ug/day, escalating to 28 ug/day"


def _interruption(f: Facts) -> str:
    stopped = f.blinatumomab_stopped_at
    if stopped is None:
        return f"Restart at {_restart_rate(f)} after 7 days if CRS does not recur."
    hours = (f.at - stopped).total_seconds() / 3600.0
    premed = (
        "an interruption of 4 h or more: dexamethasone premedication before restarting"
        if hours >= 4
        else "an interruption under 4 h: no dexamethasone re-premedication needed"
    )
    cycle = (
        "more than 7 days: start a new cycle"
        if hours > 7 * 24
        else "up to 7 days: continue the same cycle to 28 infusion days in total"
    )
    return (
        f"Infusion stopped at {format_time(stopped)} ({hours:.1f} h ago): {premed}; {cycle}. "
        f"Restart at {_restart_rate(f)} after 7 days if CRS does not recur."
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
        because="CRS grade >= 1",
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
        because="CRS grade >= 1 during blinatumomab: CRS is a clinical diagnosis of exclusion",
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
            "Lee 2014 (seed 003) Figure 2 legend"
        ),
        "empiric treatment of concurrent bacterial infections",
    ),
    Rule(
        id="blinatumomab_label.grade2.fluids_oxygen",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 2,
        because="CRS grade >= 2",
        reads=("crs_grade", "hypotension"),
        text=(
            "IV fluid bolus to maintain SBP >= 90 mmHg; supplemental oxygen to keep oxygen "
            "saturation > 90%."
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
        text="Interrupt blinatumomab (keep it interrupted) until CRS resolves.",
        timing="now",
        reference=f"{LABEL}, CRS grade 3; {SEED2}",
        verification="V-2",
        quote="Grade 3 CRS: hold drug until resolution then restart at 9 µg/day",
    ),
    Rule(
        id="blinatumomab_label.grade3.dexamethasone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade >= 3 (grade 4: dexamethasone as for grade 3)",
        reads=("crs_grade", "weight_kg", "bsa_m2", "steroids"),
        text=(
            "Dexamethasone 8 mg IV or PO every 8 h for up to 3 days, then taper over 4 days "
            "(< 45 kg: 5 mg/m2, max 8 mg, every 8 h)."
        ),
        timing="now, every 8 h",
        reference=f"{LABEL}, CRS grades 3 and 4",
        verification="V",
        note="current label; the 2014-2015 labels had no dexamethasone course (§8 D13)",
        dose=_dexamethasone_course,
    ),
    Rule(
        id="blinatumomab_label.grade3.icu",
        category="monitoring",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade >= 3",
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
        reference=f"{LABEL}, CRS grade 4 (§6.1 P11); {SEED2}",
        verification="V",
        quote=(
            "The package insert recommends discontinuing blinatumomab permanently if grade 4 "
            "CRS occurs."
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
            "CRS grade >= 3, blinatumomab held, and no improvement 24 h after a corticosteroid dose"
        ),
        reads=("crs_grade", "blinatumomab_running", "no_improvement_24h_on_steroids", "steroids"),
        text="CRS refractory to holding blinatumomab and corticosteroids: tocilizumab.",
        timing="now if the label allows it (see the dose)",
        reference=f"{SEED2}; seed 000 (Teachey 2013): single 8 mg/kg dose; dose: ACTEMRA label",
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
        because="blinatumomab interrupted for CRS grade 2-3 that has now resolved",
        reads=("crs_grade", "crs_peak_7d", "blinatumomab_stopped_at", "blinatumomab_last_rate"),
        text=(
            "CRS resolved: restart blinatumomab at the step-1 dose and escalate after 7 days if "
            "CRS does not recur; dexamethasone premedication when the interruption lasted 4 h "
            "or more; start a new cycle if it lasted more than 7 days."
        ),
        timing="when CRS has resolved",
        reference=f"{LABEL}, CRS grade 3 and premedication/interruption rules; {SEED1_TEXT}",
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
        because="a second (recurrent) episode of CRS grade >= 2",
        reads=("crs_grade", "crs_episodes_grade2"),
        text="Recurrent CRS of grade >= 2: consider discontinuing blinatumomab.",
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
        reference=f"{LABEL}, neurological toxicity, seizure (§6.1 P12)",
        verification="V",
    ),
    Rule(
        id="blinatumomab_label.neuro.grade3.withhold",
        category="therapy_hold",
        priority=1,
        when=lambda f: f.icans_grade == 3 and f.icans_peak_7d < 4 and not _at_step_one(f),
        because="neurological toxicity grade 3 (ICANS) at a dose above 9 ug/day",
        reads=("icans_grade", "blinatumomab_last_rate", "blinatumomab_last_unit"),
        text=(
            "Withhold blinatumomab until neurological toxicity is grade <= 1 for at least 3 "
            "days, then restart at 9 ug/day and escalate to 28 ug/day after 7 days if it does "
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
        because="neurological toxicity grade >= 3 that occurred at 9 ug/day (5 ug/m2/day)",
        reads=("icans_grade", "icans_peak_7d", "blinatumomab_last_rate", "blinatumomab_last_unit"),
        text="Neurological toxicity grade 3 at 9 ug/day: discontinue blinatumomab permanently.",
        timing="now",
        reference=f"{LABEL}, neurological toxicity grade 3 (§6.1 P13)",
        verification="V",
        note=f"{NEURO_NOTE}; the <45 kg equivalent 5 ug/m2/day is [R]",
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
    *hlh_rules("blinatumomab_label"),
)

RULESET = RuleSet(
    id=ID,
    version=VERSION,
    title="Blinatumomab (BLINCYTO) label: interrupt, restart, discontinue and dexamethasone",
    citation=(
        "BLINCYTO US prescribing information (current); Ojemolon et al., Cureus 2022 (seed "
        "001); Frey & Porter, Hematology ASH Educ Program 2016 (seed 002)"
    ),
    crs_scale="astct2019",
    icans_scale="astct2019",
    rules=RULES,
    notes=(
        "which CRS scale the current label uses is not confirmed [R]; astct2019 by default",
        NEURO_NOTE,
        "implemented from the sources; crswatch.regimens had not landed",
    ),
)
