"""HLH/MAS screens after T-cell engaging therapy: HLH-2004, HScore, carHLH and IEC-HS.

Each screen module holds its criteria as data (threshold, operator as published, source,
verification tag) and a ``decide`` step; the inputs are the worst values in a documented window,
computed by one vectorized Polars plan (:func:`screen_frame`).  Results are
:class:`ScreenResult` values with ``met``/``not_met``/``not_assessable``, the evidence behind every
criterion and the inputs that were missing.  Decisions: docs/decisions/0011-hlh-screens.md.
"""

from crswatch.hlh._api import (
    SCREENS,
    ScreenCourse,
    hlh_flags,
    screen_course,
    screen_frame,
    screen_results,
    screen_statuses,
    screen_timelines,
)
from crswatch.hlh._inputs import SCREEN_ITEMS, screen_change_points, screen_inputs
from crswatch.hlh._params import HLHParameters, IECHSTemporalRule, SupplementaryFindings
from crswatch.hlh._result import (
    SCREEN_SCHEMA,
    SCREENS_SCHEMA,
    CriterionOutcome,
    HLHScreens,
    Observation,
    ScreenResult,
    ScreenStatus,
)

__all__ = [
    "SCREENS",
    "SCREENS_SCHEMA",
    "SCREEN_ITEMS",
    "SCREEN_SCHEMA",
    "CriterionOutcome",
    "HLHParameters",
    "HLHScreens",
    "IECHSTemporalRule",
    "Observation",
    "ScreenCourse",
    "ScreenResult",
    "ScreenStatus",
    "SupplementaryFindings",
    "hlh_flags",
    "screen_change_points",
    "screen_course",
    "screen_frame",
    "screen_inputs",
    "screen_results",
    "screen_statuses",
    "screen_timelines",
]
