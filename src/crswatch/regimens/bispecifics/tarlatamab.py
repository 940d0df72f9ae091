"""Tarlatamab (IMDELLTRA, tarlatamab-dlle), DLL3 x CD3, small-cell lung cancer: the US label.

Verified (criteria-verification.md §5, label May 2024): monitoring from the start of the
infusion for 22 to 24 hours on cycle 1 day 1 and cycle 1 day 8 in an appropriate healthcare
setting, then staying within 1 hour of one, with a caregiver, for a total of 48 hours; a 1-hour
intravenous infusion; CRS actions for grades 1-2.

UNVERIFIED (seen only in a secondary summary, labelled so everywhere): the doses (1 mg on
cycle 1 day 1, 10 mg on days 8 and 15, then 10 mg every 2 weeks) and the concomitant medicines
(dexamethasone 8 mg IV within 1 hour before; 1 L normal saline over 4-5 hours after).  The plan
counts 7-day weeks from the first dose (the label's cycle length was not captured).
NOT FOUND: CRS grade 3-4 actions (a secondary summary's "permanently discontinue" is not used),
the ICANS table, restart rules after delays.
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
    "IMDELLTRA (tarlatamab-dlle) US prescribing information, Dosage and Administration "
    "(drugs.com label text, May 2024)",
    "US prescribing information, May 2024",
)
SECONDARY = Source(
    "secondary summary (haiouhealth.com), not the label text: unverified",
    "unverified",
)
CRS_TABLE = Source(
    "IMDELLTRA US prescribing information, CRS dose modifications, as reproduced on "
    "imdelltrahcp.com",
    "US prescribing information, May 2024",
)

_IV = "intravenous infusion over 1 hour"
_STAY = Monitoring(
    24.0,
    "appropriate healthcare setting for 22 to 24 hours from the infusion start, then within "
    "1 hour of one, with a caregiver, for a total of 48 hours",
    "monitor patients from the start of the IMDELLTRA infusion for 22 to 24 hours on Cycle 1 "
    "Day 1 and Cycle 1 Day 8 in an appropriate healthcare setting; remain within 1-hour of an "
    "appropriate healthcare setting for a total of 48 hours ... accompanied by a caregiver",
    LABEL,
    hours_low=22.0,
)

SCHEDULE = Schedule(
    id="sclc",
    name="1 mg, then 10 mg on days 8 and 15, then 10 mg every 2 weeks (doses unverified)",
    indication="extensive-stage small-cell lung cancer",
    period="week",
    period_days=7,
    rows=(
        DoseRow(
            1,
            1,
            (1,),
            1.0,
            "mg",
            "cycle 1 day 1 (step-up dose)",
            "step_up",
            infusion=_IV,
            monitoring=_STAY,
            verified=False,
            step_up_schedule=True,
        ),
        DoseRow(
            2,
            2,
            (1,),
            10.0,
            "mg",
            "cycle 1 day 8",
            "treatment",
            infusion=_IV,
            monitoring=_STAY,
            verified=False,
            step_up_schedule=True,
        ),
        DoseRow(
            3, 3, (1,), 10.0, "mg", "cycle 1 day 15", "treatment", infusion=_IV, verified=False
        ),
        DoseRow(
            5,
            None,
            (1,),
            10.0,
            "mg",
            "dose every 2 weeks",
            "treatment",
            every=2,
            infusion=_IV,
            verified=False,
        ),
    ),
    source=SECONDARY,
    verified=False,
)

_WITHHOLD = "Withhold tarlatamab until the event resolves, then resume at the next scheduled dose."

PRODUCT = Product(
    id="tarlatamab",
    brand="IMDELLTRA",
    target="DLL3 x CD3",
    disease="small-cell lung cancer",
    label=LABEL,
    schedules=(SCHEDULE,),
    premedications=(
        LabelPremedication(
            "dexamethasone",
            "8 mg IV",
            "within 1 hour before the dose",
            "not_verified",
            "not verified",
            "dexamethasone 8 mg IV within 1 h before (secondary summary)",
            SECONDARY,
            verified=False,
            items=("dexamethasone",),
        ),
        LabelPremedication(
            "normal saline",
            "1 L",
            "over 4-5 hours after the infusion",
            "not_verified",
            "not verified",
            "1 L normal saline over 4-5 h after (secondary summary)",
            SECONDARY,
            verified=False,
        ),
    ),
    actions=(
        CrsAction(
            "crs",
            1,
            (_WITHHOLD,),
            "Grade 1: Withhold IMDELLTRA® until event resolves, then resume IMDELLTRA® at the "
            "next scheduled dose",
            CRS_TABLE,
        ),
        CrsAction(
            "crs",
            2,
            (
                _WITHHOLD,
                "Recommend hospitalization for a minimum of 24 hours with cardiac telemetry and "
                "pulse oximetry.",
                "When resuming, monitor for 22 to 24 hours.",
            ),
            "Grade 2: Withhold IMDELLTRA® until event resolves, then resume IMDELLTRA® at the "
            "next scheduled dose. Recommend hospitalization for a minimum of 24 hours with "
            "cardiac telemetry and pulse oximetry; When resuming ... monitor ... for 22 to 24 "
            "hours",
            CRS_TABLE,
            complete=False,
            next_dose_note="monitor for 22 to 24 hours when resuming",
        ),
    ),
    unverified=(
        Unverified(
            "doses",
            "The doses were seen only in a secondary summary; the label's Table 1 numbers were "
            "not captured.",
        ),
        Unverified(
            "concomitant medicines",
            "Dexamethasone 8 mg and normal saline were seen only in a secondary summary.",
        ),
        Unverified(
            "CRS actions for grades 3-4",
            "NOT FOUND in the label text (a secondary summary's 'permanently discontinue' for "
            "grade 4 or recurrent grade 3 is not used).",
        ),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed dose were NOT FOUND.",
        ),
    ),
)
