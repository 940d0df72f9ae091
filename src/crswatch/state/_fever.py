"""Fever, CRS onset and the ASTCT fever waiver.

- ``temp_max_c``: the highest *attributable* temperature in ``[T - fever_window, T]``
  (``cause: other`` excludes a fever documented as due to something else, ASTCT 2019: "not
  attributable to any other cause"); ``fever`` is ``temp_max_c >= 38.0`` (null when no
  temperature was measured in the window: missing is not normal).
- ``onset_at``: the first attributable fever at or after the therapy start, if at or before T.
- ``waiver_at``: the first anti-cytokine (tocilizumab, siltuximab, anakinra) or corticosteroid
  dose given at or after onset and at or before T; antipyretics count only when
  ``antipyretics_waive_fever`` is set (discrepancy register D2).  ASTCT 2019 fever footnote: "In
  patients who have CRS then receive antipyretic or anticytokine therapy such as tocilizumab or
  steroids, fever is no longer required to grade subsequent CRS severity."  Doses given before
  onset (premedication) do not waive fever; any indication counts (the drug masks fever whatever
  it was given for).
"""

from __future__ import annotations

import polars as pl

from crswatch.state._common import KEYS, event_ref, window_extreme
from crswatch.state._parameters import StateParameters

__all__ = ["ANTI_CYTOKINE", "CORTICOSTEROIDS", "fever_state"]

ANTI_CYTOKINE = ("tocilizumab", "siltuximab", "anakinra")
CORTICOSTEROIDS = ("dexamethasone", "methylprednisolone", "hydrocortisone", "prednisone")


def fever_state(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    out = window_extreme(
        times, events, ("temperature",), params.fever_window, "temp_max_c", "max"
    ).with_columns(fever=pl.col("temp_max_c") >= params.fever_threshold_c)

    onset = (
        events.filter(
            (pl.col("item") == "temperature")
            & pl.col("attributable")
            & (pl.col("value_num") >= params.fever_threshold_c)
        )
        .join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .filter(pl.col("time") >= pl.col("therapy_start"))
        .with_columns(ref=event_ref())
        .sort("time")
        .group_by("patient_id")
        .agg(pl.col("time").first().alias("_onset"), pl.col("ref").first().alias("_onset_ref"))
    )
    waiving: tuple[str, ...] = ANTI_CYTOKINE + CORTICOSTEROIDS
    if params.antipyretics_waive_fever:
        waiving += ("antipyretic",)
    waiver = (
        events.filter(pl.col("item").is_in(waiving))
        .join(onset, on="patient_id")
        .filter(pl.col("time") >= pl.col("_onset"))
        .with_columns(ref=event_ref())
        .sort("time")
        .group_by("patient_id")
        .agg(pl.col("time").first().alias("_waiver"), pl.col("ref").first().alias("_waiver_ref"))
    )
    return (
        out.join(onset, on="patient_id", how="left")
        .join(waiver, on="patient_id", how="left")
        .with_columns(
            onset_at=pl.when(pl.col("_onset") <= pl.col("at")).then(pl.col("_onset")),
            onset_ref=pl.when(pl.col("_onset") <= pl.col("at")).then(pl.col("_onset_ref")),
            waiver_at=pl.when(pl.col("_waiver") <= pl.col("at")).then(pl.col("_waiver")),
            waiver_ref=pl.when(pl.col("_waiver") <= pl.col("at")).then(pl.col("_waiver_ref")),
        )
        .with_columns(fever_waived=pl.col("waiver_at").is_not_null())
        .drop("_onset", "_onset_ref", "_waiver", "_waiver_ref")
        .select(KEYS + [c for c in _COLUMNS])
    )


_COLUMNS = (
    "temp_max_c",
    "temp_max_c_ref",
    "temp_max_c_n",
    "fever",
    "onset_at",
    "onset_ref",
    "waiver_at",
    "waiver_ref",
    "fever_waived",
)
