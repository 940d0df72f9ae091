"""The clinical state at evaluation times: one vectorized computation for one patient or many.

``clinical_state(patients, events, times)`` takes the frames of
:func:`crswatch.timeline.to_frames` and a ``(patient_id, at)`` table and returns one row per
evaluation time with every column the scales read.  The same Polars plan runs on a one-patient
table at the bedside and on a shard of a cohort; there is no second implementation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import polars as pl

from crswatch.state._changes import (
    age_instants,
    change_points,
    state_events,
    windowed_items,
    within_horizon,
)
from crswatch.state._common import (
    KEYS,
    in_memory,
    in_patient_order,
    integer_keys,
    latest_at,
    window_any,
    with_ids,
    with_keys,
)
from crswatch.state._fever import CrsEpisodes, crs_episodes, fever_state
from crswatch.state._hemodynamics import PRESSORS, hemodynamic_state, pressor_hours_crossings
from crswatch.state._neuro import neuro_state
from crswatch.state._organ import organ_points, organ_state
from crswatch.state._parameters import StateParameters
from crswatch.state._respiratory import respiratory_state
from crswatch.timeline import Timeline, to_frames

_V = TypeVar("_V")

__all__ = [
    "PreparedState",
    "clinical_state",
    "evaluation_times",
    "prepare_state",
    "prepared_state_at",
    "state_of",
    "states_over_time",
]

_COAGULOPATHY_PRODUCTS = ("ffp", "cryoprecipitate", "fibrinogen_concentrate")


def _misc_state(times: pl.LazyFrame, events: pl.LazyFrame, params: StateParameters) -> pl.LazyFrame:
    keyed = times.select(KEYS)
    transfusion = window_any(
        keyed,
        events,
        ("transfusion",),
        params.transfusion_window,
        "coagulopathy_transfusions",
        codes=_COAGULOPATHY_PRODUCTS,
    )
    death = latest_at(keyed, events, ("death",), "value_bool", "death", attributable_only=False)
    death_cause = (
        events.filter((pl.col("item") == "death") & pl.col("value_bool"))
        .select(
            "patient_id", pl.col("time").alias("death_time"), pl.col("attributable").alias("_attr")
        )
        .sort("death_time")
    )
    return (
        transfusion.join(death.select([*KEYS, "death", "death_ref"]), on=KEYS, how="left")
        .sort("at")
        .join_asof(
            death_cause,
            left_on="at",
            right_on="death_time",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(
            death=pl.col("death").fill_null(False),
            death_attributable=pl.col("death").fill_null(False) & pl.col("_attr").fill_null(False),
        )
        .drop("_attr", "death_time")
    )


def clinical_state(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    times: pl.DataFrame,
    params: StateParameters | None = None,
    *,
    columns: Collection[str] | None = None,
) -> pl.DataFrame:
    """The clinical state at each ``(patient_id, at)`` of ``times``, sorted by patient and time.

    ``columns``: only the parts of the state that give one of these columns are built (the
    scales' ``state_columns``); default: every part.
    """
    with in_memory():
        patients, events, ids = integer_keys(patients, events, times["patient_id"])
        events = in_patient_order(events)
        state = _clinical_state(
            patients, events, with_keys(times, ids), params or StateParameters(), columns
        )
        return with_ids(state, ids)


@dataclass(frozen=True, slots=True)
class PreparedState:
    """What the state at any time reads of a record and no evaluation time changes.

    The bedside asks one record for its state at many times (an API client's ``at``, a
    timeline scrubbed): the patient keys, the order check, the state's events and the CRS
    episodes (every temperature and SBP reading since the therapy start classed as a sign of
    CRS or not) are the same at every time, so they are computed once per stored version
    (about a seventh of a month-long record's state at one time, docs/decisions/0071).
    """

    #: Keyed by ``integer_keys``, in patient order.
    patients: pl.DataFrame
    events: pl.DataFrame
    ids: pl.Series
    #: ``state_events(events)``: the vital signs no state column reads left out.
    read: pl.DataFrame
    episodes: CrsEpisodes
    params: StateParameters
    #: ``organ_points`` of the record (the organ state at its own change points), made the
    #: first time a state with an organ column is asked for: ASTCT alone never builds it.
    organ: _Once[pl.DataFrame] = field(default_factory=lambda: _Once())

    def organ_points(self) -> pl.DataFrame:
        return self.organ.get(
            lambda: organ_points(self.read.lazy(), self.patients.lazy(), self.params).collect()
        )


class _Once(Generic[_V]):
    """A value made on first use, once across threads (a prepared record is shared by the
    server's threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: _V | None = None

    def get(self, make: Callable[[], _V]) -> _V:
        with self._lock:
            if self._value is None:
                self._value = make()
            return self._value


def prepare_state(
    patients: pl.DataFrame, events: pl.DataFrame, params: StateParameters | None = None
) -> PreparedState:
    """:class:`PreparedState` of the frames: then :func:`prepared_state_at` at any times."""
    params = params or StateParameters()
    with in_memory():
        # Keyed first: the order is then checked on integers (the keys keep the ids' order).
        patients, events, ids = integer_keys(patients, events)
        events = in_patient_order(events)
        read = state_events(events)
        episodes = crs_episodes(read.lazy(), patients.lazy(), params)
    return PreparedState(patients, events, ids, read, episodes, params)


def prepared_state_at(
    prepared: PreparedState, times: pl.DataFrame, *, columns: Collection[str] | None = None
) -> pl.DataFrame:
    """``clinical_state(patients, events, times, params, columns=)`` of the prepared frames.

    The same rows (tests/state/test_prepared_state.py); every patient of ``times`` must be one
    of the prepared patients.
    """
    unknown = set(times["patient_id"].unique().to_list()) - set(prepared.ids.to_list())
    if unknown:
        raise ValueError(f"times name patients not prepared: {sorted(unknown)}")
    with in_memory():
        state = _clinical_state(
            prepared.patients,
            prepared.events,
            with_keys(times, prepared.ids),
            prepared.params,
            columns,
            read=prepared.read,
            episodes=prepared.episodes,
            organ=prepared.organ_points,
        )
    return with_ids(state, prepared.ids)


def _clinical_state(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    times: pl.DataFrame,
    params: StateParameters,
    columns: Collection[str] | None,
    *,
    read: pl.DataFrame | None = None,
    episodes: CrsEpisodes | None = None,
    organ: Callable[[], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """``read`` (``state_events``), ``episodes`` (``crs_episodes``) and ``organ`` (what gives
    ``organ_points``): when the caller has them."""
    patients_lf = patients.lazy()
    # Vital signs no state column reads are most of a monitored record's events: left out here
    # rather than filtered again by every part.
    events_lf = (state_events(events) if read is None else read).lazy()
    times_lf = (
        times.lazy().select("patient_id", pl.col("at").cast(pl.Datetime("us", "UTC"))).unique()
    )
    builders: dict[str, Callable[[], pl.LazyFrame]] = {
        "fever": lambda: fever_state(times_lf, events_lf, patients_lf, params, episodes),
        "hemodynamics": lambda: hemodynamic_state(times_lf, events_lf, patients_lf, params),
        "respiratory": lambda: respiratory_state(times_lf, events_lf, params),
        "organ": lambda: organ_state(
            times_lf, events_lf, patients_lf, params, None if organ is None else organ()
        ),
        "misc": lambda: _misc_state(times_lf, events_lf, params),
        "neuro": lambda: neuro_state(times_lf, events_lf, patients_lf, params),
    }
    chosen = list(builders)
    if columns is not None:
        wanted = set(columns)
        chosen = [name for name in chosen if wanted & _part_columns(name, builders[name], params)]
    # Each part is collected on its own (in parallel) and then joined: Polars plans the six
    # parts joined in one lazy query about 1.5x slower on a 100-patient shard with 5-minute
    # vital signs (docs/benchmarks.md), with identical results.
    state = times_lf
    for part in _collected(builders, chosen):
        state = state.join(part.lazy(), on=KEYS, how="left")
    # The parts joined in one query run as written, not in one eager step each: joins of a few
    # rows whose planning cost more than their work at one time (decision 0074).
    state = state.join(_record_bounds(patients, events), on="patient_id", how="left").sort(KEYS)
    return state.collect(optimizations=pl.QueryOptFlags.none())


def _collected(
    builders: Mapping[str, Callable[[], pl.LazyFrame]], chosen: list[str]
) -> list[pl.DataFrame]:
    """The chosen parts built and collected, in ``chosen`` order.

    With more than one Polars thread, each part starts running as soon as its plan is built,
    the longest-running first, so that the later parts' plans (Python, a few milliseconds each
    at the bedside) are built while the first ones run (decision 0081).  With one (a cohort
    worker among as many workers as cores, ``crswatch._runtime``), the parts are built first and
    then collected together, as Polars' one thread runs them: parts running beside each other
    on threads of their own would take more than the worker's share of the cores.
    """
    if pl.thread_pool_size() < 2:
        return pl.collect_all([builders[name]() for name in chosen])
    pool = _part_pool()
    running = {
        name: pool.submit(builders[name]().collect)
        for name in sorted(chosen, key=_LAUNCH_ORDER.index)
    }
    return [running[name].result() for name in chosen]


#: The order in which the parts start: the ones whose plans run longest at the bedside first
#: (the organ state's lab course, the pressor course and the neurological state, about 10–15 ms
#: each for the benchmark patient), the fever part last, since without prepared CRS episodes its
#: plan is built from an eager step of its own (decision 0081).
_LAUNCH_ORDER = ("organ", "hemodynamics", "neuro", "respiratory", "misc", "fever")

_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _part_pool() -> ThreadPoolExecutor:
    """The threads that collect the state's parts, one per part, made once per process.

    Polars releases the GIL while a plan runs, so a part runs while the calling thread builds
    the next.  Made again in a process forked after it was made (a fork keeps no threads).
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            pool = ThreadPoolExecutor(len(_LAUNCH_ORDER), thread_name_prefix="crswatch-state")
            _POOL = (os.getpid(), pool)
        return _POOL[1]


#: The columns each part of the state gives, by part and parameters: known from a part's plan
#: (its schema), found once per process, so a part no chosen scale reads is not even built.
_PART_COLUMNS: dict[tuple[str, str], frozenset[str]] = {}


def _part_columns(
    name: str, build: Callable[[], pl.LazyFrame], params: StateParameters
) -> frozenset[str]:
    key = (name, repr(params))
    if key not in _PART_COLUMNS:
        _PART_COLUMNS[key] = frozenset(build().collect_schema().names()) - set(KEYS)
    return _PART_COLUMNS[key]


def _record_bounds(patients: pl.DataFrame, events: pl.DataFrame) -> pl.LazyFrame:
    """``therapy_start`` and ``first_event_at`` (null: no event) per patient.

    A time before them is before the record: the grading API says so in its warnings.
    """
    first = events.lazy().group_by("patient_id").agg(pl.col("time").min().alias("first_event_at"))
    return (
        patients.lazy()
        .select("patient_id", "therapy_start")
        .join(first, on="patient_id", how="left")
    )


#: A window closed at both ends still holds a reading at ``time + window``: the state without
#: it is evaluated this much later (and reported at ``time + window``, see ``evaluation_times``).
EXPIRY_TICK = timedelta(microseconds=1)


def _horizon(events: pl.DataFrame, patients: pl.DataFrame, until: datetime | None) -> pl.DataFrame:
    """Per patient, the last time evaluated: ``until``, else the record's end.

    The record ends at its last event (an infusion without an ``end`` runs until then, no
    further; an ``end`` after the last event is not evaluated), or at the therapy start if that
    is later (a record with no event after it).
    """
    if until is not None:
        moment = pl.lit(until).cast(pl.Datetime("us", "UTC"))
        return patients.select("patient_id", moment.alias("_until"))
    last = events.group_by("patient_id").agg(pl.col("time").max().alias("_last"))
    return (
        patients.select("patient_id", "therapy_start")
        .join(last, on="patient_id", how="left")
        .select("patient_id", pl.max_horizontal("_last", "therapy_start").alias("_until"))
    )


def evaluation_times(
    events: pl.DataFrame,
    patients: pl.DataFrame,
    params: StateParameters | None = None,
    *,
    every: timedelta | None = None,
    until: datetime | None = None,
    exhaustive: bool = False,
    thresholds: Mapping[str, Iterable[float]] | None = None,
) -> pl.DataFrame:
    """The instants at which a graded input can change, or a regular grid ``every`` apart.

    By default only change points (crswatch.state._changes, issue #16): the instants where
    something a scale reads through a threshold or a window can change — window islands of the
    dense vital signs, every time, end and window expiry of the other items the state reads, the
    CRS episode's instants, ``high_dose_duration`` after each vasopressor change, the cumulative
    vasopressor hours a scale grades by (MSKCC's 24 h), the therapy start and birthdays.
    ``thresholds`` adds the scales' thresholds per dense item (``{"temperature": (38.0,)}``).
    ``exhaustive`` evaluates at every event time and end and every window expiry instead (a
    trajectory with every row; the reference the change points are tested against).  The grid
    runs from each patient's first event (or therapy start), aligned to the therapy start.
    Nothing is evaluated after ``until`` (default: the record's end, its last event; timeline
    contract §5), so a running infusion or a window expiring later is not carried past the
    record.

    Columns: ``patient_id``, ``at`` (the instant evaluated) and ``reported_at``, the time a
    change there is reported at: the event time, or ``time + window`` for a reading leaving its
    window (evaluated ``EXPIRY_TICK`` later, when the window closed at both ends no longer holds
    it), so no reported time carries an artificial offset (docs/decisions/0030).
    """
    params = params or StateParameters()
    with in_memory():
        events = in_patient_order(events)
        return _times(events, patients, params, until, every, exhaustive, thresholds)


def _times(
    events: pl.DataFrame,
    patients: pl.DataFrame,
    params: StateParameters,
    until: datetime | None,
    every: timedelta | None,
    exhaustive: bool,
    thresholds: Mapping[str, Iterable[float]] | None,
    *,
    read: pl.DataFrame | None = None,
    episodes: CrsEpisodes | None = None,
) -> pl.DataFrame:
    horizon = _horizon(events, patients, until)
    if every is not None:
        return _grid(events, patients, horizon, every)
    if not exhaustive:
        return change_points(
            events,
            patients,
            params,
            horizon,
            thresholds=thresholds,
            tick=EXPIRY_TICK,
            episodes=episodes,
            read=read,
        )
    return _every_event(events, patients, params, horizon)


def states_over_time(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    params: StateParameters | None = None,
    *,
    every: timedelta | None = None,
    until: datetime | None = None,
    exhaustive: bool = False,
    thresholds: Mapping[str, Iterable[float]] | None = None,
    columns: Collection[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``evaluation_times(...)`` and the ``clinical_state`` at those times, computed together.

    What both read is computed once: the state's events and the CRS episodes (the change
    points' episode instants and the fever state's episode at each T); patients are keyed by
    integers inside (``integer_keys``), and the results carry their ids.  The same results as
    the two calls (tests/state/test_change_points.py).
    """
    params = params or StateParameters()
    prepared = prepare_state(patients, events, params)
    with in_memory():
        times = _times(
            prepared.events,
            prepared.patients,
            params,
            until,
            every,
            exhaustive,
            thresholds,
            read=prepared.read,
            episodes=prepared.episodes,
        )
        state = _clinical_state(
            prepared.patients,
            prepared.events,
            times.select("patient_id", "at"),
            params,
            columns,
            read=prepared.read,
            episodes=prepared.episodes,
        )
    return with_ids(times, prepared.ids), with_ids(state, prepared.ids)


def _every_event(
    events: pl.DataFrame, patients: pl.DataFrame, params: StateParameters, horizon: pl.DataFrame
) -> pl.DataFrame:
    """Every event time and end, every window expiry, and the derived instants."""

    def moment(frame: pl.DataFrame, at: pl.Expr, reported: pl.Expr | None = None) -> pl.DataFrame:
        reported = at if reported is None else reported
        return frame.select("patient_id", at.alias("at"), reported.alias("reported_at"))

    moments = [moment(events, pl.col("time"))]
    moments.append(moment(events.filter(pl.col("end").is_not_null()), pl.col("end")))
    for item, window in windowed_items(params).items():
        expiring = events.filter(pl.col("item") == item)
        # At time + window the observation is still in [T - window, T]; a tick later not.
        moments.append(
            moment(
                expiring,
                pl.col("time") + window + EXPIRY_TICK,
                pl.col("time") + window,
            )
        )
    pressor = events.filter(pl.col("item").is_in(PRESSORS))
    moments.append(moment(pressor, pl.col("time") + params.high_dose_duration))
    # Cumulative vasopressor hours reaching a graded duration (MSKCC: 24 h).
    moments.append(moment(pressor_hours_crossings(events, patients, params), pl.col("at")))
    moments.append(moment(patients, pl.col("therapy_start")))
    # The age in completed years changes at a midnight, not at an event (SBP threshold, ICANS
    # age path): evaluated there (docs/decisions/0065).
    moments.append(
        moment(age_instants(events.lazy(), patients.lazy(), horizon.lazy()).collect(), pl.col("at"))
    )
    return within_horizon([m.lazy() for m in moments], horizon.lazy()).collect()


def _grid(
    events: pl.DataFrame, patients: pl.DataFrame, horizon: pl.DataFrame, every: timedelta
) -> pl.DataFrame:
    """A regular grid ``every`` apart, aligned to the therapy start, to the horizon."""
    bounds = (
        events.group_by("patient_id")
        .agg(pl.col("time").min().alias("_first"))
        .join(patients.select("patient_id", "therapy_start"), on="patient_id", how="right")
        .join(horizon, on="patient_id", how="left")
        .with_columns(_from=pl.min_horizontal("_first", "therapy_start"), _to=pl.col("_until"))
    )
    step = int(every.total_seconds() * 1_000_000)
    # Align the grid to the therapy start: whole steps back to the first event.
    steps_back = (
        (pl.col("therapy_start") - pl.col("_from")).dt.total_microseconds() + step - 1
    ) // step
    grid = bounds.select(
        "patient_id",
        pl.datetime_ranges(
            pl.col("therapy_start") - pl.duration(microseconds=steps_back * step),
            pl.col("_to"),
            interval=every,
        ).alias("at"),
    ).explode("at")
    return grid.drop_nulls().unique().with_columns(reported_at=pl.col("at")).sort(KEYS)


def state_of(
    timelines: Iterable[Timeline],
    at: datetime | None = None,
    params: StateParameters | None = None,
) -> pl.DataFrame:
    """Convenience: the state of some timelines at ``at`` (default: each one's last event)."""
    patients, events = to_frames(timelines)
    if at is None:
        times = events.group_by("patient_id").agg(pl.col("time").max().alias("at"))
        missing = patients.join(times, on="patient_id", how="anti").select(
            "patient_id", pl.col("therapy_start").alias("at")
        )
        times = pl.concat([times, missing])
    else:
        times = patients.select("patient_id", pl.lit(at).cast(pl.Datetime("us", "UTC")).alias("at"))
    return clinical_state(patients, events, times, params)
