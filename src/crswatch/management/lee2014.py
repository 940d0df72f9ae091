"""Lee 2014 CRS treatment algorithm (the seed 003 algorithm), as rules.

Lee DW, Gardner R, Porter DL, et al. *Current concepts in the diagnosis and management of
cytokine release syndrome.* Blood 2014;124(2):188-195 (seed 003_f311ac7ac5f2c496.txt):
Figure 2 ("Treatment algorithm for management of CRS based on the revised CRS grading
system"), the Tocilizumab and the Corticosteroids sections; the grade-by-grade actions as
tabulated in PMC9616161 Table 4 (clinical-criteria §4.1 [V]).  Grades are read from the Lee
2014 scale (``crswatch.scales.lee2014``), neurological dysfunction from the ASTCT 2019 ICANS
grade.

Interpreted (decision 0014):

- Doses.  The article has an erratum ("Dosage error in article text", Blood 2015;126(8):1048),
  whose content was not available (§8 D16): tocilizumab is dosed by the current label, and
  the printed 4 mg/kg (adults) / 8 mg/kg (children) is only quoted.  The corticosteroid doses
  the article gives (methylprednisolone 2 mg/kg/day; dexamethasone 0.5 mg/kg, maximum 10 mg
  per dose) are shown with that caveat.
- "Older age or extensive comorbidities" is the timeline's ``high_risk`` (clinician's
  judgement); when it is not recorded at grade 2 the engine asks for it.
- Neurotoxicity first: grade 3-4 CRS with neurological dysfunction (ICANS grade >= 1) and no
  haemodynamic instability (no hypotension, no vasopressor) or other life-threatening sign
  (no positive-pressure or invasive ventilation) gets corticosteroids as first-line, not
  tocilizumab.
"""

from __future__ import annotations

from crswatch.management._common import (
    hlh_rules,
    hours_after,
    measurement_rules,
    methylprednisolone_per_kg,
    neutropenic_fever_rule,
    tocilizumab_now,
    tocilizumab_status,
)
from crswatch.management._dosing import corticosteroid_dose
from crswatch.management._facts import Facts
from crswatch.management._model import Dose, Rule, RuleSet
from crswatch.references import cite

__all__ = ["RULESET"]

ID = "lee2014"
VERSION = "2014.1"
SEED = cite("lee2014")
FIG2 = cite("lee2014", "Figure 2 (treatment algorithm) legend")
TABLE4 = cite("management-review-table4", "'Lee criteria' column")
ERRATUM = (
    "The erratum to Lee et al. 2014 ('Dosage error in article text', Blood 2015) was not "
    "read: this dose may be affected."
)
LABEL_DOSE = cite("actemra-label", "dose")


def _immunosuppression_indicated(f: Facts) -> bool:
    return f.crs_grade >= 3 or (f.crs_grade == 2 and f.high_risk is True)


def _neuro_first(f: Facts) -> bool:
    return (
        f.crs_grade >= 3
        and f.icans_grade >= 1
        and not f.hemodynamically_unstable
        and not f.life_threatening
    )


def _methylprednisolone(f: Facts) -> Dose | None:
    return methylprednisolone_per_kg(
        f, 2.0, "2 mg/kg per day (the article gives a daily dose)", "wean over several days"
    )


def _dexamethasone_neuro(f: Facts) -> Dose | None:
    return corticosteroid_dose(
        "dexamethasone",
        mg_per_kg=0.5,
        weight_kg=f.weight_kg,
        cap_mg=10.0,
        route="IV",
        timing="now (the article states no interval)",
        notes=(ERRATUM,),
    )


def _reassess_at(f: Facts) -> str:
    return f"Reassess at {hours_after(f, 24)} (24 h after the latest dose). {tocilizumab_status(f)}"


RULES: tuple[Rule, ...] = (
    Rule(
        id="lee2014.supportive.symptomatic",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher (Lee 2014 grading)",
        reads=("crs_scale", "crs_grade"),
        text=(
            "Vigilant supportive care: antipyretics and analgesics as needed, maintenance IV "
            "fluids, monitor fluid balance."
        ),
        timing="continuing",
        reference=f"{FIG2}; {TABLE4} grade 1",
        verification="V",
        quote="we recommend symptomatic treatment of grade 1 CRS (Figure 2, case 1)",
    ),
    Rule(
        id="lee2014.attribution.infection",
        category="attribution",
        priority=2,
        when=lambda f: f.crs_grade >= 1,
        because="CRS grade 1 or higher: the algorithm relies on attributing the findings to CRS",
        reads=("crs_grade", "fever"),
        text=(
            "Confirm attribution: assess for infection (blood cultures), sepsis, tumour lysis "
            "and other causes before treating as CRS; treat concurrent bacterial infection "
            "empirically."
        ),
        timing="now",
        reference=f"{SEED}, 'Grading system and treatment algorithm'; {FIG2}",
        verification="V",
        quote=(
            "it is essential that attribution be carefully considered ... vigilant supportive "
            "care including empiric treatment of concurrent bacterial infections"
        ),
    ),
    neutropenic_fever_rule(
        "lee2014",
        f"{TABLE4} grade 1 ('treat fever and neutropenia if present'); {FIG2}",
        "Vigilant supportive care: treat fever and neutropenia if present",
    ),
    Rule(
        id="lee2014.grade2.hydration_cardiac",
        category="monitoring",
        priority=2,
        when=lambda f: f.crs_grade >= 2,
        because="CRS grade 2 or higher (Lee 2014 grading)",
        reads=("crs_grade", "hypotension", "pressors_running"),
        text=(
            "Maintain hydration and blood pressure; monitor cardiac and other organ function "
            "closely (echocardiography if cardiac dysfunction is a concern)."
        ),
        timing="continuing",
        reference=f"{SEED}, text on grade 2-3; {TABLE4} grade 2",
        verification="V",
        quote=(
            "in patients with grade 2 or grade 3 CRS, careful attention should be paid to "
            "cardiac function ... Frequent echocardiographic monitoring may be indicated"
        ),
    ),
    Rule(
        id="lee2014.grade2.record_risk",
        category="information",
        priority=1,
        when=lambda f: f.crs_grade == 2 and f.high_risk is None,
        because=(
            "CRS grade 2, and whether the patient is older or has extensive comorbidities is "
            "not recorded"
        ),
        reads=("crs_grade", "high_risk", "age_years"),
        text=(
            "Record whether the patient is older or has extensive comorbidities: at grade 2 "
            "Lee 2014 starts immunosuppression only for them."
        ),
        timing="now",
        reference=f"{SEED}, 'Grading system and treatment algorithm'; {FIG2}",
        verification="V",
        quote=(
            "In older patients and patients with significant comorbidities, depending on "
            "clinical judgment, it may be appropriate to intervene with immunosuppression in "
            "patients with grade 2 CRS."
        ),
    ),
    Rule(
        id="lee2014.grade2.no_immunosuppression",
        category="supportive_care",
        priority=3,
        when=lambda f: f.crs_grade == 2 and f.high_risk is False,
        because="CRS grade 2 without extensive comorbidities or older age",
        reads=("crs_grade", "high_risk"),
        text=(
            "No immunosuppression at grade 2 without extensive comorbidities or older age: "
            "vigilant supportive care and reassessment for progression."
        ),
        timing="continuing; reassess with every change",
        reference=f"{FIG2}; {TABLE4} grade 2 (no extensive comorbidities or older age)",
        verification="V",
        quote="Immunosuppression should be used in all patients with grade 3 or 4 CRS",
    ),
    Rule(
        id="lee2014.grade3.icu",
        category="monitoring",
        priority=1,
        when=lambda f: f.crs_grade >= 3,
        because="CRS grade 3 or higher (Lee 2014 grading)",
        reads=("crs_grade", "pressors_running", "hypotension"),
        text=(
            "Intensive care unit with 1:1 nursing; continuous cardiac monitoring; "
            "echocardiography for suspected cardiac dysfunction."
        ),
        timing="now",
        reference=f"{SEED}, text after Figure 2 (grade 3)",
        verification="V",
        quote=(
            "Patients with grade 3 CRS need to be monitored very closely, likely in an "
            "intensive care unit with 1:1 nursing care."
        ),
    ),
    Rule(
        id="lee2014.grade4.life_support",
        category="supportive_care",
        priority=1,
        when=lambda f: f.crs_grade >= 4,
        because="CRS grade 4 on Lee 2014 (life-threatening)",
        reads=("crs_grade", "invasive_ventilation", "positive_pressure"),
        text=(
            "Life-threatening CRS: ventilator support and organ support as required; every "
            "grade 4 patient receives immunosuppression."
        ),
        timing="now",
        reference=f"{SEED}, text after Figure 2 (grade 4)",
        verification="V",
        quote=(
            "We recommend that all patients with grade 4 CRS be treated with "
            "immunosuppressive agents"
        ),
    ),
    Rule(
        id="lee2014.tocilizumab.first_line",
        category="anti_il6",
        priority=1,
        when=lambda f: (
            _immunosuppression_indicated(f) and not _neuro_first(f) and not f.tocilizumab_given
        ),
        because=(
            "CRS grade 3 or higher, or grade 2 in an older or comorbid patient; no tocilizumab "
            "yet; not the neurotoxicity-first branch"
        ),
        reads=("crs_grade", "high_risk", "icans_grade", "hemodynamically_unstable", "weight_kg"),
        text="Tocilizumab as first-line immunosuppression (± corticosteroids).",
        timing="now",
        reference=f"{SEED}, 'Tocilizumab' section and Figure 2; dose: {LABEL_DOSE}",
        verification="V",
        quote=(
            "we recommend use of tocilizumab as first-line immunosuppressive therapy ... "
            "Immunosuppression should be used in all patients with grade 3 or 4 CRS and "
            "instituted earlier in patients with extensive comorbidities or older age"
        ),
        note=(
            "Lee 2014 printed 4 mg/kg (adults) and 8 mg/kg (children); because of its unread "
            "dosage erratum, the current label dose is computed instead"
        ),
        dose=tocilizumab_now,
    ),
    Rule(
        id="lee2014.corticosteroids.second_line",
        category="corticosteroid",
        priority=2,
        when=lambda f: _immunosuppression_indicated(f) and not _neuro_first(f),
        because="immunosuppression indicated (tocilizumab ± corticosteroids)",
        reads=("crs_grade", "high_risk", "steroids"),
        text=(
            "Consider corticosteroids with tocilizumab (second-line for CRS): methylprednisolone "
            "2 mg/kg/day, weaned over several days."
        ),
        timing="with or after tocilizumab, by clinical judgement",
        reference=f"{SEED}, 'Corticosteroids and other agents'",
        verification="V",
        quote=(
            "commonly used initial doses include methylprednisolone (2 mg/kg/day), which can "
            "generally be weaned over several days"
        ),
        note=ERRATUM,
        dose=_methylprednisolone,
    ),
    Rule(
        id="lee2014.neurotoxicity_first.dexamethasone",
        category="corticosteroid",
        priority=1,
        when=_neuro_first,
        because=(
            "CRS grade 3 or higher with neurological dysfunction (ICANS grade 1 or higher) and "
            "no haemodynamic "
            "instability or other life-threatening sign"
        ),
        reads=(
            "crs_grade",
            "icans_grade",
            "hypotension",
            "pressors_running",
            "positive_pressure",
            "invasive_ventilation",
        ),
        text=(
            "Neurotoxicity without haemodynamic instability: corticosteroids as the first-line "
            "immunosuppressive, dexamethasone 0.5 mg/kg (maximum 10 mg per dose); tocilizumab "
            "is not first-line here (it does not cross the blood-brain barrier)."
        ),
        timing="now",
        reference=f"{SEED}, 'Tocilizumab' section (neurologic symptoms) and 'Corticosteroids'",
        verification="V",
        quote=(
            "for patients with grade 3 or 4 CRS associated with neurologic dysfunction without "
            "significant hemodynamic instability or other life-threatening symptomatology, "
            "consideration may be given to the use of corticosteroids as a preferred first-line "
            "immunosuppressive ... dexamethasone (0.5 mg/kg; maximum, 10 mg/dose)"
        ),
        dose=_dexamethasone_neuro,
    ),
    Rule(
        id="lee2014.tocilizumab.reassess_24h",
        category="monitoring",
        priority=2,
        when=lambda f: (
            f.hours_since_tocilizumab is not None
            and f.hours_since_tocilizumab < 24
            and f.crs_grade >= 2
        ),
        because="tocilizumab given less than 24 hours ago, CRS grade 2 or higher",
        reads=("tocilizumab_given", "hours_since_tocilizumab", "crs_grade"),
        text=(
            "Tocilizumab already given: watch for improvement; if the condition has not "
            "improved or stabilised 24 h after the dose, consider a second dose and/or "
            "corticosteroids."
        ),
        timing="24 h after the latest tocilizumab dose",
        reference=f"{SEED}, 'Tocilizumab' section",
        verification="V",
        quote=(
            "If the patient's condition does not improve or stabilize within 24 hours of the "
            "tocilizumab dose, administration of a second dose of tocilizumab and/or a second "
            "immunosuppressive agent, such as corticosteroids, should be considered."
        ),
        detail=_reassess_at,
    ),
    Rule(
        id="lee2014.tocilizumab.no_improvement_24h",
        category="escalation",
        priority=1,
        when=lambda f: f.no_improvement_24h_after_tocilizumab is True and f.crs_grade >= 2,
        because=(
            "the CRS grade 24 hours after the latest tocilizumab dose is not lower than before it"
        ),
        reads=("tocilizumab_given", "no_improvement_24h_after_tocilizumab", "crs_grade"),
        text=(
            "No improvement within 24 h of tocilizumab: consider a second tocilizumab dose "
            "and/or a second immunosuppressive agent such as corticosteroids "
            "(methylprednisolone 2 mg/kg/day)."
        ),
        timing="now",
        reference=f"{SEED}, 'Tocilizumab' section",
        verification="rule",
        quote=(
            "If the patient's condition does not improve or stabilize within 24 hours of the "
            "tocilizumab dose, administration of a second dose of tocilizumab and/or a second "
            "immunosuppressive agent, such as corticosteroids, should be considered."
        ),
        note="'improve' read as: a lower CRS grade 24 h after the dose than just before it",
        dose=tocilizumab_now,
        detail=tocilizumab_status,
    ),
    Rule(
        id="lee2014.neurotoxicity.severe.dexamethasone",
        category="corticosteroid",
        priority=1,
        when=lambda f: f.icans_grade >= 3 and not _neuro_first(f),
        because=("severe neurological symptoms (ICANS grade 3 or higher), whatever the CRS grade"),
        reads=("icans_grade", "crs_grade", "weight_kg"),
        text=(
            "Severe neurological symptoms: consider dexamethasone 0.5 mg/kg (maximum 10 mg per "
            "dose) IV, preferred for its better penetration of the blood-brain barrier."
        ),
        timing="now",
        reference=f"{SEED}, 'Corticosteroids and other agents'",
        verification="V",
        quote=(
            "For patients with severe neurologic symptoms, consideration may be given to using "
            "dexamethasone (0.5 mg/kg; maximum, 10 mg/dose) due to more efficient penetration "
            "of the blood:brain barrier"
        ),
        note=ERRATUM,
        dose=_dexamethasone_neuro,
    ),
    Rule(
        id="lee2014.neurotoxicity.no_tocilizumab_without_crs",
        category="information",
        priority=2,
        when=lambda f: f.icans_grade >= 1 and f.crs_grade == 0,
        because="neurological toxicity (ICANS grade 1 or higher) without CRS",
        reads=("icans_grade", "crs_grade"),
        text=(
            "Tocilizumab is not recommended for neurotoxicity without CRS: Lee 2014 notes that "
            "it is not expected to cross the blood-brain barrier and that IL-6 in the central "
            "nervous system may even rise transiently after it."
        ),
        timing="while CRS is absent",
        reference=f"{SEED}, 'Tocilizumab' section",
        verification="rule",
        quote=(
            "tocilizumab is not expected to cross the blood:brain barrier. Hence, elevations in "
            "IL-6 within the CNS are not likely to be directly ameliorated in the short term "
            "and may even be transiently aggravated by tocilizumab therapy"
        ),
        note="Lee 2014 states the reason; 'not recommended without CRS' is its reading",
    ),
    Rule(
        id="lee2014.neurotoxicity.mild.monitor",
        category="monitoring",
        priority=2,
        when=lambda f: 1 <= f.icans_grade <= 2 and not _neuro_first(f),
        because="neurological toxicity of ICANS grade 1 or 2",
        reads=("icans_grade", "crs_grade"),
        text=(
            "Neurological symptoms: Lee 2014 gives no specific treatment below severe symptoms; "
            "reassess the neurological status closely and give dexamethasone if the symptoms "
            "become severe."
        ),
        timing="continuing",
        reference=f"{SEED}, 'Clinical features' (neurologic symptoms) and 'Corticosteroids'",
        verification="rule",
        note="Lee 2014 treats only severe neurologic symptoms; the monitoring step is a reading",
    ),
    *measurement_rules(
        "lee2014",
        cite("lee2014", "Table 2 (revised CRS grading)"),
        cite("astct2019", "ICANS grading (ICE for 12 years and older, CAPD under 12)"),
    ),
    *hlh_rules("lee2014"),
)

RULESET = RuleSet(
    id=ID,
    version=VERSION,
    title="Lee 2014 CRS treatment algorithm (revised grading, Figure 2)",
    citation=(
        "Lee DW et al. Current concepts in the diagnosis and management of cytokine release "
        "syndrome. Blood 2014;124(2):188-195; erratum Blood 2015;126(8):1048"
    ),
    crs_scale="lee2014",
    icans_scale="astct2019",
    rules=RULES,
    notes=(
        "Tocilizumab is dosed by the current label (the Lee 2014 doses are historical: its "
        "dosage erratum was not read).",
        "'Older age or extensive comorbidities' is the clinician's high-risk entry.",
        "Neurological dysfunction is read from the ASTCT 2019 ICANS grade.",
    ),
)
