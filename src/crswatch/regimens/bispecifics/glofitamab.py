"""Glofitamab (COLUMVI, glofitamab-gxbm), CD20 x CD3, large B-cell lymphoma: the label as verified.

Verified (criteria-verification.md §5): 21-day cycles; obinutuzumab 1000 mg on cycle 1 day 1;
step-up doses 2.5 mg (day 8, over 4 hours) and 10 mg (day 15); 30 mg on cycle 2 day 1 (over 4
hours) and on day 1 of cycles 3-12 (over 2 hours), a maximum of 12 cycles; premedication with
dexamethasone, acetaminophen and diphenhydramine (doses and timing not seen); the CRS grade 1
action.  Hospitalization: the US wording was NOT FOUND; the Swiss label asks for inpatient
monitoring during step-up dose 1 and for 24 hours afterwards, used here and labelled as such.
NOT FOUND: CRS grade 2-4 actions, the ICANS table, restart rules after delays.
"""

from __future__ import annotations

from crswatch.regimens.bispecifics._model import (
    CrsAction,
    DoseRow,
    LabelPremedication,
    Monitoring,
    Product,
    Schedule,
    Source,
    Unverified,
)

__all__ = ["PRODUCT"]

LABEL = Source(
    "COLUMVI (glofitamab-gxbm) US prescribing information, Dosage and Administration, as "
    "summarised by Medscape and the Oncology Nursing Society",
    "US prescribing information, version not stated in the summaries",
)
SWISS = Source(
    "Columvi Swiss Fachinformation (generika.cc), inpatient monitoring: 'während der Infusion "
    "der Titrations-Dosis 1 (2,5 mg an Tag 8 Zyklus 1) und in den 24 Stunden danach'",
    "Swiss product information (the US wording was not found)",
)
CRS_GRADE1 = Source(
    "COLUMVI US prescribing information, CRS grade 1 dose modification, label-derived text "
    "on Medscape",
    "US prescribing information, version not stated",
)

_IV = "intravenous infusion"

SCHEDULE = Schedule(
    id="dlbcl",
    name="Obinutuzumab pretreatment, step-up 2.5 and 10 mg, then 30 mg for up to 12 cycles",
    indication="relapsed or refractory large B-cell lymphoma",
    period="cycle",
    period_days=21,
    rows=(
        DoseRow(
            1,
            1,
            (1,),
            1000.0,
            "mg",
            "obinutuzumab pretreatment",
            "pretreatment",
            drug="obinutuzumab",
            infusion=_IV,
        ),
        DoseRow(
            1,
            1,
            (8,),
            2.5,
            "mg",
            "step-up dose 1",
            "step_up",
            infusion=f"{_IV} over 4 hours",
            step_up_schedule=True,
            monitoring=Monitoring(
                24.0,
                "hospital (inpatient monitoring during the infusion and for 24 hours after; "
                "Swiss label, US wording not found)",
                "während der Infusion der Titrations-Dosis 1 (2,5 mg an Tag 8 Zyklus 1) und "
                "in den 24 Stunden danach",
                SWISS,
            ),
        ),
        DoseRow(
            1,
            1,
            (15,),
            10.0,
            "mg",
            "step-up dose 2",
            "step_up",
            infusion=_IV,
            step_up_schedule=True,
        ),
        DoseRow(
            2, 2, (1,), 30.0, "mg", "first full dose", "treatment", infusion=f"{_IV} over 4 hours"
        ),
        DoseRow(3, 12, (1,), 30.0, "mg", "full dose", "treatment", infusion=f"{_IV} over 2 hours"),
    ),
    source=LABEL,
    max_periods=12,
    max_periods_note="a maximum of 12 cycles",
)

_PREMED_QUOTE = "premedication: dexamethasone, acetaminophen, diphenhydramine (doses not seen)"

PRODUCT = Product(
    id="glofitamab",
    brand="COLUMVI",
    target="CD20 x CD3",
    disease="large B-cell lymphoma",
    label=LABEL,
    schedules=(SCHEDULE,),
    premedications=(
        LabelPremedication(
            "dexamethasone",
            None,
            None,
            "not_verified",
            "not verified",
            _PREMED_QUOTE,
            LABEL,
            items=("dexamethasone",),
        ),
        LabelPremedication(
            "acetaminophen",
            None,
            None,
            "not_verified",
            "not verified",
            _PREMED_QUOTE,
            LABEL,
            items=("antipyretic",),
        ),
        LabelPremedication(
            "diphenhydramine",
            None,
            None,
            "not_verified",
            "not verified",
            _PREMED_QUOTE,
            LABEL,
            items=("antihistamine",),
        ),
    ),
    actions=(
        CrsAction(
            "crs",
            1,
            (
                "If the clinical presentation is consistent with CRS, withhold glofitamab.",
                "If symptoms resolve, restart the infusion at a slower rate.",
                "Ensure CRS symptoms are resolved for at least 72 hours before the next dose.",
            ),
            "If clinical presentation is consistent with CRS, withhold glofitamab ... If "
            "symptoms resolve, restart infusion at a slower rate ... Ensure CRS symptoms are "
            "resolved for ≥72 hr before next dose",
            CRS_GRADE1,
            complete=False,
            resolved_for_hours=72.0,
        ),
    ),
    general=(
        "Boxed warning: withhold until CRS resolves or permanently discontinue based on "
        "severity (COLUMVI US prescribing information, openFDA).",
    ),
    unverified=(
        Unverified(
            "premedication doses and timing",
            "Dexamethasone, acetaminophen and diphenhydramine are named; doses, timing and the "
            "doses they precede were NOT FOUND.",
        ),
        Unverified(
            "US hospitalization wording",
            "NOT FOUND; the Swiss label's inpatient monitoring after step-up dose 1 is shown.",
        ),
        Unverified(
            "CRS actions for grades 2-4",
            "The label's grade 2 definition matches ASTCT 2019; the actions for grades 2-4 were "
            "NOT FOUND.",
        ),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed dose were NOT FOUND.",
        ),
    ),
)
