"""Elranatamab (ELREXFIO, elranatamab-bcmm), BCMA x CD3, multiple myeloma: the US label as verified.

Verified (criteria-verification.md §5): step-up doses of 12 mg (day 1) and 32 mg (day 4), the
first treatment dose of 76 mg on day 8, 76 mg weekly through week 24, then every 2 weeks for
responders and every 4 weeks after 24 weeks at every-2-week dosing; hospitalization for 48
hours after step-up dose 1 and 24 hours after step-up dose 2; the CRS actions for grades 1-2
and the first-occurrence grade 3 heading (its text truncated).  NOT FOUND: recurrent grade 3
and grade 4 CRS rows, premedication doses, the ICANS table, restart rules after delays, and the
dosing after week 24 for patients without a response.
"""

from __future__ import annotations

from crswatch.regimens.bispecifics._model import (
    CrsAction,
    DoseRow,
    Monitoring,
    Product,
    Schedule,
    Source,
    SwitchRule,
    Unverified,
)

__all__ = ["PRODUCT"]

LABEL = Source(
    "ELREXFIO (elranatamab-bcmm) US prescribing information, Dosage and Administration "
    "(FDA label text via rxreasoner, revision year 2023)",
    "US prescribing information, revision 2023",
)
LABEL_NEWER = Source(
    "ELREXFIO US prescribing information, newer revision (prescriberpoint transcription)",
    "US prescribing information after 2023",
)
CRS_TABLE = Source(
    "ELREXFIO US prescribing information, CRS dose-modification table, as reproduced in "
    "Pfizer's 'Adverse Reaction Management' guide",
    "US prescribing information, revision 2023",
)

_QUOTE_STAY = (
    "Due to the risk of CRS, patients should be hospitalized for 48 hours after administration "
    "of the first step-up dose, and for 24 hours after administration of the second step-up dose."
)

WEEKLY = Schedule(
    id="weekly",
    name="Step-up 12 and 32 mg, then 76 mg weekly through week 24",
    indication="relapsed or refractory multiple myeloma",
    period="week",
    period_days=7,
    rows=(
        DoseRow(
            1,
            1,
            (1,),
            12.0,
            "mg",
            "step-up dose 1",
            "step_up",
            monitoring=Monitoring(48.0, "hospital", _QUOTE_STAY, LABEL),
            step_up_schedule=True,
            infusion="subcutaneous injection",
        ),
        DoseRow(
            1,
            1,
            (4,),
            32.0,
            "mg",
            "step-up dose 2",
            "step_up",
            monitoring=Monitoring(24.0, "hospital", _QUOTE_STAY, LABEL),
            step_up_schedule=True,
            infusion="subcutaneous injection",
        ),
        DoseRow(
            2,
            2,
            (1,),
            76.0,
            "mg",
            "first treatment dose",
            "treatment",
            step_up_schedule=True,
            infusion="subcutaneous injection",
        ),
        DoseRow(3, 24, (1,), 76.0, "mg", "treatment dose (weekly)", "treatment"),
    ),
    source=LABEL,
    max_periods=24,
    continues_after_max=True,
    max_periods_note=(
        "weekly through week 24; afterwards every 2 weeks for responders (see the switch "
        "rules); dosing after week 24 without a response was not verified"
    ),
    switches=(
        SwitchRule(
            "every 2 weeks from week 25 for a partial response or better maintained for at "
            "least 2 months",
            "step-up dose 1 of 12 mg on Day 1, step-up dose 2 of 32 mg on Day 4, followed by the "
            "first treatment dose of 76 mg on Day 8, and then 76 mg weekly thereafter through "
            "week 24; responders (PR) or better ... maintained ... at least 2 months transition "
            "to every 2 weeks",
            LABEL,
        ),
        SwitchRule(
            "every 4 weeks after at least 24 weeks of every-2-week dosing with a maintained "
            "response",
            "transition to an every four-week schedule",
            LABEL_NEWER,
        ),
    ),
)

_WITHHOLD = "Withhold elranatamab until CRS resolves."

PRODUCT = Product(
    id="elranatamab",
    brand="ELREXFIO",
    target="BCMA x CD3",
    disease="multiple myeloma",
    label=LABEL,
    schedules=(WEEKLY,),
    premedications=(),
    actions=(
        CrsAction(
            "crs",
            1,
            (_WITHHOLD, "Administer pretreatment medications before the next dose."),
            "Grade 1, Temperature ≥100.4°F (38°C): Withhold ELREXFIO until CRS resolves. "
            "Administer pretreatment medications before the next dose",
            CRS_TABLE,
            next_dose_note="administer pretreatment medications before the next dose",
        ),
        CrsAction(
            "crs",
            2,
            (
                _WITHHOLD,
                "Monitor daily for 48 hours following the next dose; consider hospitalization.",
            ),
            "Grade 2 ... Hypotension responsive to fluid and not requiring vasopressors, and/or "
            "Oxygen requirement of low-flow nasal cannula or blow-by: Withhold ... until CRS "
            "resolves. Monitor patients daily for 48 hours following the next dose ... consider "
            "hospitalization",
            CRS_TABLE,
            complete=False,
            next_dose_note=(
                "monitor daily for 48 hours following the next dose; consider hospitalization"
            ),
        ),
        CrsAction(
            "crs",
            3,
            (_WITHHOLD, "The rest of the label's grade 3 action was not captured."),
            "Grade 3 (first occurrence), Hypotension requiring one vasopressor with or without "
            "vasopressin, and/or ... high-flow nasal cannula, facemask, non-rebreather mask, or "
            "Venturi mask: Withhold ... until CRS resolves. Provide ... (truncated)",
            CRS_TABLE,
            complete=False,
            occurrence="first",
        ),
    ),
    unverified=(
        Unverified(
            "CRS grade 3 recurrent and grade 4",
            "These rows of the label's CRS table were NOT FOUND.",
        ),
        Unverified("premedication", "The pretreatment medicines and doses were NOT FOUND."),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed step-up dose were NOT FOUND.",
        ),
        Unverified(
            "dosing after week 24 without a response",
            "The label text seen covers responders only.",
        ),
    ),
)
