"""Fever, the CRS episode and the ASTCT fever waiver.

- ``temp_max_c``: the highest *attributable* temperature in ``[T - fever_window, T]``
  (``cause: other`` excludes a fever documented as due to something else, ASTCT 2019: "not
  attributable to any other cause"); ``temp_max_c_other_n`` counts the readings so excluded.
  ``fever`` is ``temp_max_c >= 38.0``; False when every reading in the window was charted with
  another cause (measured, not missing); null when no temperature was measured in the window
  (missing is not normal).
- The CRS episode at T: the signs of CRS — an attributable fever >= ``fever_threshold_c``, an
  attributable SBP below the age threshold, a vasopressor or supplemental oxygen running — each
  keep an episode going until the first vital-sign reading without a sign (temperature below
  the threshold, SBP at or above it) taken more than ``crs_resolution_window`` after the sign was
  last seen; overlapping spans form one episode, which has resolved at that reading.  A gap in
  the charting does not resolve CRS (docs/decisions/0026-fever-waiver-and-provisional-grades.md).
- ``onset_at``: the first attributable fever at or after the therapy start, if at or before T
  (ASTCT 2019 consensus definition: fever at the onset); it establishes CRS for the CRS-context
  rule for the rest of the record, since organ toxicity of a CRS may follow its fever by days
  (docs/decisions/0023-crs-context.md).  ``episode_onset_at``: the first such fever in the
  current episode.
- ``waiver_at``: the first waiving dose given at or after the episode's onset, in the same
  episode, at or before T.  Waiving (``StateParameters.fever_waiver``, discrepancy D2,
  resolved): by default an antipyretic, an anti-cytokine drug (tocilizumab, siltuximab,
  anakinra) or a corticosteroid, as the verified ASTCT 2019 fever footnote reads: "when
  antipyretic or anticytokine therapy is initiated (e.g., tocilizumab or steroids), CRS grading
  is driven by hypotension and hypoxia only"; the narrower ``anticytokine_or_steroid`` leaves
  antipyretics out.  Doses before onset (premedication) do not waive fever; any indication
  counts (the drug masks fever whatever it was given for).  The waiver ends with the episode:
  the footnote speaks of grading "subsequent CRS severity" of the CRS being treated, so a
  hypotension weeks after it resolved is not graded without fever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from crswatch.state._common import KEYS, event_ref, window_extreme
from crswatch.state._hemodynamics import PRESSORS, sbp_threshold
from crswatch.state._parameters import StateParameters

__all__ = [
    "ANTIPYRETICS",
    "ANTI_CYTOKINE",
    "CORTICOSTEROIDS",
    "CrsEpisodes",
    "crs_episodes",
    "episode_instants",
    "fever_state",
    "waiving_items",
]

ANTI_CYTOKINE = ("tocilizumab", "siltuximab", "anakinra")
CORTICOSTEROIDS = ("dexamethasone", "methylprednisolone", "hydrocortisone", "prednisone")
ANTIPYRETICS = ("antipyretic",)
#: An episode sign with no end yet: open until this far instant.
_OPEN = datetime(9000, 1, 1, tzinfo=UTC)


def waiving_items(params: StateParameters) -> tuple[str, ...]:
    """The items whose doses lift the fever requirement under ``params.fever_waiver``."""
    items: tuple[str, ...] = ANTI_CYTOKINE + CORTICOSTEROIDS
    if params.fever_waiver == "antipyretic_or_anticytokine":
        items += ANTIPYRETICS
    return items


def _sign_spans(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """``patient_id, _from, _to``: one span per sign of CRS, to where it may have resolved.

    A sign seen at t (a running support: stopped at t) keeps the episode going until the first
    vital-sign reading that shows no sign (a temperature below the fever threshold, an SBP at or
    above the age threshold) after t + ``crs_resolution_window``: resolution must be
    documented, and a gap in the charting does not resolve CRS.  With no such reading yet, or a
    support still running, the span is open.
    """
    window = params.crs_resolution_window
    open_ = pl.lit(_OPEN, dtype=pl.Datetime("us", "UTC"))
    age = pl.coalesce(
        (pl.col("time").dt.date() - pl.col("birth_date")).dt.total_days() / 365.25,
        pl.col("age_years"),
    )
    vitals = (
        events.filter(pl.col("item").is_in(("temperature", "sbp")))
        .filter(pl.col("value_num").is_not_null())
        .join(
            patients.select("patient_id", "age_years", "birth_date"),
            on="patient_id",
            maintain_order="left",
        )
        .with_columns(
            _sign=pl.when(pl.col("item") == "temperature")
            .then(pl.col("value_num") >= params.fever_threshold_c)
            .otherwise(pl.col("value_num") < sbp_threshold(age))
        )
    )
    # A run of sign readings each within the window of the one before is one span, from its
    # first to where its last one may have resolved: each reading's span reaches past the next
    # reading (resolution comes strictly after reading + window), so their union is that span.
    # One span per run instead of one per reading (a fever charted every 5 minutes).
    signs = (
        vitals.filter(pl.col("_sign") & pl.col("attributable"))
        .select("patient_id", "time")
        .sort("patient_id", "time")
    )
    gap = pl.col("time") - pl.col("time").shift(1)
    new_run = pl.lit(value=False) if window is None else gap.over("patient_id") > window
    point_signs = (
        signs.with_columns(
            _run=new_run.fill_null(True).cast(pl.UInt32).cum_sum().over("patient_id")
        )
        .group_by("patient_id", "_run")
        .agg(pl.col("time").min().alias("_from"), pl.col("time").max().alias("_until"))
        .drop("_run")
    )
    # Support runs from a record that turns it on until its end, or the next record of the same
    # item (a rate change or a stop); with neither it is still running (null: open).
    on = (
        pl.when(pl.col("item") == "o2_device")
        .then(pl.col("value_code").is_not_null() & (pl.col("value_code") != "room_air"))
        .otherwise(pl.col("value_num") > 0)
    )
    support = (
        events.filter(pl.col("attributable") & pl.col("item").is_in(("o2_device", *PRESSORS)))
        .sort("patient_id", "item", "time")
        .with_columns(_next=pl.col("time").shift(-1).over("patient_id", "item"))
        .filter(on)
        .select(
            "patient_id",
            pl.col("time").alias("_from"),
            pl.min_horizontal("end", "_next").alias("_until"),
        )
    )
    spans = pl.concat([point_signs, support])
    if window is None:
        return spans.select("patient_id", "_from", open_.alias("_to"))
    # In each patient's time order already (the events are, ``in_patient_order``, and the join
    # above keeps it), as the as-of join below needs; repeated times do not change its answer.
    clear = vitals.filter(~pl.col("_sign")).select("patient_id", pl.col("time").alias("_clear"))
    return (
        # Strictly after the window: a fever exactly ``window`` before T still counts at T.
        spans.with_columns(_anchor=pl.col("_until") + window + timedelta(microseconds=1))
        .sort("_anchor")
        .join_asof(
            clear,
            left_on="_anchor",
            right_on="_clear",
            by="patient_id",
            strategy="forward",
            check_sortedness=False,
        )
        .select(
            "patient_id",
            "_from",
            pl.when(pl.col("_until").is_null())
            .then(open_)
            .otherwise(pl.coalesce("_clear", open_))
            .alias("_to"),
        )
    )


def _episodes(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """Per episode: ``patient_id, _from, _to, _onset, _onset_ref, _waiver, _waiver_ref``."""
    spans = _sign_spans(events, patients, params)
    islands = (
        spans.sort("patient_id", "_from")
        .with_columns(_reach=pl.col("_to").cum_max().over("patient_id"))
        .with_columns(
            _new=(pl.col("_from") > pl.col("_reach").shift(1).over("patient_id")).fill_null(True)
        )
        .with_columns(_episode=pl.col("_new").cast(pl.UInt32).cum_sum().over("patient_id"))
        .group_by("patient_id", "_episode")
        .agg(pl.col("_from").min(), pl.col("_to").max())
        .sort("_from")
        # Materialized once: it is read three times below, and a lazy plan would compute the
        # spans over every vital sign each time.
        .collect()
        .lazy()
    )

    def first_in_episode(source: pl.LazyFrame, name: str) -> pl.LazyFrame:
        return (
            source.sort("time")
            .join_asof(
                islands,
                left_on="time",
                right_on="_from",
                by="patient_id",
                strategy="backward",
                check_sortedness=False,
            )
            .filter(pl.col("time") < pl.col("_to"))
            .sort("time")
            .group_by("patient_id", "_episode")
            .agg(pl.col("time", "item", "event_id").first())
            .select("patient_id", "_episode", pl.col("time").alias(name), _ref(f"{name}_ref"))
        )

    onsets = first_in_episode(_fevers(events, patients, params), "_onset")
    doses = (
        events.filter(pl.col("item").is_in(waiving_items(params)))
        .select("patient_id", "time", event_ref().alias("ref"))
        .join(
            onsets.join(islands, on=["patient_id", "_episode"]).select(
                "patient_id", "_episode", "_onset", "_to"
            ),
            on="patient_id",
        )
        .filter((pl.col("time") >= pl.col("_onset")) & (pl.col("time") < pl.col("_to")))
        .sort("time")
        .group_by("patient_id", "_episode")
        .agg(pl.col("time").first().alias("_waiver"), pl.col("ref").first().alias("_waiver_ref"))
    )
    return (
        islands.join(onsets, on=["patient_id", "_episode"], how="left")
        .join(doses, on=["patient_id", "_episode"], how="left")
        .sort("_from")
    )


@dataclass(frozen=True)
class CrsEpisodes:
    """The CRS episodes and the first fever of a batch of patients, computed once.

    The change points (their instants) and the fever state (the episode at each T) read the
    same episodes: a trajectory computes them once for both (about a seventh of a cohort
    batch's grading, issue #16).
    """

    #: ``patient_id, _episode, _from, _to, _onset, _onset_ref, _waiver, _waiver_ref``.
    episodes: pl.DataFrame
    #: ``patient_id, _first, _first_ref``: the first attributable fever since the therapy start.
    first: pl.DataFrame


def crs_episodes(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> CrsEpisodes:
    """The CRS episodes of ``events`` (the state's events) under ``params``."""
    episodes, first = pl.collect_all(
        [_episodes(events, patients, params), _first_onset(events, patients, params)]
    )
    return CrsEpisodes(episodes=episodes, first=first)


def fever_state(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    patients: pl.LazyFrame,
    params: StateParameters,
    episodes: CrsEpisodes | None = None,
) -> pl.LazyFrame:
    """The fever columns at each T; ``episodes``: those of ``crs_episodes`` on the same input."""
    if episodes is None:
        episodes = crs_episodes(events, patients, params)
    out = window_extreme(
        times, events, ("temperature",), params.fever_window, "temp_max_c", "max"
    ).with_columns(
        fever=pl.when(pl.col("temp_max_c").is_null() & (pl.col("temp_max_c_other_n") > 0))
        .then(False)
        .otherwise(pl.col("temp_max_c") >= params.fever_threshold_c)
    )
    # Resolved at the reading that documents it: an episode covers [_from, _to).
    inside = (pl.col("at") < pl.col("_to")).fill_null(False)
    started = inside & (pl.col("_onset") <= pl.col("at")).fill_null(False)
    waived = started & (pl.col("_waiver") <= pl.col("at")).fill_null(False)
    return (
        out.sort("at")
        .join_asof(
            episodes.episodes.lazy(),
            left_on="at",
            right_on="_from",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .join(episodes.first.lazy(), on="patient_id", how="left")
        .with_columns(
            onset_at=pl.when(pl.col("_first") <= pl.col("at")).then(pl.col("_first")),
            onset_ref=pl.when(pl.col("_first") <= pl.col("at")).then(pl.col("_first_ref")),
            episode_onset_at=pl.when(started).then(pl.col("_onset")),
            waiver_at=pl.when(waived).then(pl.col("_waiver")),
            waiver_ref=pl.when(waived).then(pl.col("_waiver_ref")),
            crs_episode_since=pl.when(inside).then(pl.col("_from")),
        )
        .with_columns(fever_waived=pl.col("waiver_at").is_not_null())
        .select(KEYS + list(_COLUMNS))
    )


def episode_instants(episodes: CrsEpisodes) -> pl.DataFrame:
    """``patient_id, at``: every instant at which a column of :func:`fever_state` other than the
    temperature window can change: an episode's start, onset, waiver and end, and the first
    fever since the therapy start (change points, crswatch.state._changes)."""
    return pl.concat(
        [
            *(
                episodes.episodes.select("patient_id", pl.col(column).alias("at"))
                for column in ("_from", "_to", "_onset", "_waiver")
            ),
            episodes.first.select("patient_id", pl.col("_first").alias("at")),
        ]
    ).drop_nulls()


def _first_onset(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """``patient_id, _first, _first_ref``: the first attributable fever since the therapy start."""
    return (
        _fevers(events, patients, params)
        .sort("time")
        .group_by("patient_id")
        .agg(pl.col("time", "item", "event_id").first())
        .select("patient_id", pl.col("time").alias("_first"), _ref("_first_ref"))
    )


def _ref(name: str) -> pl.Expr:
    """The event reference of the row's ``time``, ``item``, ``event_id``: made for the events
    kept, not for every fever (a fever charted every 5 minutes)."""
    return event_ref().alias(name)


def _fevers(events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters) -> pl.LazyFrame:
    """Attributable fevers at or after the therapy start: ``patient_id, time, item, event_id``."""
    return (
        events.filter(
            (pl.col("item") == "temperature")
            & pl.col("attributable")
            & (pl.col("value_num") >= params.fever_threshold_c)
        )
        .join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .filter(pl.col("time") >= pl.col("therapy_start"))
        .select("patient_id", "time", "item", "event_id")
    )


_COLUMNS = (
    "temp_max_c",
    "temp_max_c_ref",
    "temp_max_c_n",
    "temp_max_c_other_n",
    "fever",
    "onset_at",
    "onset_ref",
    "episode_onset_at",
    "waiver_at",
    "waiver_ref",
    "fever_waived",
    "crs_episode_since",
)
