"""ASTCT-era CAR T guidance for CRS and ICANS by grade (ASCO 2021-style), as rules.

Source: the Guideline Central pocket guide "Immune-Related Adverse Events: CAR T-Cell Therapy"
(GC-CAR-T), which grades by ASTCT 2019 and whose wording appears to follow the ASCO 2021
guideline (Santomasso et al., J Clin Oncol 2021; attribution [R]), as recorded in
clinical-criteria §4.3: CRS Table 1 (grades 3-4 [V]; grades 1-2 pages not retrieved, [R]) and
ICANS Table 2 (grades 1-3 [V], grade 4 [R]).  Grades come from ``astct2019`` (CRS) and
``icans.astct2019``.  Attribution and neutropenic fever: the ASH bispecific CRS guidance
(view-large 12190144 [V]) and CARTOX grade 1 (§4.4 [V]).

Interpreted (decision 0014): "no improvement within 24 h" is the grade 24 h after the latest
tocilizumab dose not being lower than before it; fixed doses are the guideline's adult doses
(a child is flagged); with concurrent CRS of grade >= 2 the CRS tocilizumab rule is the one
that doses tocilizumab (the ICANS table's tocilizumab line is used at CRS grade 1).
"""

from __future__ import annotations

from crswatch.management._common import (
    dexamethasone_fixed,
    hlh_rules,
    methylprednisolone_fixed,
    neutropenic_fever_rule,
    tocilizumab_now,
    tocilizumab_status,
)
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule, RuleSet

__all__ = ["RULESET"]

ID = "astct_era"
VERSION = "2021.1"
GC = "GC-CAR-T pocket guide (ASCO 2021-style, ASTCT-graded)"
CRS_T1 = f"{GC}, Table 1 (CRS); clinical-criteria §4.3"
ICANS_T2 = f"{GC}, Table 2 (ICANS); clinical-criteria §4.3"
ASH_BSAB = "ASH bispecific CRS guidance, view-large 12190144 (clinical-criteria §4.3)"
TOCI_TEXT = (
    "Tocilizumab 8 mg/kg IV over 1 h (12 mg/kg under 30 kg by the label), at most 800 mg per "
    "dose; repeat every 8 h as needed, at most 3 doses in 24 h and 4 in total."
)
EARLY_PRODUCTS = ("axicabtagene", "brexucabtagene", "axi-cel", "brexu-cel", "yescarta", "tecartus")


def _early_product(f: Facts) -> bool:
    product = (f.product or "").lower()
    return any(name in product for name in EARLY_PRODUCTS)


def _prolonged_grade1(f: Facts) -> bool:
    onset = f.crs_onset_hours
    if f.crs_grade != 1 or f.tocilizumab_given:
        return False
    if f.high_risk is True:
        return True
    if onset is None:
        return False
    return onset > 72 or (_early_product(f) and onset > 24)


def _dex10_q6(f: Facts) -> Dose | None:
    return dexamethasone_fixed(10.0, "every 6 h", "rapid taper once symptoms improve")


def _dex10_q12_24(f: Facts) -> Dose | None:
    return dexamethasone_fixed(10.0, "every 12-24 h (ASCO); every 6 h per the axi-cel label")


def _dex10_q6_12(f: Facts) -> Dose | None:
    return dexamethasone_fixed(10.0, "every 6-12 h", "until grade 1, then taper")


def _dex10_twice(f: Facts) -> Dose | None:
    return dexamethasone_fixed(
        10.0, "2 doses, then reassess; repeat every 6-12 h if no improvement"
    )


def _mp_grade4(f: Facts) -> Dose | None:
    return methylprednisolone_fixed(
        500.0,
        "every 12 h",
        "500 mg q12h x 3 days, 250 mg q12h x 2 days, 125 mg q12h x 2 days, then 60 mg q12h "
        "until CRS grade <= 1 (alternative schedule with the same daily total: 1000 mg/day x 3 "
        "days, §8 D15); if not improving consider 1000 mg IV twice daily",
    )


def _mp_icans4(f: Facts) -> Dose | None:
    return methylprednisolone_fixed(1000.0, "once daily", "e.g. for 3 days, then taper")


RULES: tuple[Rule, ...] = (
    Rule(
        id="astct_era.crs.supportive",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade >= 1 on ASTCT 2019",
        reads=("crs_scale", "crs_grade", "fever"),
        text="Supportive care: antipyretics, IV fluids and oxygen as needed; monitor vital signs.",
        timing="continuing",
        reference=f"{CRS_T1}, grade 1",
        verification="R",
        note="the grade 1-2 pages of the pocket guide were not retrieved (§4.3)",
    ),
    Rule(
        id="astct_era.attribution.infection",
        category="attribution",
        priority=2,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade >= 1: infection and other causes must be excluded",
        reads=("crs_grade", "fever"),
        text=(
            "Assess for alternative diagnoses, including infection (blood cultures; neutropenic "
            "fever), venous thromboembolism, respiratory infection and volume status."
        ),
        timing="now",
        reference=ASH_BSAB,
        verification="V",
        quote=(
            "Assess for alternate diagnosis including infection (including neutropenic fever), "
            "venous thromboembolism ... Treat as appropriate."
        ),
    ),
    neutropenic_fever_rule(
        "astct_era",
        "Neelapu 2018 (CARTOX) grade 1 management, PMC9616161 Table 4 (clinical-criteria §4.4)",
        "Empiric broad-spectrum antibiotics and filgrastim if neutropenic.",
    ),
    Rule(
        id="astct_era.grade1.tocilizumab_if_prolonged",
        category="anti_il6",
        priority=2,
        when=_prolonged_grade1,
        because=(
            "CRS grade 1 lasting > 3 days, or with significant comorbidities, or > 24 h after "
            "axicabtagene/brexucabtagene"
        ),
        reads=("crs_grade", "crs_onset_hours", "high_risk", "product"),
        text=(
            "Consider tocilizumab for prolonged grade 1 CRS (> 3 days), significant symptoms or "
            "comorbidities (axicabtagene or brexucabtagene: symptoms > 24 h)."
        ),
        timing="now, if judged appropriate",
        reference=f"{CRS_T1}, grade 1",
        verification="R",
        dose=tocilizumab_now,
    ),
    Rule(
        id="astct_era.grade2.tocilizumab",
        category="anti_il6",
        priority=1,
        when=lambda f: f.crs_grade == 2,
        because="CRS grade 2 on ASTCT 2019",
        reads=("crs_grade", "hypotension", "weight_kg", "tocilizumab_given"),
        text=TOCI_TEXT,
        timing="now if the label allows it (see the dose)",
        reference=f"{CRS_T1}, grade 2; dose: ACTEMRA US label (§4.2)",
        verification="R",
        note="grade 2 content recalled (§4.3); the repeat limits are verified label/guide text",
        dose=tocilizumab_now,
        detail=tocilizumab_status,
    ),
    Rule(
        id="astct_era.grade2.dexamethasone_refractory_hypotension",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.crs_grade == 2 and bool(f.tocilizumab_given) and f.hypotension is True,
        because="CRS grade 2 with hypotension persisting after tocilizumab",
        reads=("crs_grade", "hypotension", "tocilizumab_given"),
        text=(
            "Persistent refractory hypotension after 1-2 doses of tocilizumab: dexamethasone "
            "10 mg IV every 12-24 h."
        ),
        timing="now",
        reference=f"{CRS_T1}, grade 2",
        verification="R",
        dose=_dex10_q12_24,
    ),
    Rule(
        id="astct_era.grade2.no_improvement_24h",
        category="escalation",
        priority=1,
        when=lambda f: f.crs_grade == 2 and f.no_improvement_24h_after_tocilizumab is True,
        because="CRS grade 2 not lower 24 h after tocilizumab than before it",
        reads=("crs_grade", "tocilizumab_given", "no_improvement_24h_after_tocilizumab"),
        text="No improvement within 24 h: manage as grade 3 (ICU, dexamethasone 10 mg IV q6h).",
        timing="now",
        reference=f"{CRS_T1}, grade 2",
        verification="R",
        note="'no improvement' read as: the grade 24 h after the dose is not lower",
        dose=_dex10_q6,
    ),
    Rule(
        id="astct_era.grade3.icu",
        category="monitoring",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade >= 3 on ASTCT 2019",
        reads=("crs_grade", "pressors_running", "hypotension"),
        text=(
            "Admit to ICU; echocardiogram if not already done; haemodynamic monitoring; "
            "vasopressors as needed."
        ),
        timing="now",
        reference=f"{CRS_T1}, grade 3",
        verification="V",
        quote=(
            "Continue supportive care per G2 and include vasopressors as needed. Admit to ICU. "
            "Echocardiogram if not already done; hemodynamic monitoring."
        ),
    ),
    Rule(
        id="astct_era.grade34.tocilizumab",
        category="anti_il6",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade >= 3 on ASTCT 2019",
        reads=("crs_grade", "weight_kg", "tocilizumab_given"),
        text=f"Tocilizumab as per grade 2 if the maximum dose has not been reached. {TOCI_TEXT}",
        timing="now if the label allows it (see the dose)",
        reference=f"{CRS_T1}, grades 3 and 4; dose: ACTEMRA US label (§4.2)",
        verification="V",
        quote="Tocilizumab as per G2 if maximum dose not reached within 24-hour period",
        dose=tocilizumab_now,
        detail=tocilizumab_status,
    ),
    Rule(
        id="astct_era.grade3.dexamethasone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.crs_grade == 3,
        because="CRS grade 3 on ASTCT 2019",
        reads=("crs_grade", "steroids"),
        text=(
            "Dexamethasone 10 mg IV every 6 h (or equivalent); taper rapidly once symptoms "
            "improve; if refractory, manage as grade 4."
        ),
        timing="now, every 6 h",
        reference=f"{CRS_T1}, grade 3",
        verification="V",
        quote=(
            "plus dexamethasone 10 mg IV every 6 hours (or equivalent), rapidly taper once "
            "symptoms improve. If refractory, manage as G4."
        ),
        note="J Clin Med 2023 (PMC10573998): 20 mg q6h if refractory",
        dose=_dex10_q6,
    ),
    Rule(
        id="astct_era.grade4.ventilation",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 4,
        because="CRS grade 4 on ASTCT 2019",
        reads=("crs_grade", "positive_pressure", "invasive_ventilation", "pressors_running"),
        text="Supportive care per grade 3, plus mechanical ventilation as needed.",
        timing="now",
        reference=f"{CRS_T1}, grade 4",
        verification="V",
        quote="Continue supportive care per G3 plus mechanical ventilation as needed.",
    ),
    Rule(
        id="astct_era.grade4.methylprednisolone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.crs_grade >= 4,
        because="CRS grade 4 on ASTCT 2019",
        reads=("crs_grade", "steroids"),
        text=(
            "High-dose methylprednisolone 500 mg IV every 12 h for 3 days, then 250 mg q12h for "
            "2 days, 125 mg q12h for 2 days, and 60 mg q12h until CRS improves to grade 1; if "
            "not improving, consider methylprednisolone 1,000 mg IV twice daily or alternate "
            "therapy."
        ),
        timing="now, every 12 h",
        reference=f"{CRS_T1}, grade 4",
        verification="V",
        note="§8 D15: 1000 mg/day x 3 days in J Clin Med 2023; same daily total",
        dose=_mp_grade4,
    ),
    Rule(
        id="astct_era.corticosteroids.antifungal",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 3 or f.icans_grade >= 3,
        because="corticosteroids are part of the plan (CRS or ICANS grade >= 3)",
        reads=("crs_grade", "icans_grade", "steroids"),
        text="Strongly consider antifungal prophylaxis while on corticosteroids.",
        timing="with corticosteroids",
        reference=f"{CRS_T1}, additional notes",
        verification="V",
    ),
    Rule(
        id="astct_era.paediatric_doses",
        category="information",
        priority=2,
        when=lambda f: f.child and (f.crs_grade >= 2 or f.icans_grade >= 2),
        because="patient younger than 18 years and a fixed-dose corticosteroid may be advised",
        reads=("age_years", "weight_kg"),
        text=(
            "The fixed corticosteroid doses of this rule set are adult doses (ASCO 2021 adult "
            "guideline); for a child use paediatric guidance (e.g. Mahadeo 2019)."
        ),
        timing="before dosing",
        reference=f"{GC}; Mahadeo et al., Nat Rev Clin Oncol 2019 (clinical-criteria §0)",
        verification="R",
    ),
    # ICANS (Table 2).
    Rule(
        id="astct_era.icans.workup",
        category="monitoring",
        priority=2,
        when=lambda f: f.icans_grade >= 1,
        because="ICANS grade >= 1 on ASTCT 2019",
        reads=("icans_grade",),
        text=(
            "ICE at least twice daily; serial CRP, ferritin, CBC, CMP, fibrinogen, PT/PTT; "
            "neurology consultation; aspiration precautions, head of bed elevated; consider "
            "seizure prophylaxis for high-risk products or patients; correct severe "
            "hyponatraemia."
        ),
        timing="continuing",
        reference=f"{ICANS_T2}, all grades",
        verification="V",
    ),
    Rule(
        id="astct_era.icans.grade2.imaging_eeg",
        category="monitoring",
        priority=2,
        when=lambda f: f.icans_grade >= 2,
        because="ICANS grade >= 2",
        reads=("icans_grade",),
        text="Brain MRI (or CT) and EEG; consider lumbar puncture.",
        timing="today",
        reference=f"{ICANS_T2}, all grades (>= G2 items)",
        verification="V",
    ),
    Rule(
        id="astct_era.icans.grade3.lumbar_puncture",
        category="monitoring",
        priority=2,
        when=lambda f: f.icans_grade >= 3,
        because="ICANS grade >= 3",
        reads=("icans_grade",),
        text="Lumbar puncture; if grade >= 3 persists, repeat imaging every 2-3 days.",
        timing="today",
        reference=f"{ICANS_T2}, all grades (>= G3 items)",
        verification="V",
    ),
    Rule(
        id="astct_era.icans.grade1.no_crs",
        category="supportive_care",
        priority=3,
        when=lambda f: f.icans_grade == 1 and f.crs_grade == 0,
        because="ICANS grade 1 without concurrent CRS",
        reads=("icans_grade", "crs_grade"),
        text="Supportive care with IV hydration and aspiration precautions.",
        timing="continuing",
        reference=f"{ICANS_T2}, grade 1, no concurrent CRS",
        verification="V",
    ),
    Rule(
        id="astct_era.icans.with_crs1.tocilizumab",
        category="anti_il6",
        priority=1,
        when=lambda f: 1 <= f.icans_grade <= 3 and f.crs_grade == 1,
        because="ICANS with concurrent grade 1 CRS (higher CRS grades dose it by the CRS rules)",
        reads=("icans_grade", "crs_grade", "tocilizumab_given"),
        text=(
            f"{TOCI_TEXT} Caution with repeated tocilizumab doses in ICANS; consider adding "
            "corticosteroids past the first dose."
        ),
        timing="now if the label allows it (see the dose)",
        reference=f"{ICANS_T2}, grade 1 with concurrent CRS",
        verification="V",
        quote=(
            "Caution with repeated tocilizumab doses in patients with ICANS. Consider adding "
            "corticosteroids to tocilizumab past the first dose."
        ),
        dose=tocilizumab_now,
        detail=tocilizumab_status,
    ),
    Rule(
        id="astct_era.icans.grade2.no_crs.dexamethasone",
        category="corticosteroid",
        priority=2,
        when=lambda f: f.icans_grade == 2 and f.crs_grade == 0 and f.high_risk is True,
        because="ICANS grade 2 without CRS in a high-risk patient",
        reads=("icans_grade", "crs_grade", "high_risk"),
        text=(
            "Supportive care; for high-risk products or patients consider dexamethasone 10 mg "
            "IV x 2 doses and reassess; repeat every 6-12 h if no improvement; taper rapidly "
            "once grade 1."
        ),
        timing="now",
        reference=f"{ICANS_T2}, grade 2, no concurrent CRS",
        verification="V",
        dose=_dex10_twice,
    ),
    Rule(
        id="astct_era.icans.grade2.with_crs",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.icans_grade == 2 and f.crs_grade >= 1,
        because="ICANS grade 2 with concurrent CRS",
        reads=("icans_grade", "crs_grade", "tocilizumab_given"),
        text=(
            "Consider ICU if CRS is grade >= 2; if refractory after the first tocilizumab dose, "
            "dexamethasone 10 mg IV every 6-12 h (or methylprednisolone 1 mg/kg IV every 12 h) "
            "until grade 1, then taper."
        ),
        timing="after the first tocilizumab dose if refractory",
        reference=f"{ICANS_T2}, grade 2 with concurrent CRS",
        verification="V",
        dose=_dex10_q6_12,
    ),
    Rule(
        id="astct_era.icans.grade3.corticosteroids",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.icans_grade == 3,
        because="ICANS grade 3",
        reads=("icans_grade", "crs_grade", "hemodynamically_unstable"),
        text=(
            "ICU for every grade 3. Dexamethasone 10 mg IV every 6-12 h or methylprednisolone "
            "1 mg/kg IV every 12 h (with concurrent CRS: tocilizumab first, corticosteroids if "
            "refractory)."
        ),
        timing="now",
        reference=f"{ICANS_T2}, grade 3",
        verification="V",
        dose=_dex10_q6_12,
    ),
    Rule(
        id="astct_era.icans.grade4.methylprednisolone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.icans_grade >= 4,
        because="ICANS grade 4",
        reads=("icans_grade", "crs_grade"),
        text=(
            "ICU; high-dose methylprednisolone 1,000 mg/day IV (e.g. for 3 days, then taper); "
            "treat status epilepticus; manage raised intracranial pressure."
        ),
        timing="now",
        reference=f"{ICANS_T2}, grade 4",
        verification="R",
        dose=_mp_icans4,
    ),
    *hlh_rules("astct_era"),
)

RULESET = RuleSet(
    id=ID,
    version=VERSION,
    title="ASTCT-era CAR T management of CRS and ICANS by grade (ASCO 2021-style)",
    citation=(
        "Guideline Central pocket guide 'Immune-Related Adverse Events: CAR T-Cell Therapy' "
        "(wording after Santomasso et al., J Clin Oncol 2021 [R]); ASTCT 2019 grading"
    ),
    crs_scale="astct2019",
    icans_scale="astct2019",
    rules=RULES,
    notes=(
        "CRS grades 1-2 and ICANS grade 4 content is recalled [R] (pages not retrieved)",
        "tocilizumab is dosed and limited by the current label",
    ),
)
