"""Vega-Lite v6 specs for the patient view: the seed 000 Figure 1 timeline and Figure 2 cytokines.

Specs are plain dictionaries with their data inlined in the top-level ``datasets`` (one named
table per series), so a page embeds them as JSON and ``vegaEmbed`` renders them offline.  The
tests validate them against the Vega-Lite JSON schema Altair ships (decision 0017).

The time axis is days since ``therapy.start`` (the CAR T infusion or the first antibody dose,
``shared/spec/timeline.md`` §2), day 0 being the start, shared by every panel.  Raw vital signs
are thinned on the server: a series of at most :data:`MAX_POINTS` points is drawn as recorded,
a longer one is cut into equal bins (1, 2, 4, 6, 12 or 24 h, the smallest that gives at most
:data:`MAX_POINTS` bins) and each bin keeps its extremes (temperature: the maximum; SBP: the
minimum and maximum), so that a fever or a hypotension is never averaged away.  A 30-day record
with 5-minute vitals (8,640 results per vital) is drawn from 720 hourly bins per vital.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import polars as pl

from crswatch.biomarkers import cytokine_profile
from crswatch.state import StateParameters
from crswatch.timeline import Timeline, format_time
from crswatch.web._chart_data import (
    MAX_POINTS,
    NEURO_SCORES,
    TimeAxis,
    grade_band_rows,
    interval_rows,
    lab_rows,
    marker_rows,
    neuro_rows,
    numeric,
    time_axis,
    tmax_rows,
    unit_label,
    unit_of,
    vital_rows,
)

__all__ = [
    "GRADE_COLOURS",
    "MAX_POINTS",
    "VEGA_LITE_SCHEMA",
    "cytokine_chart",
    "timeline_chart",
]

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
#: Plot width in pixels of every panel (they share one time axis).
WIDTH = 720
#: Grade 0-5 fills, then the two undecided statuses (drawn grey, outlined, bounds as text).
GRADE_COLOURS: dict[str, str] = {
    "0": "#d9f0d3",
    "1": "#fee08b",
    "2": "#fdae61",
    "3": "#f46d43",
    "4": "#d73027",
    "5": "#67001f",
    "ambiguous": "#b0b0b0",
    "not_assessable": "#e0e0e0",
}
#: Drug markers by class (the support panel's shape legend).
_MARKER_SHAPES = {
    "tocilizumab": "triangle-down",
    "corticosteroid": "diamond",
    "other anti-cytokine": "square",
    "T-cell engager dose": "triangle-up",
    "fluid bolus": "circle",
}


#: Legend labels in words: vocabulary codes (``nasal_cannula``, ``not_assessable``) unspaced.
_WORDS = "replace(datum.label, regexp('_', 'g'), ' ')"


def _tooltip(*fields: tuple[str, str, str]) -> list[dict[str, Any]]:
    out = []
    for field, kind, title in fields:
        entry: dict[str, Any] = {"field": field, "type": kind, "title": title}
        if kind == "quantitative":
            entry["format"] = ",.4~g"
        out.append(entry)
    return out


def _panel(name: str, height: int, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "width": WIDTH, "height": height, "layer": layers}


def _now_layer(axis: TimeAxis, now: datetime, *, label: bool, titled: bool) -> dict[str, Any]:
    """The now line (decision 0051): a dark rule at the page's time, labelled in the top panel.

    ``titled``: the panel carries the labelled time axis (its x encodings must agree).
    """
    rule: dict[str, Any] = {
        "data": {"values": [{"day": axis.day(now), "label": "now", "time": format_time(now)}]},
        "mark": {"type": "rule", "color": "#1f2933", "strokeWidth": 1.5, "strokeDash": [6, 3]},
        "encoding": {
            "x": axis.encoding(title=titled),
            "tooltip": _tooltip(("label", "nominal", "line"), ("time", "nominal", "time")),
        },
    }
    if not label:
        return rule
    return {
        "layer": [
            rule,
            {
                "data": {"values": [{"day": axis.day(now), "label": "now"}]},
                "mark": {
                    "type": "text",
                    "align": "right",
                    "baseline": "top",
                    "dx": -3,
                    "y": 2,
                    "fontSize": 12,
                    "fontWeight": "bold",
                    "color": "#1f2933",
                },
                "encoding": {"x": axis.encoding(title=titled), "text": {"field": "label"}},
            },
        ]
    }


def _temperature_panel(
    timeline: Timeline, axis: TimeAxis, datasets: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    events = numeric(timeline.of("temperature"))
    if not events:
        return None
    unit = unit_label(unit_of(timeline, "temperature"))
    raw, hours = vital_rows(events, axis)
    datasets["temperature"] = raw
    datasets["temperature_max_24h"] = tmax_rows(events, axis)
    raw_title = "temperature" if hours is None else f"max temperature per {hours} h"
    x = axis.encoding()
    return _panel(
        "temperature",
        110,
        [
            {
                "data": {"name": "temperature"},
                "mark": {"type": "point", "size": 8, "opacity": 0.45, "color": "#e6550d"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "max",
                        "type": "quantitative",
                        "scale": {"zero": False},
                        "axis": {"title": f"Temperature ({unit})"},
                    },
                    "tooltip": _tooltip(
                        ("time", "nominal", "time"),
                        ("max", "quantitative", f"{raw_title} ({unit})"),
                        ("n", "quantitative", "results"),
                    ),
                },
            },
            {
                "data": {"name": "temperature_max_24h"},
                "mark": {
                    "type": "line",
                    "color": "#cb181d",
                    "point": {
                        "shape": "triangle-up",
                        "filled": True,
                        "size": 50,
                        "color": "#cb181d",
                    },
                },
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative"},
                    "tooltip": _tooltip(
                        ("period", "nominal", "24 h period"),
                        ("value", "quantitative", f"max temperature ({unit})"),
                        ("time", "nominal", "measured at"),
                    ),
                },
            },
            {
                # The state engine's fever threshold: ASTCT 2019 "temperature >= 38 °C" (Lee
                # 2019, CRS grading table), so the line is where the grading reads fever.
                "data": {"values": [{"fever": StateParameters().fever_threshold_c}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#999999"},
                "encoding": {
                    "y": {"field": "fever", "type": "quantitative"},
                    "tooltip": _tooltip(("fever", "quantitative", "fever >= (°C), ASTCT 2019")),
                },
            },
        ],
    )


@dataclass(frozen=True, slots=True)
class _Lab:
    """A laboratory panel: its colour and marker (seed 000 Figure 1: ferritin blue circles,
    fibrinogen black squares), axis type, and a dashed reference line with its source."""

    item: str
    label: str
    colour: str
    shape: str
    log: bool = False
    limit: float | None = None
    limit_source: str = ""


_LABS = (
    _Lab("ferritin", "Ferritin", "#2171b5", "circle", log=True, limit=10000.0,
         limit_source="> 10,000 ng/mL: 'virtually pathognomonic for HLH/MAS' (Teachey "
         "2013, Blood 121:5154)"),
    _Lab("fibrinogen", "Fibrinogen", "#252525", "square", limit=150.0,
         limit_source="<= 150 mg/dL (1.5 g/L): HLH-2004 hypofibrinogenaemia (Henter 2007, "
         "Pediatr Blood Cancer 48:124); IEC-HS uses < 150 mg/dL (Hines 2023, Transplant Cell "
         "Ther, unverified)"),
    _Lab("crp", "CRP", "#6a51a3", "diamond"),
    _Lab("il6", "IL-6", "#d94801", "triangle-up", log=True),
)  # fmt: skip


def _lab_panel(
    timeline: Timeline,
    axis: TimeAxis,
    datasets: dict[str, list[dict[str, Any]]],
    lab: _Lab,
) -> dict[str, Any] | None:
    item, label, colour, log = lab.item, lab.label, lab.colour, lab.log
    rows = lab_rows(numeric(timeline.of(item)), axis, positive=log)
    if not rows:
        return None
    datasets[item] = rows
    unit = unit_label(unit_of(timeline, item))
    y: dict[str, Any] = {
        "field": "value",
        "type": "quantitative",
        "axis": {"title": f"{label} ({unit}{', log' if log else ''})"},
        "scale": {"type": "log"} if log else {"zero": False},
    }
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": item},
            "mark": {
                "type": "line",
                "color": colour,
                "point": {"shape": lab.shape, "filled": True, "size": 40, "color": colour},
            },
            "encoding": {
                "x": axis.encoding(),
                "y": y,
                "tooltip": _tooltip(
                    ("time", "nominal", "time"),
                    ("value", "quantitative", f"{label} ({unit})"),
                    ("reported", "quantitative", "reported"),
                    ("flag", "nominal", "assay limit"),
                ),
            },
        },
    ]
    if lab.limit is not None:
        layers.append(
            {
                "data": {"values": [{"limit": lab.limit, "source": lab.limit_source}]},
                "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#999999"},
                "encoding": {
                    "y": {"field": "limit", "type": "quantitative"},
                    "tooltip": _tooltip(
                        ("limit", "quantitative", f"{label} ({unit})"),
                        ("source", "nominal", "source"),
                    ),
                },
            }
        )
    return _panel(item, 80, layers)


def _sbp_panel(
    timeline: Timeline, axis: TimeAxis, datasets: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    events = numeric(timeline.of("sbp"))
    if not events:
        return None
    rows, hours = vital_rows(events, axis)
    datasets["sbp"] = rows
    unit = unit_label(unit_of(timeline, "sbp"))
    what = "SBP" if hours is None else f"SBP, range per {hours} h"
    x = axis.encoding()
    tooltip = _tooltip(
        ("time", "nominal", "time"),
        ("min", "quantitative", f"min ({unit})"),
        ("max", "quantitative", f"max ({unit})"),
        ("n", "quantitative", "results"),
    )
    return _panel(
        "sbp",
        80,
        [
            {
                "data": {"name": "sbp"},
                "mark": {"type": "rule", "color": "#74c476"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "min",
                        "type": "quantitative",
                        "scale": {"zero": False},
                        "axis": {"title": f"{what} ({unit})"},
                    },
                    "y2": {"field": "max"},
                    "tooltip": tooltip,
                },
            },
            {
                "data": {"name": "sbp"},
                "mark": {
                    "type": "line",
                    "color": "#006d2c",
                    "strokeWidth": 1,
                    "point": {"size": 10, "color": "#006d2c"},
                },
                "encoding": {
                    "x": x,
                    "y": {"field": "min", "type": "quantitative"},
                    "tooltip": tooltip,
                },
            },
        ],
    )


def _side_labels(
    axis: TimeAxis,
    dataset: str,
    text: str,
    y: dict[str, Any],
    span: tuple[str, str],
    *,
    dx: int,
) -> list[dict[str, Any]]:
    """Text labels beside bars or markers, kept inside the plot: right of what starts in the
    left half of the axis, left of what ends in the right half (where the now line is)."""
    middle = sum(axis.domain) / 2
    start, end = span
    style = {"type": "text", "fontSize": 11, "color": "#1f2933", "baseline": "middle"}
    return [
        {
            "data": {"name": dataset},
            "transform": [{"filter": f"datum.{start} < {middle}"}],
            "mark": {**style, "align": "left", "dx": dx},
            "encoding": {"x": axis.encoding(start), "y": y, "text": {"field": text}},
        },
        {
            "data": {"name": dataset},
            "transform": [{"filter": f"datum.{start} >= {middle}"}],
            "mark": {**style, "align": "right", "dx": -dx},
            "encoding": {"x": axis.encoding(end), "y": y, "text": {"field": text}},
        },
    ]


def _support_panel(
    timeline: Timeline, axis: TimeAxis, datasets: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    intervals, kinds, colours = interval_rows(timeline, axis)
    markers = marker_rows(timeline, axis)
    if not intervals and not markers:
        return None
    datasets["intervals"] = intervals
    datasets["markers"] = markers
    lanes = list(dict.fromkeys([row["lane"] for row in intervals + markers]))
    shapes = [kind for kind in _MARKER_SHAPES if any(row["kind"] == kind for row in markers)]
    y = {
        "field": "lane",
        "type": "nominal",
        "scale": {"domain": lanes},
        "axis": {"title": None, "labelLimit": 160},
    }
    layers: list[dict[str, Any]] = []
    if intervals:
        layers.append(
            {
                "data": {"name": "intervals"},
                "mark": {"type": "bar", "height": {"band": 0.7}},
                "encoding": {
                    "x": axis.encoding("start"),
                    "x2": {"field": "end"},
                    "y": y,
                    "color": {
                        "field": "kind",
                        "type": "nominal",
                        "scale": {"domain": kinds, "range": colours},
                        "legend": {
                            "title": "support",
                            "orient": "right",
                            "symbolType": "square",
                            "labelExpr": _WORDS,
                        },
                    },
                    "tooltip": _tooltip(
                        ("label", "nominal", "what"),
                        ("from", "nominal", "from"),
                        ("to", "nominal", "to"),
                    ),
                },
            }
        )
        # Each bar says what it is: the drug and its rate, the device and its flow.
        layers += _side_labels(axis, "intervals", "label", y, ("start", "end"), dx=3)
    if markers:
        layers.append(
            {
                "data": {"name": "markers"},
                "mark": {"type": "point", "filled": True, "size": 90, "color": "#000000"},
                "encoding": {
                    "x": axis.encoding(),
                    "y": y,
                    "shape": {
                        # Its own field: a legend on "kind" would merge with the bars' colours.
                        "field": "given",
                        "type": "nominal",
                        "scale": {
                            "domain": shapes,
                            "range": [_MARKER_SHAPES[kind] for kind in shapes],
                        },
                        "legend": {"title": "given", "orient": "right"},
                    },
                    "tooltip": _tooltip(
                        ("what", "nominal", "given"),
                        ("dose", "nominal", "dose"),
                        ("time", "nominal", "time"),
                    ),
                },
            }
        )
        # Each dose marker is labelled with its dose.
        layers += _side_labels(axis, "markers", "dose", y, ("day", "day"), dx=7)
    return _panel("support", 26 * len(lanes), layers)


def _neuro_panel(
    timeline: Timeline, axis: TimeAxis, datasets: dict[str, list[dict[str, Any]]]
) -> dict[str, Any] | None:
    """The ICE / CAPD track, with every level of consciousness other than alert as text."""
    rows = neuro_rows(timeline, axis)
    if not rows:
        return None
    datasets["neuro"] = rows
    tools = [tool for tool, _ in NEURO_SCORES.values() if any(r["tool"] == tool for r in rows)]
    top = max(
        (NEURO_SCORES[item][1] for item, (tool, _) in NEURO_SCORES.items() if tool in tools),
        default=10.0,
    )
    x = axis.encoding()
    layers: list[dict[str, Any]] = []
    if tools:
        layers.append(
            {
                "data": {"name": "neuro"},
                "transform": [{"filter": "datum.tool !== 'consciousness'"}],
                "mark": {"type": "line", "point": {"filled": True, "size": 40}},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "value",
                        "type": "quantitative",
                        "scale": {"domain": [0, top]},
                        "axis": {"title": " / ".join(tools) + " score"},
                    },
                    "color": {
                        "field": "tool",
                        "type": "nominal",
                        # Only the tools the record holds appear in the legend.
                        "scale": {
                            "domain": tools,
                            "range": [{"ICE": "#08519c", "CAPD": "#6a51a3"}[t] for t in tools],
                        },
                        "legend": {"title": "assessment", "orient": "right"},
                    },
                    "tooltip": _tooltip(
                        ("tool", "nominal", "assessment"),
                        ("value", "quantitative", "score"),
                        ("time", "nominal", "time"),
                    ),
                },
            }
        )
    if any(r["tool"] == "consciousness" for r in rows):
        layers.append(
            {
                "data": {"name": "neuro"},
                "transform": [{"filter": "datum.tool === 'consciousness'"}],
                "mark": {
                    "type": "text",
                    "align": "left",
                    "fontSize": 11,
                    "y": 8,
                    "color": "#a50f15",
                },
                "encoding": {
                    "x": x,
                    "text": {"field": "text", "type": "nominal"},
                    "tooltip": _tooltip(
                        ("text", "nominal", "level of consciousness"), ("time", "nominal", "time")
                    ),
                },
            }
        )
    return _panel("neuro", 90, layers)


def _grade_panel(
    timeline: Timeline,
    trajectory: pl.DataFrame,
    axis: TimeAxis,
    datasets: dict[str, list[dict[str, Any]]],
    scales: Sequence[str] | None,
) -> dict[str, Any]:
    rows = grade_band_rows(timeline, trajectory, axis, scales)
    datasets["grades"] = rows
    bands = list(dict.fromkeys(row["band"] for row in rows))
    y = {
        "field": "band",
        "type": "nominal",
        "scale": {"domain": bands},
        "axis": {"title": None, "labelLimit": 220},
    }
    undecided = "datum.fill === 'ambiguous' || datum.fill === 'not_assessable'"
    return _panel(
        "grades",
        max(20 * len(bands), 20),
        [
            {
                "data": {"name": "grades"},
                "mark": {"type": "bar", "height": {"band": 0.8}, "strokeDash": [3, 2]},
                "encoding": {
                    "x": axis.encoding("start", title=True),
                    "x2": {"field": "end"},
                    "y": y,
                    "color": {
                        "field": "fill",
                        "type": "nominal",
                        "scale": {
                            "domain": list(GRADE_COLOURS),
                            "range": list(GRADE_COLOURS.values()),
                        },
                        "legend": {"title": "grade", "orient": "right", "labelExpr": _WORDS},
                    },
                    "stroke": {"condition": {"test": undecided, "value": "#444444"}, "value": None},
                    "tooltip": _tooltip(
                        ("band", "nominal", "scale"),
                        ("scale", "nominal", "title"),
                        ("grade", "nominal", "grade"),
                        ("from", "nominal", "from"),
                        ("to", "nominal", "to"),
                    ),
                },
            },
            {
                "data": {"name": "grades"},
                "transform": [
                    {"filter": "datum.text !== ''"},
                    {"calculate": "(datum.start + datum.end) / 2", "as": "middle"},
                ],
                "mark": {"type": "text", "fontSize": 9, "color": "#222222"},
                "encoding": {
                    "x": axis.encoding("middle", title=True),
                    "y": y,
                    "text": {"field": "text", "type": "nominal"},
                },
            },
        ],
    )


def _when(axis: TimeAxis, day: float, zone: tzinfo | None) -> str:
    """A chart day as a reader's time: ``day 2.5 · 3 Jan 20:00`` in the site's zone."""
    moment = (axis.start + timedelta(days=day)).astimezone(zone or UTC)
    return f"day {day:.2f} · {moment.day} {moment:%b %H:%M}"


def _table_view(
    axis: TimeAxis, datasets: dict[str, list[dict[str, Any]]], zone: tzinfo | None
) -> list[dict[str, Any]]:
    """The figure as tables, for screen readers and for reading exact values (decision 0051).

    One table per series, in the figure's order, times in the site's zone; the raw vital signs
    are given as the maximum temperature per 24 h (the figure's red line) to keep it short.
    """
    tables: list[dict[str, Any]] = []

    def add(title: str, columns: list[str], rows: list[list[Any]]) -> None:
        if rows:
            tables.append({"title": title, "columns": columns, "rows": rows})

    add(
        "Maximum temperature per 24 h (°C)",
        ["24 h period", "measured", "°C"],
        [
            [r["period"], _when(axis, r["day"], zone), r["value"]]
            for r in datasets.get("temperature_max_24h", [])
        ],
    )
    for lab in _LABS:
        add(
            lab.label,
            ["time", "value", "assay limit"],
            [
                [_when(axis, r["day"], zone), f"{r['value']:,.4g}", r["flag"]]
                for r in datasets.get(lab.item, [])
            ],
        )
    add(
        "Systolic blood pressure (mmHg)",
        ["time", "lowest", "highest"],
        [[_when(axis, r["day"], zone), r["min"], r["max"]] for r in datasets.get("sbp", [])],
    )
    add(
        "Vasoactives, oxygen, ventilation and infusions",
        ["from", "to", "what"],
        [
            [
                _when(axis, r["start"], zone),
                "running" if r["to"] == "running" else _when(axis, r["end"], zone),
                r["label"],
            ]
            for r in datasets.get("intervals", [])
        ],
    )
    add(
        "Drugs and fluid boluses given",
        ["time", "what", "dose"],
        [[_when(axis, r["day"], zone), r["what"], r["dose"]] for r in datasets.get("markers", [])],
    )
    add(
        "ICE / CAPD and level of consciousness",
        ["time", "assessment", "result"],
        [
            [
                _when(axis, r["day"], zone),
                r["tool"],
                r["text"] if r["value"] is None else f"{r['value']:g}",
            ]
            for r in datasets.get("neuro", [])
        ],
    )
    add(
        "Grade per scale",
        ["scale", "from", "to", "grade"],
        [
            [
                f"{r['scale']} ({r['version']})",
                _when(axis, r["start"], zone),
                "latest" if r["to"] == "latest" else _when(axis, r["end"], zone),
                r["grade"],
            ]
            for r in datasets.get("grades", [])
        ],
    )
    return tables


def _document(
    title: str, subtitle: str, datasets: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title, "subtitle": subtitle, "anchor": "start"},
        "datasets": datasets,
        **body,
        "config": {"view": {"stroke": "#dddddd"}, "axis": {"labelFontSize": 10}},
    }


def timeline_chart(
    timeline: Timeline,
    trajectory: pl.DataFrame,
    *,
    scales: Sequence[str] | None = None,
    now: datetime | None = None,
    zone: tzinfo | None = None,
) -> dict[str, Any]:
    """Seed 000 Figure 1 for one patient, with a grade band per scale beneath it.

    ``trajectory`` is the patient's trajectory (``crswatch.episodes.trajectory``, columns
    ``TRAJECTORY_SCHEMA``, change points).  ``scales`` are selectors as for the trajectory (a
    bare id is a CRS scale, ``icans.astct2019`` an ICANS one); by default every scale in the
    trajectory.  With the page's ``now`` the axis ends at a labelled now line and nothing is
    drawn after it; ``zone`` writes the dates under the day numbers in the site's zone.
    Returns a Vega-Lite v6 spec (vertically concatenated panels, shared x axis).
    """
    axis = time_axis(timeline, now, zone)
    datasets: dict[str, list[dict[str, Any]]] = {}
    panels = [
        _temperature_panel(timeline, axis, datasets),
        *(_lab_panel(timeline, axis, datasets, lab) for lab in _LABS),
        _sbp_panel(timeline, axis, datasets),
        _support_panel(timeline, axis, datasets),
        _neuro_panel(timeline, axis, datasets),
        _grade_panel(timeline, trajectory, axis, datasets, scales),
    ]
    drawn = [panel for panel in panels if panel is not None]
    if now is not None:
        for index, panel in enumerate(drawn):
            titled = index == len(drawn) - 1
            panel["layer"].append(_now_layer(axis, now, label=index == 0, titled=titled))
    patient = timeline.patient
    product = patient.therapy.product or patient.therapy.kind
    subtitle = (
        f"{patient.id}: {product}, day 0 = {format_time(patient.therapy.start)}; "
        "grey outlined bands: grade not decided (bounds in the bar and tooltip)"
    )
    return _document(
        "Clinical course and grade per scale",
        subtitle,
        datasets,
        {
            # Not drawn: the table view the page shows beneath the figure.
            "usermeta": {"tables": _table_view(axis, datasets, zone)},
            "vconcat": drawn,
            "spacing": 6,
            "resolve": {
                "scale": {
                    "x": "shared",
                    "color": "independent",
                    "shape": "independent",
                }
            },
        },
    )


def cytokine_chart(
    timeline: Timeline, *, now: datetime | None = None, zone: tzinfo | None = None
) -> dict[str, Any] | None:
    """Seed 000 Figure 2: each cytokine's fold change over its baseline, on a log axis.

    Built on :func:`crswatch.biomarkers.cytokine_profile` (baseline, fold changes and the seed
    004 LOD rule: a result below the LOD is drawn at half the LOD, hollow, and says so).  When
    no cytokine has a baseline before the therapy start the chart shows the concentrations
    instead (decision 0017).  None when the record holds no cytokine result.
    """
    profile = cytokine_profile(timeline)
    courses = [course for course in profile.cytokines if course.points]
    if not courses:
        return None
    axis = time_axis(timeline, now, zone)
    with_baseline = [c for c in courses if c.baseline is not None and c.baseline.value > 0]
    fold = bool(with_baseline)
    rows: list[dict[str, Any]] = []
    for course in with_baseline if fold else courses:
        # il2r in pg/mL and in U/mL are two series (never converted into each other).
        units = {c.unit for c in courses if c.item == course.item}
        name = course.item if len(units) == 1 else f"{course.item} [{course.unit}]"
        for point in course.points:
            y = course.fold(point) if fold else point.value
            if y is None or y <= 0:
                continue  # a log axis cannot draw it
            rows.append(
                {
                    "cytokine": name,
                    "day": axis.day(point.time),
                    "y": y,
                    "value": point.value,
                    "reported": point.stat.reported,
                    "unit": unit_label(course.unit),
                    "censored": point.stat.censored is not None,
                    "flag": point.stat.flag or "",
                    "time": format_time(point.time),
                }
            )
    missing = sorted({c.item for c in courses} - {c.item for c in with_baseline})
    toci = [
        {"day": axis.day(e.time), "time": format_time(e.time), "dose": f"{float(e.value):g} mg"}
        for e in numeric(timeline.of("tocilizumab"))
    ]
    y_title = "Fold change from baseline (log)" if fold else "Concentration (log)"
    layers: list[dict[str, Any]] = [
        {
            "data": {"name": "cytokines"},
            "mark": {"type": "line", "strokeWidth": 1.5},
            "encoding": {
                "x": axis.encoding(title=True),
                "y": {
                    "field": "y",
                    "type": "quantitative",
                    "scale": {"type": "log"},
                    "axis": {"title": y_title},
                },
                "color": {"field": "cytokine", "type": "nominal", "legend": {"title": "cytokine"}},
            },
        },
        {
            "data": {"name": "cytokines"},
            "mark": {"type": "point", "size": 45},
            "encoding": {
                "x": axis.encoding(title=True),
                "y": {"field": "y", "type": "quantitative", "scale": {"type": "log"}},
                "color": {"field": "cytokine", "type": "nominal"},
                # Below the LOD (half the LOD drawn, seed 004): hollow; measured: filled.
                "fill": {
                    "condition": {"test": "datum.censored", "value": "white"},
                    "field": "cytokine",
                    "type": "nominal",
                    "legend": None,
                },
                "tooltip": _tooltip(
                    ("cytokine", "nominal", "cytokine"),
                    ("time", "nominal", "time"),
                    ("y", "quantitative", "fold change" if fold else "value"),
                    ("value", "quantitative", "value used"),
                    ("reported", "quantitative", "reported"),
                    ("unit", "nominal", "unit"),
                    ("flag", "nominal", "assay limit"),
                ),
            },
        },
    ]
    if fold:
        layers.append(
            {
                "data": {"values": [{"one": 1}]},
                "mark": {"type": "rule", "color": "#999999", "strokeDash": [4, 3]},
                "encoding": {"y": {"field": "one", "type": "quantitative"}},
            }
        )
    if toci:
        layers.append(
            {
                "data": {"name": "tocilizumab"},
                "mark": {"type": "rule", "color": "#cb181d", "strokeWidth": 1.5},
                "encoding": {
                    "x": axis.encoding(title=True),
                    "tooltip": _tooltip(
                        ("time", "nominal", "tocilizumab"), ("dose", "nominal", "dose")
                    ),
                },
            }
        )
    notes = ["hollow points: below the LOD, drawn at LOD/2 (Nägele 2017, Exp Hematol Oncol 6:14)"]
    if toci:
        notes.insert(0, "red rules: tocilizumab")
    if fold and missing:
        notes.append(f"no baseline (not drawn): {', '.join(missing)}")
    if not fold:
        notes.append("no baseline before the start: concentrations shown")
    return _document(
        "Cytokines: fold change from baseline" if fold else "Cytokines",
        "; ".join(notes),
        {"cytokines": rows, "tocilizumab": toci},
        {"width": WIDTH, "height": 220, "layer": layers},
    )
