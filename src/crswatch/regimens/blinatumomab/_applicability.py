"""Whether the blinatumomab rules apply to a record at all (issue 15, point 8).

A patient on CAR T (or any other therapy) with no blinatumomab infusion recorded has no
blinatumomab course: its status is "not applicable", never "not started ... dose due 9 µg/day".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crswatch.timeline import Timeline, format_time

__all__ = ["THERAPY_LABELS", "blinatumomab_not_applicable"]

#: Therapy kinds (``crswatch.timeline/1``) by their clinical names.
THERAPY_LABELS: dict[str, str] = {
    "car_t": "CAR T",
    "bispecific": "bispecific antibody",
    "blinatumomab": "blinatumomab",
    "tcr_t": "TCR T-cell therapy",
    "other": "other therapy",
}


def blinatumomab_not_applicable(
    timeline: Timeline, at: datetime | None = None
) -> dict[str, Any] | None:
    """The "not applicable" status of a record without blinatumomab, or None when it applies.

    The rules apply when the therapy is blinatumomab or any blinatumomab infusion is recorded.
    """
    therapy = timeline.patient.therapy
    if therapy.kind == "blinatumomab" or any(True for _ in timeline.of("blinatumomab")):
        return None
    moment = at or (timeline.events[-1].time if timeline.events else therapy.start)
    label = THERAPY_LABELS.get(therapy.kind, therapy.kind.replace("_", " "))
    return {
        "schema": "crswatch.blinatumomab-status/1",
        "patient_id": timeline.patient.id,
        "at": format_time(moment),
        "state": "not_applicable",
        "applicable": False,
        "therapy": therapy.kind,
        "therapy_label": label,
        "text": f"not applicable (therapy: {label})",
    }
