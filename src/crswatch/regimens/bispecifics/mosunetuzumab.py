"""Mosunetuzumab (LUNSUMIO, mosunetuzumab-axgb), CD20 x CD3, follicular lymphoma: the US label.

Verified (criteria-verification.md §5): 21-day cycles; cycle 1 doses of 1 mg (day 1), 2 mg
(day 8) and 60 mg (day 15), 60 mg on cycle 2 day 1, 30 mg on day 1 of cycle 3 onwards; 8
cycles for a complete response, otherwise 17 in total; premedication for cycles 1 and 2
(dexamethasone 20 mg IV or methylprednisolone 80 mg IV completed at least 1 hour before,
diphenhydramine 50-100 mg at least 30 minutes before, oral acetaminophen 500-1000 mg), and
from cycle 3 for patients with CRS of any grade after the previous dose.

Grading: the label's CRS tables grade "based on ASTCT 2019" but define low-flow oxygen as
< 6 L/min and high-flow as >= 6 L/min, where ASTCT 2019 has <= 6 and > 6.  A patient on
exactly 6 L/min by nasal cannula is ASTCT grade 2 but grade 3 by this label;
``high_flow_from_l_min`` carries the label's boundary for the regimen status.

NOT FOUND: the actions of the label's CRS table (its rows include "Recurrent Grade 2 CRS" and
"Recurrent Grade 3 CRS"), hospitalization, the ICANS table, restart rules after delays.
"""

from __future__ import annotations

from crswatch.regimens.bispecifics._model import (
    DoseRow,
    LabelPremedication,
    Product,
    Schedule,
    Source,
    SwitchRule,
    Unverified,
)

__all__ = ["PRODUCT"]

LABEL = Source(
    "LUNSUMIO (mosunetuzumab-axgb) US prescribing information, Dosage and Administration "
    "(drugs.com label text)",
    "US prescribing information, version not stated in the transcription",
)
HCP = Source(
    "LUNSUMIO US prescribing information, premedication and CRS tables as reproduced on "
    "lunsumio-hcp.com",
    "US prescribing information, version not stated",
)

_IV = "intravenous infusion"

SCHEDULE = Schedule(
    id="fl",
    name="Step-up 1 and 2 mg, 60 mg on cycle 1 day 15 and cycle 2 day 1, then 30 mg",
    indication="relapsed or refractory follicular lymphoma",
    period="cycle",
    period_days=21,
    rows=(
        DoseRow(
            1, 1, (1,), 1.0, "mg", "step-up dose 1", "step_up", infusion=_IV, step_up_schedule=True
        ),
        DoseRow(
            1, 1, (8,), 2.0, "mg", "step-up dose 2", "step_up", infusion=_IV, step_up_schedule=True
        ),
        DoseRow(
            1,
            1,
            (15,),
            60.0,
            "mg",
            "first treatment dose",
            "treatment",
            infusion=_IV,
            step_up_schedule=True,
        ),
        DoseRow(2, 2, (1,), 60.0, "mg", "treatment dose", "treatment", infusion=_IV),
        DoseRow(3, None, (1,), 30.0, "mg", "treatment dose", "treatment", infusion=_IV),
    ),
    source=LABEL,
    max_periods=17,
    max_periods_note="17 cycles in total, or 8 cycles for a complete response",
    switches=(
        SwitchRule(
            "stop after 8 cycles for a complete response; otherwise 17 cycles in total",
            "8 cycles if CR, otherwise 17 total",
            LABEL,
        ),
    ),
)

_CYCLES_1_2 = (
    "every dose of cycles 1 and 2; from cycle 3 after CRS of any grade with the previous dose"
)

PRODUCT = Product(
    id="mosunetuzumab",
    brand="LUNSUMIO",
    target="CD20 x CD3",
    disease="follicular lymphoma",
    label=LABEL,
    schedules=(SCHEDULE,),
    premedications=(
        LabelPremedication(
            "dexamethasone or methylprednisolone",
            "dexamethasone 20 mg IV or methylprednisolone 80 mg IV",
            "completed at least 1 hour before the dose",
            "periods_1_2",
            _CYCLES_1_2,
            "Dexamethasone 20 mg IV or methylprednisolone 80 mg IV | Complete at least 1 hour "
            "prior",
            HCP,
            items=("dexamethasone", "methylprednisolone"),
            after_crs=True,
        ),
        LabelPremedication(
            "diphenhydramine",
            "50-100 mg",
            "at least 30 minutes before the dose",
            "periods_1_2",
            _CYCLES_1_2,
            "Diphenhydramine hydrochloride 50-100 mg ... At least 30 minutes prior",
            HCP,
            items=("antihistamine",),
            after_crs=True,
        ),
        LabelPremedication(
            "acetaminophen",
            "500-1000 mg orally",
            None,
            "periods_1_2",
            _CYCLES_1_2,
            "Oral acetaminophen (500-1000 mg)",
            HCP,
            items=("antipyretic",),
            after_crs=True,
        ),
    ),
    actions=(),
    grading_note=(
        "The LUNSUMIO CRS tables grade 'based on ASTCT 2019' but define low-flow oxygen as "
        "< 6 L/min and high-flow oxygen as >= 6 L/min (ASTCT 2019: <= 6 and > 6): oxygen at "
        "exactly 6 L/min is grade 3 by the label and grade 2 by ASTCT 2019 (lunsumio-hcp.com, "
        "CRS table footnote)."
    ),
    high_flow_from_l_min=6.0,
    unverified=(
        Unverified(
            "CRS actions per grade",
            "The actions of the label's CRS table (rows include 'Recurrent Grade 2 CRS' and "
            "'Recurrent Grade 3 CRS') were NOT captured.",
        ),
        Unverified("hospitalization", "The label's hospitalization wording was NOT FOUND."),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed dose were NOT FOUND.",
        ),
    ),
)
