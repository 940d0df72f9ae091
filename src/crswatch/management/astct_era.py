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
    measurement_rules,
    methylprednisolone_fixed,
    methylprednisolone_per_kg,
    neutropenic_fever_rule,
    tocilizumab_now,
    tocilizumab_status,
)
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule, RuleSet
from crswatch.references import cite

__all__ = ["RULESET"]

ID = "astct_era"
VERSION = "2021.1"
GC = cite("gc-car-t")
CRS_T1 = cite("gc-car-t", "Table 1 (CRS)")
ICANS_T2 = cite("gc-car-t", "Table 2 (ICANS)")
ASH_BSAB = cite("ash-bispecific-crs", "assessment for alternative diagnoses")
LABEL_DOSE = cite("actemra-label", "dose")
TOCI_TEXT = (
    "Tocilizumab 8 mg/kg IV over 1 hour (12 mg/kg under 30 kg by the label), at most 800 mg "
    "per dose; if there is no improvement, repeat at least 8 hours apart, at most 3 doses in "
    "24 hours and 4 in total."
)
#: For a child: the guideline's fixed doses are adult doses and it gives none for children.
ADULT_ONLY = (
    "This guideline gives only the adult dose and no dose for children: no dose is computed "
    "for this patient (younger than 18); dose by paediatric guidance."
)
#: For a child, where the guideline row offers a per-kg alternative.
PER_KG_CHILD = (
    "For this patient (younger than 18) the dose shown is the guideline's weight-based "
    "alternative, methylprednisolone 1 mg/kg IV every 12 hours; the fixed dexamethasone "
    "10 mg is an adult dose."
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


def _adult(dose: Dose | None, f: Facts) -> Dose | None:
    """The guideline's fixed adult dose, or None for a child (the action says why)."""
    return None if f.child else dose


def _dex10_q6(f: Facts) -> Dose | None:
    return _adult(dexamethasone_fixed(10.0, "every 6 h", "rapid taper once symptoms improve"), f)


def _dex10_q12_24(f: Facts) -> Dose | None:
    return _adult(
        dexamethasone_fixed(10.0, "every 12-24 h (ASCO); every 6 h per the axi-cel label"), f
    )


def _dex10_q6_12(f: Facts) -> Dose | None:
    if f.child:
        return methylprednisolone_per_kg(f, 1.0, "every 12 h", "until grade 1, then taper")
    return dexamethasone_fixed(10.0, "every 6-12 h", "until grade 1, then taper")


def _dex10_twice(f: Facts) -> Dose | None:
    return _adult(
        dexamethasone_fixed(10.0, "2 doses, then reassess; repeat every 6-12 h if no improvement"),
        f,
    )


def _mp_grade4(f: Facts) -> Dose | None:
    return _adult(
        methylprednisolone_fixed(
            500.0,
            "every 12 h",
            "500 mg every 12 h for 3 days, 250 mg every 12 h for 2 days, 125 mg every 12 h for "
            "2 days, then 60 mg every 12 h until CRS grade 1 or lower (a 2023 review gives "
            "1000 mg/day for 3 days, the same daily total); if not improving consider 1000 mg "
            "IV twice daily",
        ),
        f,
    )


def _mp_icans4(f: Facts) -> Dose | None:
    return _adult(methylprednisolone_fixed(1000.0, "once daily", "e.g. for 3 days, then taper"), f)


RULES: tuple[Rule, ...] = (
    Rule(
        id="astct_era.crs.supportive",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher (ASTCT 2019 grading)",
        reads=("crs_scale", "crs_grade", "fever"),
        text="Supportive care: antipyretics, IV fluids and oxygen as needed; monitor vital signs.",
        timing="continuing",
        reference=f"{CRS_T1}, grade 1",
        verification="R",
        note="the grade 1 and 2 rows of the pocket guide were not verified",
    ),
    Rule(
        id="astct_era.attribution.infection",
        category="attribution",
        priority=2,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher: infection and other causes must be excluded",
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
        cite("neelapu2018", "grade 1 management")
        + "; "
        + cite("management-review-table4", "CARTOX column"),
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
        because="CRS grade 2 (ASTCT 2019 grading)",
        reads=("crs_grade", "hypotension", "weight_kg", "tocilizumab_given"),
        text=TOCI_TEXT,
        timing="now if the label allows it (see the dose)",
        reference=f"{CRS_T1}, grade 2; dose: {LABEL_DOSE}",
        verification="R",
        note=(
            "the grade 2 row was not verified in the guide; the dose and repeat limits are the "
            "label's"
        ),
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
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.grade2.no_improvement_24h",
        category="escalation",
        priority=1,
        when=lambda f: f.crs_grade == 2 and f.no_improvement_24h_after_tocilizumab is True,
        because="CRS grade 2, not lower 24 hours after tocilizumab than before it",
        reads=("crs_grade", "tocilizumab_given", "no_improvement_24h_after_tocilizumab"),
        text="No improvement within 24 h: manage as grade 3 (ICU, dexamethasone 10 mg IV q6h).",
        timing="now",
        reference=f"{CRS_T1}, grade 2",
        verification="R",
        note="'no improvement' read as: the grade 24 h after the dose is not lower",
        dose=_dex10_q6,
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.grade3.icu",
        category="monitoring",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade 3 or higher (ASTCT 2019 grading)",
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
        because="CRS grade 3 or higher (ASTCT 2019 grading)",
        reads=("crs_grade", "weight_kg", "tocilizumab_given"),
        text=f"Tocilizumab as per grade 2 if the maximum dose has not been reached. {TOCI_TEXT}",
        timing="now if the label allows it (see the dose)",
        reference=f"{CRS_T1}, grades 3 and 4; dose: {LABEL_DOSE}",
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
        because="CRS grade 3 (ASTCT 2019 grading)",
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
        note="a 2023 review (J Clin Med 2023, PMC10573998) gives 20 mg every 6 h if refractory",
        dose=_dex10_q6,
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.grade4.ventilation",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 4,
        because="CRS grade 4 (ASTCT 2019 grading)",
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
        because="CRS grade 4 (ASTCT 2019 grading)",
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
        note="a 2023 review (J Clin Med 2023) gives 1000 mg/day for 3 days: the same daily total",
        dose=_mp_grade4,
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.corticosteroids.antifungal",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 3 or f.icans_grade >= 3,
        because="corticosteroids are part of the plan (CRS or ICANS grade 3 or higher)",
        reads=("crs_grade", "icans_grade", "steroids"),
        text="Strongly consider antifungal prophylaxis while on corticosteroids.",
        timing="with corticosteroids",
        reference=f"{CRS_T1}, additional notes",
        verification="V",
    ),
    # ICANS (Table 2).
    Rule(
        id="astct_era.icans.workup",
        category="monitoring",
        priority=2,
        when=lambda f: f.icans_grade >= 1,
        because="ICANS grade 1 or higher (ASTCT 2019 grading)",
        reads=("icans_grade",),
        text=(
            "ICE at least twice daily; serial CRP, ferritin, CBC, CMP, fibrinogen, PT/PTT; "
            "neurology consultation; aspiration precautions, head of bed elevated; consider "
            "seizure prophylaxis for high-risk products or patients (the source names no drug "
            "or dose); correct severe hyponatraemia."
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
        because="ICANS grade 2 or higher",
        reads=("icans_grade",),
        text="Brain MRI (or CT) and EEG; consider lumbar puncture.",
        timing="today",
        reference=f"{ICANS_T2}, all grades (items for grade 2 and higher)",
        verification="V",
    ),
    Rule(
        id="astct_era.icans.grade3.lumbar_puncture",
        category="monitoring",
        priority=2,
        when=lambda f: f.icans_grade >= 3,
        because="ICANS grade 3 or higher",
        reads=("icans_grade",),
        text="Lumbar puncture; if grade 3 or higher persists, repeat imaging every 2-3 days.",
        timing="today",
        reference=f"{ICANS_T2}, all grades (items for grade 3 and higher)",
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
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.icans.grade2.with_crs",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.icans_grade == 2 and f.crs_grade >= 1,
        because="ICANS grade 2 with concurrent CRS",
        reads=("icans_grade", "crs_grade", "tocilizumab_given"),
        text=(
            "Consider ICU if CRS is grade 2 or higher; if refractory after the first "
            "tocilizumab dose, "
            "dexamethasone 10 mg IV every 6-12 h (or methylprednisolone 1 mg/kg IV every 12 h) "
            "until grade 1, then taper."
        ),
        timing="after the first tocilizumab dose if refractory",
        reference=f"{ICANS_T2}, grade 2 with concurrent CRS",
        verification="V",
        dose=_dex10_q6_12,
        paediatric=PER_KG_CHILD,
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
        paediatric=PER_KG_CHILD,
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
        paediatric=ADULT_ONLY,
    ),
    Rule(
        id="astct_era.icans.no_crs.no_tocilizumab",
        category="information",
        priority=2,
        when=lambda f: 1 <= f.icans_grade <= 3 and f.crs_grade == 0,
        because="ICANS without concurrent CRS",
        reads=("icans_grade", "crs_grade"),
        text=(
            "Tocilizumab is not recommended for ICANS without concurrent CRS: the guideline "
            "gives tocilizumab only with concurrent CRS, and supportive care and "
            "corticosteroids without it."
        ),
        timing="while CRS is absent",
        reference=(
            f"{ICANS_T2}, grades 1 to 3, columns 'no concurrent CRS' and 'with concurrent CRS'"
        ),
        verification="rule",
        note="the guideline's table lists tocilizumab only in the concurrent-CRS column",
    ),
    Rule(
        id="astct_era.icans.grade2.no_crs.supportive",
        category="supportive_care",
        priority=2,
        when=lambda f: f.icans_grade == 2 and f.crs_grade == 0 and f.high_risk is not True,
        because="ICANS grade 2 without CRS, patient not recorded as high risk",
        reads=("icans_grade", "crs_grade", "high_risk"),
        text=(
            "Supportive care; dexamethasone 10 mg IV for 2 doses is considered for high-risk "
            "products or patients (record whether this patient is high risk)."
        ),
        timing="now",
        reference=f"{ICANS_T2}, grade 2, no concurrent CRS",
        verification="V",
    ),
    *measurement_rules(
        "astct_era",
        cite("astct2019", "CRS grading"),
        cite("astct2019", "ICANS grading (ICE for 12 years and older, CAPD under 12)"),
    ),
    *hlh_rules("astct_era"),
)

RULESET = RuleSet(
    id=ID,
    version=VERSION,
    title="ASTCT-era CAR T management of CRS and ICANS by grade (ASCO 2021-style)",
    citation=(
        "Guideline Central pocket guide 'Immune-Related Adverse Events: CAR T-Cell Therapy' "
        "(wording appears to follow Santomasso et al., ASCO guideline, J Clin Oncol 2021; "
        "attribution not verified); ASTCT 2019 grading"
    ),
    crs_scale="astct2019",
    icans_scale="astct2019",
    rules=RULES,
    notes=(
        "The CRS grade 1 and 2 rows and the ICANS grade 4 row were not verified in the guide.",
        "Tocilizumab is dosed and limited by the current label.",
        "Fixed corticosteroid doses are adult doses: none is computed for a child.",
    ),
)
