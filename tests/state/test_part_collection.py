"""The state's parts give the same state however they are collected (decision 0081).

With more than one Polars thread each part runs on a thread of its own as soon as its plan is
built (the bedside, the API, a cohort worker alone on the machine); with one (a cohort worker
among as many workers as cores) they are built first and collected together.  Both must give
exactly the same rows and columns, at one time, at every change point, and for a subset of the
state's columns.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crswatch.scales import state_columns
from crswatch.scales._registry import CRS_SCALES
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, _engine, clinical_state, evaluation_times
from crswatch.timeline import to_frames


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    timelines = list(iter_cohort(6, seed=41, therapy="mixed", vitals_every=timedelta(minutes=30)))
    return to_frames(timelines)


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, compute: Callable[[], pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``compute()`` on the pooled path, then on Polars' one thread (``collect_all``)."""
    pools: list[str] = []
    part_pool = _engine._part_pool

    def counted() -> ThreadPoolExecutor:
        pools.append("pool")
        return part_pool()

    monkeypatch.setattr(_engine, "_part_pool", counted)
    monkeypatch.setattr(pl, "thread_pool_size", lambda: 2)
    pooled = compute()
    assert pools, "more than one Polars thread: the parts run on the pool"
    pools.clear()
    monkeypatch.setattr(pl, "thread_pool_size", lambda: 1)
    together = compute()
    assert not pools, "one Polars thread: the parts are collected together"
    return pooled, together


@pytest.mark.parametrize("at", ["last event", "change points"])
def test_pooled_and_one_thread_give_the_same_state(
    frames: tuple[pl.DataFrame, pl.DataFrame], monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    patients, events = frames
    if at == "last event":
        last = events.group_by("patient_id").agg(pl.col("time").max().alias("at"))
        times = patients.select("patient_id").join(last, on="patient_id")
    else:
        times = evaluation_times(events, patients)
    pooled, together = _both_ways(
        monkeypatch, lambda: clinical_state(patients, events, times, StateParameters())
    )
    assert pooled.height == times.select("patient_id", "at").unique().height
    assert_frame_equal(pooled, together)


def test_a_subset_of_columns_is_the_same_both_ways(
    frames: tuple[pl.DataFrame, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    patients, events = frames
    times = evaluation_times(events, patients)
    columns = state_columns([CRS_SCALES["astct2019"]])
    pooled, together = _both_ways(
        monkeypatch,
        lambda: clinical_state(patients, events, times, StateParameters(), columns=columns),
    )
    assert_frame_equal(pooled, together)
    # ASTCT alone builds no organ or neurological part.
    assert not any(name.startswith(("organ_tox_", "ice_")) for name in pooled.columns)
