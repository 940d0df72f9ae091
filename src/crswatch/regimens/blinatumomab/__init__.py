"""Blinatumomab (BLINCYTO): regimens and plans, premedication, and the status state machine.

Rules are data (``RULES``, each with its source, label versions and verification tag); the
label version is a parameter (``LABEL_VERSIONS``: ``current``, ``2015``).  Decisions and
boundaries: docs/decisions/0013-blinatumomab.md.
"""

from crswatch.regimens.blinatumomab._applicability import (
    THERAPY_LABELS,
    blinatumomab_not_applicable,
)
from crswatch.regimens.blinatumomab._plan import (
    FIXED_DOSE_FROM_KG,
    REGIMENS,
    BlinatumomabPlan,
    CyclePlan,
    CycleSpec,
    Cytoreduction,
    Dose,
    DoseStep,
    PlannedSegment,
    Premedication,
    Regimen,
    assess_cytoreduction,
    body_surface_area,
    dose_for,
    plan_blinatumomab,
    premedications_due,
)
from crswatch.regimens.blinatumomab._rules import (
    LABEL_VERSIONS,
    RULES,
    SOURCES,
    LabelVersion,
    Rule,
    get_label_version,
    rule,
)
from crswatch.regimens.blinatumomab._status import (
    AdverseEvent,
    BlinatumomabStatus,
    Deviation,
    GradeCourse,
    GradePoint,
    Interruption,
    RuleAction,
    StatusParameters,
    blinatumomab_status,
    grade_courses,
)

__all__ = [
    "FIXED_DOSE_FROM_KG",
    "LABEL_VERSIONS",
    "REGIMENS",
    "RULES",
    "SOURCES",
    "THERAPY_LABELS",
    "AdverseEvent",
    "BlinatumomabPlan",
    "BlinatumomabStatus",
    "CyclePlan",
    "CycleSpec",
    "Cytoreduction",
    "Deviation",
    "Dose",
    "DoseStep",
    "GradeCourse",
    "GradePoint",
    "Interruption",
    "LabelVersion",
    "PlannedSegment",
    "Premedication",
    "Regimen",
    "Rule",
    "RuleAction",
    "StatusParameters",
    "assess_cytoreduction",
    "blinatumomab_not_applicable",
    "blinatumomab_status",
    "body_surface_area",
    "dose_for",
    "get_label_version",
    "grade_courses",
    "plan_blinatumomab",
    "premedications_due",
    "rule",
]
