"""Teclistamab (TECVAYLI, teclistamab-cqyv), BCMA x CD3, multiple myeloma: the US label as verified.

Verified (criteria-verification.md §5): the step-up dosing schedule (0.06 and 0.3 mg/kg, then
1.5 mg/kg weekly), the window for step-up dose 2, the every-2-weeks switch after a complete
response of at least 6 months, 48-hour hospitalization after the doses of the step-up schedule,
dexamethasone 16 mg 1 to 3 hours before those doses, and the ICANS grade 1-2 rows of the label
table.  NOT FOUND: the per-grade CRS actions and the label's CRS grading footnote, the H1
antagonist and antipyretic doses, and what to do when a step-up dose is later than allowed.

Interpretation (docs/decisions/0042-bispecific-regimens.md): the step-up table as transcribed
lists Day 1, Day 4 and the Day 7 first treatment dose, so the 48-hour stay is planned after
each of the three.
"""

from __future__ import annotations

from crswatch.regimens.bispecifics._model import (
    CrsAction,
    DelayRule,
    DoseRow,
    LabelPremedication,
    Monitoring,
    Product,
    Schedule,
    Source,
    SwitchRule,
    Unverified,
)

__all__ = ["PRODUCT"]

LABEL = Source(
    "TECVAYLI (teclistamab-cqyv) US prescribing information, Dosage and Administration, "
    "step-up dosing schedule (label transcriptions: prescriberpoint, updated December 2025; "
    "drugs.com)",
    "US prescribing information as transcribed in December 2025",
)
PRETREATMENT = Source(
    "TECVAYLI pretreatment medications (tecvaylihcp.com, manufacturer's prescriber site)",
    "manufacturer's site, version not stated",
)
ICANS_TABLE = Source(
    "Teclistamab label ICANS table as reproduced in J Adv Pract Oncol 2023 (PMC10062534), "
    "Table 5, 'Information from Janssen Biotech, Inc. (2022)'",
    "US prescribing information 2022",
)
_HOSPITAL = Monitoring(
    48.0,
    "hospital",
    "patients should be hospitalized for 48 hours after administration of all doses within "
    "the TECVAYLI step-up dosing schedule",
    LABEL,
)


def _row(day: int, mg_per_kg: float, name: str, role: str) -> DoseRow:
    return DoseRow(
        1,
        1,
        (day,),
        mg_per_kg,
        "mg/kg",
        name,
        "step_up" if role == "step_up" else "treatment",
        monitoring=_HOSPITAL,
        step_up_schedule=True,
        infusion="subcutaneous injection",
    )


WEEKLY = Schedule(
    id="weekly",
    name="Step-up 0.06 and 0.3 mg/kg, then 1.5 mg/kg once weekly",
    indication="relapsed or refractory multiple myeloma",
    period="week",
    period_days=7,
    rows=(
        _row(1, 0.06, "step-up dose 1", "step_up"),
        _row(4, 0.3, "step-up dose 2", "step_up"),
        _row(7, 1.5, "first treatment dose", "treatment"),
        DoseRow(2, None, (7,), 1.5, "mg/kg", "treatment dose (weekly)", "treatment"),
    ),
    source=LABEL,
    switches=(
        SwitchRule(
            "1.5 mg/kg every 2 weeks after a complete response or better maintained for at "
            "least 6 months",
            "In patients who have achieved and maintained a complete response or better for a "
            "minimum of 6 months, the dosing frequency may be decreased to 1.5 mg/kg every two "
            "weeks",
            LABEL,
        ),
    ),
)

PRODUCT = Product(
    id="teclistamab",
    brand="TECVAYLI",
    target="BCMA x CD3",
    disease="multiple myeloma",
    label=LABEL,
    schedules=(WEEKLY,),
    premedications=(
        LabelPremedication(
            "dexamethasone",
            "16 mg orally or intravenously",
            "1 to 3 hours before the dose",
            "step_up_schedule",
            "each dose of the step-up dosing schedule",
            "1 to 3 hours before dose ... Corticosteroid (oral or intravenous dexamethasone 16 mg)",
            PRETREATMENT,
            items=("dexamethasone",),
        ),
        LabelPremedication(
            "histamine-1 (H1) receptor antagonist",
            None,
            "1 to 3 hours before the dose",
            "step_up_schedule",
            "each dose of the step-up dosing schedule",
            "Histamine-1 (H1) receptor antagonist ... (the transcription is truncated here)",
            PRETREATMENT,
            verified=False,
            items=("antihistamine",),
        ),
    ),
    actions=(
        CrsAction(
            "icans",
            1,
            ("Withhold teclistamab until ICANS resolves.",),
            "Grade 1: ICE score 7-9 ... Withhold teclistamab-cqyv until ICANS resolves",
            ICANS_TABLE,
            complete=False,
        ),
        CrsAction(
            "icans",
            2,
            (
                "Administer dexamethasone 10 mg intravenously every 6 hours.",
                "Hospitalize for 48 hours following the next dose.",
            ),
            "Grade 2: ICE score 3-6 ... Administer dexamethasone 10 mg intravenously every 6 "
            "hours ... Patients should be hospitalized for 48 hours following the next dose",
            ICANS_TABLE,
            complete=False,
            withhold_until_resolved=False,
            next_dose_note="hospitalize for 48 hours following the next dose",
        ),
    ),
    delays=(
        DelayRule(
            "step-up dose 2",
            (2.0, 4.0),
            7.0,
            "may be given between 2 to 4 days after step-up dose 1 and may be given up to 7 days "
            "after",
            LABEL,
            Unverified(
                "restart after a step-up dose given later than allowed",
                "The label's restart rule for a delayed step-up dose was NOT FOUND in the "
                "verified label text: consult the full prescribing information.",
            ),
        ),
    ),
    general=(
        "Boxed warning: withhold until CRS resolves or permanently discontinue based on "
        "severity (TECVAYLI US prescribing information, openFDA).",
    ),
    unverified=(
        Unverified(
            "CRS actions per grade",
            "The label's CRS table (actions per grade) and its grading footnote were NOT FOUND; "
            "the MajesTEC-1 trial graded CRS by ASTCT 2019.",
        ),
        Unverified(
            "ICANS grades 3-4",
            "Only the grade 1 and 2 rows of the label's ICANS table were verified.",
        ),
        Unverified(
            "other pretreatment medicines",
            "The H1 antagonist dose and any antipyretic were NOT FOUND (truncated transcription).",
        ),
        Unverified(
            "missed or delayed doses after the step-up schedule",
            "Restart rules after a delay were NOT FOUND.",
        ),
    ),
)
