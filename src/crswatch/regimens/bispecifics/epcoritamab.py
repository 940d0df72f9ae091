"""Epcoritamab (EPKINLY, epcoritamab-bysp), CD20 x CD3, lymphoma: the US label as verified.

Verified (criteria-verification.md §5): 28-day cycles; DLBCL/HGBCL cycle 1 step-up doses 0.16
mg (day 1) and 0.8 mg (day 8), first full dose 48 mg on day 15 and 48 mg on day 22, then 48 mg
on days 1, 8, 15 and 22 of cycles 2-3, days 1 and 15 of cycles 4-9 and day 1 from cycle 10;
follicular lymphoma cycle 1 with a third step-up dose (0.16, 0.8, 3 mg, 48 mg on day 22);
"premedicate before each dose in Cycle 1"; hospitalization for 24 hours after the cycle 1 day 15
dose (DLBCL/HGBCL); CRS actions for grades 1-2 and the start of the grade 3 action.
NOT FOUND: the premedication drugs and doses, follicular lymphoma cycles 2 onwards and its
hospitalization, the recurrent grade 3 and grade 4 CRS rows, the ICANS table, restart rules.
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
    "EPKINLY (epcoritamab-bysp) US prescribing information, Dosage and Administration "
    "(drugs.com label text, July 2024; prescriberpoint for follicular lymphoma)",
    "US prescribing information, July 2024",
)
CRS_TABLE = Source(
    "EPKINLY US prescribing information section 2.6, CRS dose modifications, as reproduced on "
    "epkinlyhcp.com",
    "US prescribing information, July 2024",
)

_SC = "subcutaneous injection"
_HOSPITAL = Monitoring(
    24.0,
    "hospital",
    "Patients should be hospitalized for 24 hours after administration of the Cycle 1 Day 15 "
    "dosage of 48 mg",
    LABEL,
)

DLBCL = Schedule(
    id="dlbcl",
    name="DLBCL or high-grade B-cell lymphoma: step-up 0.16 and 0.8 mg, then 48 mg",
    indication="relapsed or refractory DLBCL or high-grade B-cell lymphoma",
    period="cycle",
    period_days=28,
    rows=(
        DoseRow(
            1, 1, (1,), 0.16, "mg", "step-up dose 1", "step_up", infusion=_SC, step_up_schedule=True
        ),
        DoseRow(
            1, 1, (8,), 0.8, "mg", "step-up dose 2", "step_up", infusion=_SC, step_up_schedule=True
        ),
        DoseRow(
            1,
            1,
            (15,),
            48.0,
            "mg",
            "first full dose",
            "treatment",
            infusion=_SC,
            monitoring=_HOSPITAL,
            step_up_schedule=True,
        ),
        DoseRow(1, 1, (22,), 48.0, "mg", "full dose", "treatment", infusion=_SC),
        DoseRow(2, 3, (1, 8, 15, 22), 48.0, "mg", "full dose (weekly)", "treatment", infusion=_SC),
        DoseRow(4, 9, (1, 15), 48.0, "mg", "full dose (every 2 weeks)", "treatment", infusion=_SC),
        DoseRow(10, None, (1,), 48.0, "mg", "full dose (every 4 weeks)", "treatment", infusion=_SC),
    ),
    source=LABEL,
)

FL = Schedule(
    id="fl",
    name="Follicular lymphoma: step-up 0.16, 0.8 and 3 mg, then 48 mg (cycle 1 only verified)",
    indication="relapsed or refractory follicular lymphoma",
    period="cycle",
    period_days=28,
    rows=(
        DoseRow(
            1, 1, (1,), 0.16, "mg", "step-up dose 1", "step_up", infusion=_SC, step_up_schedule=True
        ),
        DoseRow(
            1, 1, (8,), 0.8, "mg", "step-up dose 2", "step_up", infusion=_SC, step_up_schedule=True
        ),
        DoseRow(
            1, 1, (15,), 3.0, "mg", "step-up dose 3", "step_up", infusion=_SC, step_up_schedule=True
        ),
        DoseRow(
            1,
            1,
            (22,),
            48.0,
            "mg",
            "first full dose",
            "treatment",
            infusion=_SC,
            step_up_schedule=True,
        ),
    ),
    source=LABEL,
    max_periods=1,
    max_periods_note="cycles 2 onwards of the follicular lymphoma schedule were not verified",
)

_WITHHOLD = "Withhold epcoritamab and manage per current practice guidelines."

PRODUCT = Product(
    id="epcoritamab",
    brand="EPKINLY",
    target="CD20 x CD3",
    disease="large B-cell and follicular lymphoma",
    label=LABEL,
    schedules=(DLBCL, FL),
    premedications=(
        LabelPremedication(
            "premedication (drugs not verified)",
            None,
            None,
            "period_1",
            "each dose in cycle 1",
            "Premedicate before each dose in Cycle 1.",
            LABEL,
            items=("dexamethasone", "prednisone", "methylprednisolone"),
        ),
    ),
    actions=(
        CrsAction(
            "crs",
            1,
            (_WITHHOLD, "Ensure CRS symptoms are resolved prior to the next dose."),
            "Grade 1: Withhold EPKINLY and manage per current practice guidelines; Ensure CRS "
            "symptoms are resolved prior to next dose",
            CRS_TABLE,
        ),
        CrsAction(
            "crs",
            2,
            (
                _WITHHOLD,
                "Ensure CRS symptoms are resolved prior to the next dose.",
                "Administer premedication prior to the next dose.",
                "For the next dose, monitor more frequently and consider hospitalization.",
            ),
            "Grade 2: Withhold EPKINLY and manage per current practice guidelines; Ensure CRS "
            "symptoms are resolved prior to next dose; Administer premedication prior to next "
            "dose ... For the next dose ... monitor more frequently and consider hospitalization",
            CRS_TABLE,
            complete=False,
            next_dose_note=("premedicate; monitor more frequently and consider hospitalization"),
        ),
        CrsAction(
            "crs",
            3,
            (
                "Withhold epcoritamab (the rest of the grade 3 action, which mentions intensive "
                "care, was not captured).",
            ),
            "Grade 3: Withhold ... which may include intensi[ve care] (truncated)",
            CRS_TABLE,
            complete=False,
            occurrence="first",
        ),
    ),
    unverified=(
        Unverified("premedication drugs and doses", "NOT FOUND in the verified label text."),
        Unverified(
            "follicular lymphoma cycles 2 onwards and hospitalization",
            "NOT FOUND: only cycle 1 of the follicular lymphoma schedule was verified.",
        ),
        Unverified(
            "CRS grade 3 recurrent and grade 4",
            "These rows of the label's CRS table were NOT FOUND.",
        ),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed dose were NOT FOUND.",
        ),
    ),
)
