"""Talquetamab (TALVEY, talquetamab-tgvs), GPRC5D x CD3, multiple myeloma: the US label as verified.

Verified (criteria-verification.md §5, US label text): the weekly schedule (0.01 and 0.06
mg/kg step-up doses on days 1 and 4, 0.4 mg/kg from day 7, then weekly) and the biweekly
schedule (0.01, 0.06 and 0.4 mg/kg on days 1, 4 and 7, 0.8 mg/kg from day 10, then every 2
weeks), and hospitalization for 48 hours after all doses within the step-up dosing schedule.
NOT FOUND: the CRS and ICANS tables, premedication, restart rules after delays.  The EU SmPC
uses other days (1, 3, 5 and 7) and is not mixed in.
"""

from __future__ import annotations

from crswatch.regimens.bispecifics._model import (
    DoseRow,
    Monitoring,
    Product,
    Schedule,
    Source,
    Unverified,
)

__all__ = ["PRODUCT"]

LABEL = Source(
    "TALVEY (talquetamab-tgvs) US prescribing information, Dosage and Administration, "
    "recommended dosing schedules (US label text, themeditary.com transcription)",
    "US prescribing information, version not stated in the transcription",
)

_HOSPITAL = Monitoring(
    48.0,
    "hospital",
    "patients should be hospitalized for 48 hours after administration of all doses within "
    "the TALVEY step-up dosing schedule",
    LABEL,
)


def _step(period: int, day: int, mg_per_kg: float, name: str, step_up: bool) -> DoseRow:
    return DoseRow(
        period,
        period,
        (day,),
        mg_per_kg,
        "mg/kg",
        name,
        "step_up" if step_up else "treatment",
        monitoring=_HOSPITAL,
        step_up_schedule=True,
        infusion="subcutaneous injection",
    )


WEEKLY = Schedule(
    id="weekly",
    name="0.4 mg/kg once weekly after step-up doses of 0.01 and 0.06 mg/kg",
    indication="relapsed or refractory multiple myeloma (weekly dosing)",
    period="week",
    period_days=7,
    rows=(
        _step(1, 1, 0.01, "step-up dose 1", True),
        _step(1, 4, 0.06, "step-up dose 2", True),
        _step(1, 7, 0.4, "first treatment dose", False),
        DoseRow(2, None, (7,), 0.4, "mg/kg", "treatment dose (weekly)", "treatment"),
    ),
    source=LABEL,
)

BIWEEKLY = Schedule(
    id="biweekly",
    name="0.8 mg/kg every 2 weeks after step-up doses of 0.01, 0.06 and 0.4 mg/kg",
    indication="relapsed or refractory multiple myeloma (every-2-week dosing)",
    period="week",
    period_days=7,
    rows=(
        _step(1, 1, 0.01, "step-up dose 1", True),
        _step(1, 4, 0.06, "step-up dose 2", True),
        _step(1, 7, 0.4, "step-up dose 3", True),
        _step(2, 3, 0.8, "first treatment dose", False),
        DoseRow(
            4, None, (3,), 0.8, "mg/kg", "treatment dose (every 2 weeks)", "treatment", every=2
        ),
    ),
    source=LABEL,
)

PRODUCT = Product(
    id="talquetamab",
    brand="TALVEY",
    target="GPRC5D x CD3",
    disease="multiple myeloma",
    label=LABEL,
    schedules=(WEEKLY, BIWEEKLY),
    premedications=(),
    actions=(),
    general=(
        "Boxed warning: withhold until CRS resolves or permanently discontinue based on "
        "severity (TALVEY US prescribing information, openFDA).",
    ),
    unverified=(
        Unverified("CRS actions per grade", "The label's CRS table was NOT FOUND."),
        Unverified("ICANS actions per grade", "The label's ICANS table was NOT FOUND."),
        Unverified("premedication", "The pretreatment medicines and doses were NOT FOUND."),
        Unverified(
            "missed or delayed doses",
            "Restart rules after a delayed or missed dose were NOT FOUND.",
        ),
    ),
)
