"""Helpers: screen a few events, read one column of the screen frame."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from crswatch.hlh import (
    HLHParameters,
    HLHScreens,
    SupplementaryFindings,
    screen_frame,
    screen_timelines,
)
from crswatch.timeline import to_frames
from tests.builders import at, timeline


def screens(
    events: list[dict[str, Any]],
    when: float | datetime | None = None,
    params: HLHParameters | None = None,
    findings: SupplementaryFindings | None = None,
    **patient: Any,
) -> HLHScreens:
    moment = at(when) if isinstance(when, int | float) else when
    return screen_timelines([timeline(events, **patient)], moment, params, findings)[0]


def column(
    events: list[dict[str, Any]],
    name: str,
    when: float,
    params: HLHParameters | None = None,
    **patient: Any,
) -> Any:
    patients, frame = to_frames([timeline(events, **patient)])
    times = pl.DataFrame(
        {"patient_id": ["P"], "at": [at(when)]},
        schema={"patient_id": pl.String(), "at": pl.Datetime("us", "UTC")},
    )
    return screen_frame(patients, frame, times, params)[name][0]
