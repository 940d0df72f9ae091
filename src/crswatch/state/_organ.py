"""Organ toxicity grades (CTCAE v4.03 and v5.0) from laboratory results (in progress)."""

from __future__ import annotations

import polars as pl

from crswatch.state._common import KEYS
from crswatch.state._parameters import StateParameters

__all__ = ["organ_state"]


def organ_state(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    return times.select(KEYS)
