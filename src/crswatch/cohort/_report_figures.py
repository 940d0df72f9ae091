"""The report's figures: box plots and line charts, drawn once by matplotlib, rendered as inline
SVG (HTML) and PNG (PDF).

Matplotlib's object API (``Figure``, no ``pyplot``) keeps drawing free of global state and of any
GUI backend; SVG text stays text (``svg.fonttype: none``) and ids are salted with a fixed string so
the same data give the same file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from crswatch.cohort._pd import NOMINAL_GRID

__all__ = ["ReportFigure", "report_figures"]

#: Typed loosely: matplotlib types rc keys as literals.
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "crswatch-cohort-report",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
#: Patients needed at a nominal point for it to be drawn on the line chart.
_MIN_POINT = 3
_LABELS = {
    "alt": "ALT",
    "ast": "AST",
    "crp": "CRP",
    "d_dimer": "D-dimer",
    "il6": "IL-6",
    "ifng": "IFN-γ",
    "il10": "IL-10",
}


@dataclass(frozen=True, slots=True)
class ReportFigure:
    """One figure: its id, caption (definitions and source), SVG markup and PNG bytes."""

    id: str
    title: str
    caption: str
    svg: str
    png: bytes


def _render(figure_id: str, title: str, caption: str, figure: Figure) -> ReportFigure:
    figure.tight_layout()
    with mpl.rc_context(_STYLE):
        svg_buffer = io.StringIO()
        figure.savefig(svg_buffer, format="svg", metadata={"Date": None})
        png_buffer = io.BytesIO()
        figure.savefig(png_buffer, format="png", dpi=130)
    svg = svg_buffer.getvalue()
    # Inline SVG needs neither the XML declaration nor the DOCTYPE; ids are made unique per figure
    # so several figures can share one HTML page.
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'id="([^"]+)"', rf'id="{figure_id}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{figure_id}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{figure_id}-\1"', svg)
    return ReportFigure(figure_id, title, caption, svg, png_buffer.getvalue())


def _figure(width: float = 7.0, height: float = 3.2) -> Figure:
    with mpl.rc_context(_STYLE):
        return Figure(figsize=(width, height))


def _boxes(
    axis: Any, groups: Sequence[Sequence[float]], labels: Sequence[str], ylabel: str
) -> None:
    kept = [(list(g), label) for g, label in zip(groups, labels, strict=True)]
    data = [g if g else [float("nan")] for g, _ in kept]
    axis.boxplot(data, showmeans=True, whis=1.5)
    crowded = len(kept) > 6
    axis.set_xticks(
        range(1, len(kept) + 1),
        [f"{label}\n(n={len(g)})" for g, label in kept],
        fontsize=6 if crowded else 7,
        rotation=30 if crowded else 0,
        ha="right" if crowded else "center",
    )
    axis.set_ylabel(ylabel)


def _uln_lines(report: Any) -> ReportFigure | None:
    # A median of one or two patients is noise on a cohort chart (the table still shows it).
    rows = [r for r in report.pd["uln"] if r["n"] >= _MIN_POINT]
    if not rows:
        return None
    strata = sorted({r["stratum"] for r in rows})
    figure = _figure()
    with mpl.rc_context(_STYLE):
        axes = figure.subplots(1, len(strata), squeeze=False)[0]
        for axis, stratum in zip(axes, strata, strict=True):
            for item in ("alt", "ast", "bilirubin", "crp", "d_dimer", "ldh"):
                points = [r for r in rows if r["item"] == item and r["stratum"] == stratum]
                if not points:
                    continue
                days = [p["hours"] / 24 + 1 for p in points]
                axis.plot(days, [p["median"] for p in points], marker="o", ms=3, label=item)
                axis.fill_between(
                    days, [p["q1"] for p in points], [p["q3"] for p in points], alpha=0.12
                )
            axis.axhline(1.0, color="grey", lw=0.8, ls="--")
            axis.set_title(stratum.replace("_", " "), fontsize=9)
            axis.set_xlabel("nominal study day")
            axis.set_ylabel("× ULN (median, IQR band)")
            axis.legend(fontsize=6, ncol=2)
    return _render(
        "fig-uln-lines",
        "Liver enzymes, CRP, D-dimer and LDH over time (× ULN)",
        "Median (line) and interquartile range (band) per nominal time point (baseline = day 1 "
        "pre-dose, days 2, 3, 8, 15, 22, 29), by therapy; points with fewer than 3 patients are "
        "not drawn; dashed line = ULN. ULN from the "
        "record's reference range, else the normal ranges of Nägele 2017 (Exp Hematol Oncol "
        "6:14). In the manner of Nägele 2017, Fig. 1.",
        figure,
    )


def _uln_boxes(report: Any) -> ReportFigure | None:
    boxes: dict[str, dict[str, list[float]]] = report.series["uln_boxes"]
    if not any(values for per_point in boxes.values() for values in per_point.values()):
        return None
    figure = _figure(7.0, 5.2)
    labels = [p.label.replace(" (baseline)", "") for p in NOMINAL_GRID]
    with mpl.rc_context(_STYLE):
        axes = figure.subplots(2, 2)
        for axis, (item, per_point) in zip(axes.flat, boxes.items(), strict=False):
            _boxes(axis, [per_point[p.label] for p in NOMINAL_GRID], labels, "× ULN")
            axis.axhline(1.0, color="grey", lw=0.8, ls="--")
            axis.set_title(_LABELS.get(item, item), fontsize=9)
    return _render(
        "fig-uln-boxes",
        "ALT, AST, CRP and D-dimer per nominal time point (box plots, × ULN)",
        "Boxes: 25th-75th percentile with median line and mean marker; whiskers 1.5 × IQR. "
        "One value per patient and point (the sample nearest the nominal time in its window). "
        "All therapies. In the manner of Nägele 2017 (Exp Hematol Oncol 6:14), Fig. 1.",
        figure,
    )


def _onset_boxes(report: Any) -> ReportFigure | None:
    onset: dict[str, list[float]] = report.series["onset_by_scale"]
    duration: dict[str, list[float]] = report.series["duration_by_scale"]
    if not any(onset.values()):
        return None
    figure = _figure(7.0, 5.0)
    with mpl.rc_context(_STYLE):
        top, bottom = figure.subplots(2, 1)
        _boxes(top, [[h / 24 for h in v] for v in onset.values()], list(onset), "days")
        top.set_title("CRS onset (first episode), days after therapy start", fontsize=9)
        _boxes(bottom, [[h / 24 for h in v] for v in duration.values()], list(duration), "days")
        bottom.set_title("CRS episode duration (resolved episodes), days", fontsize=9)
    return _render(
        "fig-onset",
        "CRS onset and duration by scale (box plots)",
        "Onset: first episode per patient; duration: onset to the first graded 0. Unresolved "
        "episodes have no duration and are counted in the table.",
        figure,
    )


def _cmax_panels(
    rows: list[dict[str, Any]],
    items: tuple[str, ...],
    by: str,
    label: Callable[[Any], str],
    ylabel: Callable[[str], str],
) -> Figure | None:
    """One log-scale box-plot panel per item, a box per value of ``by`` (dose step, regimen)."""
    shown = [item for item in items if any(r["item"] == item for r in rows)]
    if not shown:
        return None
    figure = _figure(7.0, 2.8)
    with mpl.rc_context(_STYLE):
        axes = figure.subplots(1, len(shown), squeeze=False)[0]
        for axis, item in zip(axes, shown, strict=True):
            keys = sorted({r[by] for r in rows if r["item"] == item})
            groups = [[r["cmax"] for r in rows if r["item"] == item and r[by] == k] for k in keys]
            _boxes(axis, groups, [label(k) for k in keys], ylabel(item))
            axis.set_yscale("log")
            axis.set_title(_LABELS.get(item, item), fontsize=9)
    return figure


def _step_boxes(report: Any) -> ReportFigure | None:
    figure = _cmax_panels(
        report.series["step_cmax"],
        ("il6", "ifng", "il10"),
        "step",
        lambda step: f"step {step}",
        lambda _item: "Cmax, pg/mL",
    )
    if figure is None:
        return None
    return _render(
        "fig-steps",
        "Cytokine Cmax per dose step (box plots, log scale)",
        "Per patient the maximum in each T-cell-engager dose step (a sample belongs to the step of "
        "the last dose at or before it); below the LOD counted as LOD/2. After Nägele 2017 (Exp "
        "Hematol Oncol 6:14), cytokines.",
        figure,
    )


def _regimen_boxes(report: Any) -> ReportFigure | None:
    figure = _cmax_panels(
        report.series["regimen_cmax"],
        ("il6", "ifng", "crp"),
        "regimen",
        str,
        lambda item: f"week-1 maximum, {'mg/L' if item == 'crp' else 'pg/mL'}",
    )
    if figure is None:
        return None
    return _render(
        "fig-regimen",
        "Step versus flat dosing: week-1 maximum (box plots, log scale)",
        "Per patient the maximum in the first 7 days, by the regimen derived from the dose "
        "schedule (step: a later first-cycle dose above the first). Nägele 2017 (Exp Hematol "
        "Oncol 6:14): step dosing was associated with lower cytokine release.",
        figure,
    )


def _incidence_lines(report: Any) -> ReportFigure | None:
    rows = [r for r in report.incidence if r["kind"] == "crs"]
    if not rows:
        return None
    figure = _figure(7.0, 3.0)
    with mpl.rc_context(_STYLE):
        axis = figure.subplots()
        grades = list(range(0, 6))
        for row in rows:
            total = row["patients"] or 1
            axis.plot(
                grades,
                [100 * row[f"grade_{g}"] / total for g in grades],
                marker="o",
                ms=3,
                label=row["scale"],
            )
        axis.set_xticks(grades)
        axis.set_xlabel("peak CRS grade (hard grades only)")
        axis.set_ylabel("% of patients")
        axis.legend(fontsize=6, ncol=3)
    return _render(
        "fig-incidence",
        "Peak CRS grade distribution by scale",
        "Share of patients per peak grade on each scale over the assessed follow-up; patients "
        "whose peak is a range are not drawn (see the table's 'uncertain' column).",
        figure,
    )


def report_figures(report: Any) -> list[ReportFigure]:
    """Every figure the report's data allow (a section without data has no figure)."""
    makers = (_incidence_lines, _onset_boxes, _uln_lines, _uln_boxes, _step_boxes, _regimen_boxes)
    figures = [maker(report) for maker in makers]
    return [figure for figure in figures if figure is not None]
