"""Many stored patients' frames at once, through the app's cache, with one marker query.

The ward reads every stored patient on each refresh.  ``TimelineCache.frames`` asks the store
for one patient's marker per call (24 queries for the demo ward, about 15 ms on SQLite); here
the markers of all the patients are read in one query (``TimelineCache.markers``), and each
patient's frames are kept as a result of that exact stored version (``TimelineCache.result``),
so an unchanged patient costs no query at all (nor, for a patient read with its timeline, a
second look at whether the two are of one version: decision 0073).  On a miss the frames come from
``TimelineCache.frames`` (which reads the store or reuses the cached timeline), and its own
marker, not the one of the batch query, is the version handed back: a write between the two
queries gives the newer frames with their own version, never frames under an older name.

Read-only: nothing here writes to the store; the cache's entries are only filled.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial

import polars as pl
from sqlalchemy.orm import Session

from crswatch.store._cache import Marker, TimelineCache
from crswatch.timeline import Timeline, to_frames

__all__ = ["CachedPatient", "cached_patients"]

#: Keys of the results kept per patient version (``TimelineCache.result``).
_FRAMES = "crswatch.store.cached_patients:frames"
_TIMELINE = "crswatch.store.cached_patients:timeline"

Frames = tuple[pl.DataFrame, pl.DataFrame]


@dataclass(frozen=True, slots=True)
class CachedPatient:
    """One stored patient: its frames (``to_frames``), and its ``Timeline`` when asked for."""

    patient_id: str
    #: The stored version the frames (and timeline) are of; None when the two were read at
    #: different versions (a write in between) and the frames were rebuilt from the timeline.
    marker: Marker | None
    frames: Frames
    timeline: Timeline | None


def cached_patients(
    cache: TimelineCache,
    session: Session,
    patient_ids: Sequence[str],
    *,
    timeline_kinds: Collection[str] = (),
) -> list[CachedPatient]:
    """The stored patients among ``patient_ids``, in that order, with their frames.

    ``timeline_kinds``: therapy kinds (``Therapy.kind``) whose patients also need their
    ``Timeline`` (the ward's blinatumomab and step-up regimen engines read events as objects).
    """
    found: list[CachedPatient] = []
    # Chunks keep the IN list within every database's limit on bound parameters.
    for start in range(0, len(patient_ids), 500):
        chunk = patient_ids[start : start + 500]
        markers = cache.markers(session, chunk)
        for pid in chunk:
            marker = markers.get(pid)
            if marker is None:
                continue
            got = _frames(cache, session, pid, marker)
            if got is None:  # removed since the marker query
                continue
            version, frames = got
            kind = frames[0]["therapy_kind"][0]
            if kind not in timeline_kinds:
                found.append(CachedPatient(pid, version, frames, None))
                continue
            checked: tuple[Timeline, bool] | None = cache.result(
                pid, version, _TIMELINE, partial(_timeline, cache, session, pid, frames)
            )
            if checked is None:
                continue
            timeline, same = checked
            if not same:
                found.append(CachedPatient(pid, None, to_frames([timeline]), timeline))
                continue
            found.append(CachedPatient(pid, version, frames, timeline))
    return found


def _frames(
    cache: TimelineCache, session: Session, patient_id: str, marker: Marker
) -> tuple[Marker, Frames] | None:
    got: tuple[Marker, Frames] | None = cache.result(
        patient_id, marker, _FRAMES, partial(cache.frames, session, patient_id)
    )
    return got


def _timeline(
    cache: TimelineCache, session: Session, patient_id: str, frames: Frames
) -> tuple[Timeline, bool] | None:
    """The patient's timeline, and whether it is of the frames' version.

    Kept with the timeline under the frames' version (decision 0073): the frames of one
    version are always the same rows, so the check's answer is too, and an unchanged ward
    does not rebuild a frame per blinatumomab or step-up patient to compare on every refresh.
    """
    timeline = cache.load(session, patient_id)
    if timeline is None:
        return None
    return timeline, _same_version(timeline, frames)


def _same_version(timeline: Timeline, frames: Frames) -> bool:
    """Whether the timeline and the frames are of one stored version.

    Events are only ever appended (``store._cache``), so one patient's event count names its
    events; the patient's fields are compared as the frames hold them.
    """
    patients, events = frames
    if len(timeline.events) != events.height:
        return False
    return to_frames([Timeline(timeline.patient, ())])[0].equals(patients)
