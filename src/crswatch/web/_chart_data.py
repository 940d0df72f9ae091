"""The rows of the patient view's chart datasets: pure functions of a timeline.

Kept apart from the Vega-Lite layout (:mod:`crswatch.web._charts`) so that what is drawn (the
time axis, thinned vital signs, the maximum temperature per 24 h, running periods of
infusions and devices, drug markers, grade intervals) can be read and tested on its own.
Decision: docs/decisions/0017-patient-view.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import polars as pl

from crswatch.biomarkers import stat_value
from crswatch.scales import grade_notation, grade_on_record, select_scales
from crswatch.state import ANTI_CYTOKINE, CORTICOSTEROIDS, POSITIVE_PRESSURE, PRESSORS
from crswatch.timeline import Event, Timeline, format_time, item_spec, vocabulary

__all__ = [
    "MAX_POINTS",
    "NEURO_SCORES",
    "TimeAxis",
    "band_label",
    "grade_band_rows",
    "interval_rows",
    "lab_rows",
    "marker_rows",
    "neuro_rows",
    "numeric",
    "time_axis",
    "tmax_rows",
    "unit_label",
    "unit_of",
    "vital_rows",
]

#: Raw results per vital-sign series drawn as recorded; longer series are binned.
MAX_POINTS = 720
_BIN_HOURS = (1, 2, 4, 6, 12, 24)
_DAY = 86400.0
#: How a few UCUM codes are written for people; every other unit is shown as its code.
_UNIT_LABELS = {"Cel": "°C", "mm[Hg]": "mmHg", "10*3/uL": "10³/µL", "ug/min": "µg/min"}
#: Oxygen devices in blues, positive pressure in purples, darker with more support.
_OXYGEN_COLOURS = ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
_VENTILATION_COLOURS = ("#bcbddc", "#807dba", "#54278f")


def unit_label(unit: str | None) -> str:
    """A canonical UCUM unit as written on an axis (``Cel`` is °C)."""
    if unit is None:
        return ""
    return _UNIT_LABELS.get(unit, unit)


def _day(moment: datetime, start: datetime) -> float:
    return round((moment - start).total_seconds() / _DAY, 5)


def unit_of(timeline: Timeline, item: str) -> str | None:
    for event in timeline.of(item):
        if event.unit is not None:
            return event.unit
    return item_spec(item).unit


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """The shared time axis: the therapy start, the last known time and the drawn domain.

    With a page's ``now`` (decision 0051), ``until`` is now: what is still running ends at the
    now line (``end``), and nothing is drawn after it; the domain keeps a little room beyond so
    that the line and its label show.  ``offset_ms`` is the site zone's UTC offset at the start
    (milliseconds), for the dates under the day numbers.
    """

    start: datetime
    until: datetime
    domain: tuple[float, float]
    title: str
    now: datetime | None = None
    offset_ms: float = 0.0

    def day(self, moment: datetime) -> float:
        return _day(moment, self.start)

    @property
    def end(self) -> float:
        """Where what is still running stops: the now line, else the domain's edge."""
        return self.day(self.now) if self.now is not None else self.domain[1]

    def encoding(self, field: str = "day", *, title: bool = False) -> dict[str, Any]:
        axis: dict[str, Any] = {"title": self.title if title else None, "grid": True}
        axis["tickMinStep"] = 0.5  # ticks on whole or half days
        if title:
            # Day numbers with the date beneath, on whole days only (half days: ticks).
            start_ms = self.start.timestamp() * 1000 + self.offset_ms
            axis["labelExpr"] = (
                "datum.value % 1 === 0 ? ['day ' + datum.value, "
                f"utcFormat({start_ms:.0f} + datum.value * 86400000, '%-d %b')] : ''"
            )
            axis["labelFontSize"] = 12
        else:
            axis["labels"] = False
        return {
            "field": field,
            "type": "quantitative",
            "scale": {"domain": list(self.domain), "nice": False},
            "axis": axis,
        }


def time_axis(
    timeline: Timeline, now: datetime | None = None, zone: tzinfo | None = None
) -> TimeAxis:
    """The axis from the first event (or the start) to ``now``, else to the last event's time.

    The record ends at its last event (or the page's now): an infusion's planned ``end`` or a
    grade the trajectory evaluates after it (a look-back window expiring) lies beyond what was
    observed, so bars are clipped there and later grades are not drawn (decision 0017).
    """
    start = timeline.patient.therapy.start
    moments = [start, *(event.time for event in timeline.events)]
    if now is not None:
        moments = [m for m in moments if m <= now] + [now]
    first, until = min(moments), max(moments)
    low = math.floor(_day(first, start))
    # Room after the last time so that what is still running (and the grade from the last
    # change point) stays visible; ongoing bars and bands run to this edge (or to now).
    span = max((until - first).total_seconds() / _DAY, 1.0)
    high = round(_day(until, start) + max(span * 0.02, 1 / 24), 5)
    if timeline.patient.therapy.kind == "car_t":
        title = "Day since infusion (day 0 = CAR T infusion), with the date"
    else:
        title = "Day since first dose (day 0 = first dose), with the date"
    offset = start.astimezone(zone).utcoffset() if zone is not None else None
    offset_ms = offset.total_seconds() * 1000 if offset is not None else 0.0
    return TimeAxis(
        start=start, until=until, domain=(low, high), title=title, now=now, offset_ms=offset_ms
    )


def numeric(events: Iterable[Event]) -> list[Event]:
    return [e for e in events if isinstance(e.value, int | float) and not isinstance(e.value, bool)]


def _bin_hours(events: Sequence[Event]) -> int | None:
    """The bin width for a vital series, or None when it is drawn as recorded."""
    if len(events) <= MAX_POINTS:
        return None
    span_h = (events[-1].time - events[0].time).total_seconds() / 3600
    for hours in _BIN_HOURS:
        if span_h / hours <= MAX_POINTS:
            return hours
    return _BIN_HOURS[-1]


def vital_rows(events: Sequence[Event], axis: TimeAxis) -> tuple[list[dict[str, Any]], int | None]:
    """Rows ``day, min, max, n, time`` per bin (or per result); the bin width in hours."""
    hours = _bin_hours(events)
    if hours is None:
        return [
            {
                "day": axis.day(e.time),
                "min": float(e.value),
                "max": float(e.value),
                "n": 1,
                "time": format_time(e.time),
            }
            for e in events
        ], None
    width = timedelta(hours=hours)
    frame = pl.DataFrame(
        {"time": [e.time for e in events], "value": [float(e.value) for e in events]},
        schema={"time": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    offset = (axis.start - axis.start.replace(minute=0, second=0, microsecond=0)).total_seconds()
    binned = (
        frame.group_by_dynamic(
            "time", every=width, offset=timedelta(seconds=offset) if offset else None
        )
        .agg(
            pl.col("value").min().alias("min"),
            pl.col("value").max().alias("max"),
            pl.len().alias("n"),
        )
        .sort("time")
    )
    rows = []
    for row in binned.iter_rows(named=True):
        centre = row["time"] + width / 2
        rows.append(
            {
                "day": axis.day(centre),
                "min": round(row["min"], 2),
                "max": round(row["max"], 2),
                "n": row["n"],
                "time": f"{format_time(row['time'])} + {hours} h",
            }
        )
    return rows, hours


def tmax_rows(events: Sequence[Event], axis: TimeAxis) -> list[dict[str, Any]]:
    """Maximum temperature per 24 h from the therapy start (seed 000 Figure 1, red line),
    drawn at the time it was measured (decision 0051), not at the period's middle."""
    best: dict[int, Event] = {}
    for event in events:
        index = math.floor((event.time - axis.start).total_seconds() / _DAY)
        if index not in best or float(event.value) > float(best[index].value):
            best[index] = event
    return [
        {
            "day": axis.day(event.time),
            "period": f"day {index}",
            "value": round(float(event.value), 2),
            "time": format_time(event.time),
        }
        for index, event in sorted(best.items())
    ]


def lab_rows(events: Sequence[Event], axis: TimeAxis, *, positive: bool) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        stat = stat_value(float(event.value), event.censored)
        if positive and stat.value <= 0:
            continue  # a log axis cannot draw zero; the tooltip of the table shows it
        rows.append(
            {
                "day": axis.day(event.time),
                "value": stat.value,
                "reported": stat.reported,
                "flag": stat.flag or "",
                "time": format_time(event.time),
            }
        )
    return rows


def _running(event: Event) -> bool:
    """Whether an infusion or device event starts something (spec §3: 0 and room_air end it)."""
    if isinstance(event.value, bool):
        return event.value
    if isinstance(event.value, str):
        return event.value != "room_air"
    return float(event.value) > 0


def _spans(timeline: Timeline, item: str) -> list[tuple[Event, datetime | None]]:
    """Each running period of ``item``: the event that started it and when it stopped.

    ``shared/spec/timeline.md`` §3: a rate or device holds until its ``end`` or the next event
    of the same item; None means still running at the last known time.  Consecutive periods
    with the same value are merged (a device charted every hour is one bar).
    """
    events = timeline.of(item)
    spans: list[tuple[Event, datetime | None]] = []
    for index, event in enumerate(events):
        if not _running(event):
            continue
        following = events[index + 1].time if index + 1 < len(events) else None
        stops = [moment for moment in (event.end, following) if moment is not None]
        stop = min(stops) if stops else None
        if spans and spans[-1][1] == event.time and spans[-1][0].value == event.value:
            spans[-1] = (spans[-1][0], stop)
            continue
        spans.append((event, stop))
    return spans


def interval_rows(
    timeline: Timeline, axis: TimeAxis
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """Bars for vasoactives, oxygen devices, ventilation and blinatumomab; colour domain, range."""
    devices = item_spec("o2_device").values
    oxygen = [d for d in devices if d != "room_air" and d not in POSITIVE_PRESSURE]
    ventilation = [d for d in devices if d in POSITIVE_PRESSURE]
    rows: list[dict[str, Any]] = []

    def add(lane: str, kind: str, event: Event, stop: datetime | None, label: str) -> None:
        rows.append(
            {
                "lane": lane,
                "kind": kind,
                "label": label,
                "start": axis.day(event.time),
                "end": axis.end if stop is None else min(axis.day(stop), axis.end),
                "from": format_time(event.time),
                "to": "running" if stop is None else format_time(stop),
            }
        )

    for drug in PRESSORS:
        for event, stop in _spans(timeline, drug):
            add(
                f"vasoactive: {drug}",
                "vasoactive",
                event,
                stop,
                f"{drug} {float(event.value):g} {unit_label(event.unit)}",
            )
    flows = numeric(timeline.of("o2_flow"))
    for event, stop in _spans(timeline, "o2_device"):
        device = str(event.value)
        lane = "ventilation" if device in POSITIVE_PRESSURE else "oxygen"
        # The flow charted with the device: the latest from 1 h before to 30 min after its start.
        near = [
            f
            for f in flows
            if event.time - timedelta(hours=1) <= f.time <= event.time + timedelta(minutes=30)
        ]
        label = device.replace("_", " ")
        if near and lane == "oxygen":
            label += f" {float(near[-1].value):g} L/min"
        add(lane, device, event, stop, label)
    for event, stop in _spans(timeline, "blinatumomab"):
        add(
            "blinatumomab",
            "blinatumomab",
            event,
            stop,
            f"blinatumomab {float(event.value):g} {unit_label(event.unit)}",
        )
    # Oxygen devices in blues and positive pressure in purples, darker with more support (the
    # vocabulary lists devices from least to most support).
    palette = {"vasoactive": "#a50f15"}
    palette.update({d: _OXYGEN_COLOURS[min(i, 6)] for i, d in enumerate(oxygen)})
    palette.update({d: _VENTILATION_COLOURS[min(i, 2)] for i, d in enumerate(ventilation)})
    palette["blinatumomab"] = "#000000"
    # Only what the record holds goes in the legend, in the device order of the vocabulary.
    present = {row["kind"] for row in rows}
    kinds = [kind for kind in palette if kind in present]
    return rows, kinds, [palette[kind] for kind in kinds]


def marker_rows(timeline: Timeline, axis: TimeAxis) -> list[dict[str, Any]]:
    """Points for tocilizumab, corticosteroids, other anti-cytokine drugs and engager doses."""
    engagers = [
        name
        for name, spec in vocabulary().items()
        if spec.group == "t_cell_engager" and name != "blinatumomab"
    ]
    classes = {"tocilizumab": "tocilizumab"}
    classes.update(dict.fromkeys(CORTICOSTEROIDS, "corticosteroid"))
    classes.update({d: "other anti-cytokine" for d in ANTI_CYTOKINE if d != "tocilizumab"})
    classes.update(dict.fromkeys(engagers, "T-cell engager dose"))
    classes["fluid_bolus"] = "fluid bolus"
    rows = []
    for event in timeline.of(*classes):
        dose = event.value if isinstance(event.value, str) else f"{float(event.value):g}"
        rows.append(
            {
                "lane": classes[event.item],
                "kind": classes[event.item],
                "given": classes[event.item],
                "drug": event.item,
                "what": event.item.replace("_", " "),
                "dose": f"{dose} {unit_label(event.unit)}".strip(),
                "day": axis.day(event.time),
                "time": format_time(event.time),
            }
        )
    return rows


#: Neurological assessments drawn on the ICE / CAPD track, with their maximum (their axis).
NEURO_SCORES = {"ice_score": ("ICE", 10.0), "capd_score": ("CAPD", 32.0)}


def neuro_rows(timeline: Timeline, axis: TimeAxis) -> list[dict[str, Any]]:
    """The ICE and CAPD scores, and every level of consciousness other than alert."""
    rows: list[dict[str, Any]] = []
    for item, (tool, _top) in NEURO_SCORES.items():
        for event in numeric(timeline.of(item)):
            rows.append(
                {
                    "tool": tool,
                    "day": axis.day(event.time),
                    "value": float(event.value),
                    "text": "",
                    "time": format_time(event.time),
                }
            )
    for event in timeline.of("consciousness"):
        if event.value == "alert":
            continue
        rows.append(
            {
                "tool": "consciousness",
                "day": axis.day(event.time),
                "value": None,
                "text": str(event.value).replace("_", " "),
                "time": format_time(event.time),
            }
        )
    return rows


def band_label(title: str) -> str:
    """A scale's band label: its title without the parenthesised authors (the tooltip and the
    table view give the full title and version)."""
    return title.split(" (", 1)[0]


def grade_band_rows(
    timeline: Timeline, trajectory: pl.DataFrame, axis: TimeAxis, scales: Sequence[str] | None
) -> list[dict[str, Any]]:
    """The trajectory's change points as intervals, one band per scale (registry order).

    A row holds from its change point to the next one of the same scale; the last one runs to
    the axis edge (still the grade at the last known time).  Change points after the last event
    are not drawn (see :func:`time_axis`).
    """
    start = timeline.patient.therapy.start
    axis_end = axis.end
    frame = trajectory.filter(
        (pl.col("patient_id") == timeline.patient.id) & (pl.col("at") <= axis.until)
    )
    rows: list[dict[str, Any]] = []
    for scale in select_scales(scales):
        changes = frame.filter((pl.col("kind") == scale.kind) & (pl.col("scale") == scale.id))
        listed = list(changes.sort("at").iter_rows(named=True))
        for index, row in enumerate(listed):
            following = listed[index + 1]["at"] if index + 1 < len(listed) else None
            status = str(row["status"])
            lower, upper = int(row["lower"]), int(row["upper"])
            graded = status == "graded"
            # A provisional grade is the grade on record: drawn in its colour, "≤ upper" inside.
            on_record = grade_on_record(row["grade"], status)
            begin = _day(row["at"], start)
            end = axis_end if following is None else _day(following, start)
            bounds = str(lower) if lower == upper else f"{lower}-{upper}"
            rows.append(
                {
                    "band": band_label(scale.title),
                    "scale": scale.title,
                    "version": scale.version,
                    "status": status.replace("_", " "),
                    "fill": str(on_record) if on_record is not None else status,
                    "grade": grade_notation(row["grade"], status, lower, upper),
                    "lower": lower,
                    "upper": upper,
                    "start": begin,
                    "end": end,
                    "from": format_time(row["at"]),
                    "to": "latest" if following is None else format_time(following),
                    # Bounds written inside undecided bars that are wide enough to hold them.
                    "text": ""
                    if graded or end - begin < 0.04 * axis_end
                    else (f"≤ {upper}" if on_record is not None else bounds),
                }
            )
    return rows
