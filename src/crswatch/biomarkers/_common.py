"""Shared pieces of the biomarker analyses: result series, baselines, flags, comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from crswatch.biomarkers._lod import StatValue, stat_value
from crswatch.scales._compare import Operator, compare
from crswatch.timeline import Event, Timeline, format_time

__all__ = ["Flag", "Point", "baseline_of", "event_ref", "holds", "series"]


def event_ref(event: Event) -> str:
    """The event's id, else ``item@time`` (as the state engine's evidence)."""
    return event.id or f"{event.item}@{event.time.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def holds(value: float | None, op: Operator, threshold: float) -> bool | None:
    """``value op threshold`` decided by the one comparison helper (None when unknown)."""
    if value is None:
        return None
    result = pl.select(compare(pl.lit(value, pl.Float64), op, threshold)).item()
    return bool(result) if result is not None else None


@dataclass(frozen=True, slots=True)
class Point:
    """One result: when, hours from the therapy start, the value for statistics, its event."""

    time: datetime
    hours: float
    stat: StatValue
    unit: str | None
    ref: str
    ref_low: float | None = None
    ref_high: float | None = None

    @property
    def value(self) -> float:
        return self.stat.value

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": format_time(self.time),
            "hours_from_start": round(self.hours, 6),
            **self.stat.to_dict(),
            "unit": self.unit,
            "event": self.ref,
        }
        if self.ref_low is not None:
            out["ref_low"] = self.ref_low
        if self.ref_high is not None:
            out["ref_high"] = self.ref_high
        return out


def series(timeline: Timeline, item: str, until: datetime, unit: str | None = None) -> list[Point]:
    """The numeric results of ``item`` at or before ``until`` (optionally in one unit only)."""
    start = timeline.patient.therapy.start
    points = []
    for event in timeline.of(item):
        if event.time > until or isinstance(event.value, bool | str):
            continue
        if unit is not None and event.unit != unit:
            continue
        points.append(
            Point(
                time=event.time,
                hours=(event.time - start).total_seconds() / 3600,
                stat=stat_value(float(event.value), event.censored),
                unit=event.unit,
                ref=event_ref(event),
                ref_low=event.ref_low,
                ref_high=event.ref_high,
            )
        )
    return points


def baseline_of(points: list[Point], start: datetime, window: timedelta) -> Point | None:
    """The last result in ``[start - window, start]`` (closed at both ends)."""
    before = [p for p in points if start - window <= p.time <= start]
    return before[-1] if before else None


@dataclass(frozen=True, slots=True)
class Flag:
    """A signal with its source: what it means and where that is written."""

    id: str
    message: str
    source: str
    #: ``V``/``V-2`` (verified), ``seed`` (a seed paper's statement), ``rule`` (crswatch rule).
    tag: str
    time: datetime | None = None
    values: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "message": self.message,
            "source": self.source,
            "tag": self.tag,
            "time": format_time(self.time) if self.time else None,
        }
        if self.values:
            out["values"] = self.values
        return out
