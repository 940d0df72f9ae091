"""Timelines as Polars frames for the vectorized engines."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from crswatch.io import read_json_document
from crswatch.timeline import EVENT_FRAME_SCHEMA, to_frames
from tests.conftest import with_event


def test_frames_split_values_by_type_and_sort_by_patient_and_time(document: dict[str, Any]) -> None:
    with_event(document, item="splenomegaly", value=True)
    with_event(
        document,
        time="2024-03-02T07:00:00Z",
        item="temperature",
        value=39.0,
        unit="Cel",
        cause="other",
    )
    timeline = read_json_document(document, "x").timelines[0]
    patients, events = to_frames([timeline])
    assert patients.row(0, named=True)["bsa_m2"] == math.sqrt(165 * 68 / 3600)
    assert dict(events.schema) == EVENT_FRAME_SCHEMA
    assert events.height == 11
    assert events["time"].is_sorted()
    device = events.filter(pl.col("item") == "o2_device").row(0, named=True)
    assert (device["value_code"], device["value_num"]) == ("nasal_cannula", None)
    spleen = events.filter(pl.col("item") == "splenomegaly").row(0, named=True)
    assert (spleen["value_bool"], spleen["value_num"]) == (True, None)
    fever = events.filter(pl.col("item") == "temperature").sort("time")
    assert fever["attributable"].to_list() == [False, True]
    assert fever["value_num"].to_list() == [39.0, 38.7]
