"""The cohort report as PDF: the same sections, tables (reportlab) and figures (matplotlib PNG)
as the HTML.  Pure Python: reportlab and matplotlib need no system libraries (decision 0020;
WeasyPrint would need Pango, which CI does not install)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from crswatch.cohort._report_data import CohortReport
from crswatch.cohort._report_figures import ReportFigure
from crswatch.cohort._report_format import miqr, short
from crswatch.scales import GRADE_LEGEND

__all__ = ["write_pdf"]

#: Bitstream Vera, shipped with reportlab: the PDF's standard Helvetica is encoded in
#: WinAnsi, which has no "≥" or "≤" (a table head read "grade ■ 3"); Vera has them.
_FONT, _BOLD = "Vera", "Vera-Bold"
_FACES = {
    _FONT: "Vera.ttf",
    _BOLD: "VeraBd.ttf",
    "Vera-Italic": "VeraIt.ttf",
    "Vera-BoldItalic": "VeraBI.ttf",
}

_STYLES = getSampleStyleSheet()
for _name in ("Title", "Heading2", "Heading3", "BodyText"):
    _STYLES[_name].fontName = _BOLD if _name != "BodyText" else _FONT
_BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=8.5, leading=11)
_NOTE = ParagraphStyle("note", parent=_BODY, fontSize=7.5, leading=9.5, textColor=colors.grey)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=7, leading=8.5)
_GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), _FONT, 7),
        ("FONT", (0, 0), (-1, 0), _BOLD, 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f2f6")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8ced8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(text, style)


def _table(rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
    table = Table(
        [[str(c) for c in row] for row in rows], colWidths=widths, repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(_GRID)
    return table


def _figure(figure: ReportFigure | None, width: float = 24 * cm) -> list[Flowable]:
    if figure is None:
        return []
    image = Image(io.BytesIO(figure.png))
    scale = width / image.imageWidth
    image.drawWidth, image.drawHeight = width, image.imageHeight * scale
    caption = _p(f"<b>{figure.title}.</b> {figure.caption}", _NOTE)
    return [KeepTogether([image, caption]), Spacer(1, 6)]


def _header(report: CohortReport) -> list[Flowable]:
    h = report.header
    params = ", ".join(f"{k}={v}" for k, v in h["params"].items())
    status = "" if h["complete"] else " — <b>incomplete run</b>"
    return [
        _p(
            "Cohort report: CRS and ICANS grading, agreement and pharmacodynamics", _STYLES["Title"]
        ),
        _p(f"<b>Source data:</b> {h['source']}"),
        _p(f"<b>Graded output:</b> {h['output']} ({h['format']}, engine {h['engine']})"),
        _p(f"<b>crswatch version:</b> {h['crswatch_version']}; report generated {h['generated']}"),
        _p(
            f"<b>Patients:</b> {h['patients']} ({h['shards_done']} of {h['shards_total']} shards "
            f"graded){status}"
        ),
        _p(f"<b>Scales:</b> {', '.join(h['scales'])}"),
        _p(f"<b>State-engine parameters:</b> {params}", _NOTE),
        _p(
            "crswatch is clinical decision support; every figure is computed from the graded "
            "records and is to be checked by a clinician or data manager.",
            _NOTE,
        ),
    ]


def _incidence(report: CohortReport) -> list[Flowable]:
    head = [
        "Syndrome",
        "Scale",
        "n",
        *(f"G{g}" for g in range(6)),
        "of which provisional",
        "uncertain",
        "any grade",
        "+ possible",
        "grade ≥ 3",
        "+ possible",
        "whole-record ranges",
    ]
    rows: list[list[Any]] = [head]
    for r in report.incidence:
        rows.append(
            [
                r["kind"].upper(),
                r["scale"],
                r["patients"],
                *(r[f"grade_{g}"] for g in range(6)),
                f"{r['provisional']} ({r['provisional_pct']} %)",
                f"{r['uncertain']} ({r['uncertain_pct']} %)",
                f"{r['any_grade']} ({r['any_grade_pct']} %)",
                r["any_grade_uncertain"],
                f"{r['grade3plus']} ({r['grade3plus_pct']} %)",
                r["grade3plus_uncertain"],
                r["record_uncertain"],
            ]
        )
    return [
        _p("2. Incidence by grade and scale", _STYLES["Heading2"]),
        _p(
            "Peak grade per patient over the assessed follow-up (first graded assessment after "
            "therapy start to the end of the last graded state). A provisional peak (the grade on "
            "the documented findings; missing data could raise it) counts under its grade and "
            "apart under 'of which provisional'. A range (not assessable or "
            "ambiguous) is counted as uncertain, never as grade 0; '+ possible' counts patients "
            "whose range reaches the level. Percentages of all patients. Last column: whole-record "
            "peaks (the peaks table) that are ranges.",
            _NOTE,
        ),
        _table(rows),
        _p(
            "Uncertain: a peak that is not one grade, in the notation used everywhere in crswatch:",
            _NOTE,
        ),
        *(_p(f"• {line}", _NOTE) for line in GRADE_LEGEND),
    ]


def _agreement(report: CohortReport) -> list[Flowable]:
    s = report.same_grade
    out: list[Flowable] = [
        _p("5. Cross-scale agreement", _STYLES["Heading2"]),
        _p(
            "Patients with a hard peak on every scale compared; same-grade-everywhere and presence "
            "agreement as Pennisi et al. 2020 (99 % presence, 25 % exact grade). Weighted kappa: "
            "Cohen 1968, linear and quadratic weights (scikit-learn cohen_kappa_score).",
            _NOTE,
        ),
        _table(
            [
                ["Measure", "Value"],
                [
                    "Patients with a hard peak on every CRS scale",
                    f"{s['patients']} (excluded {s['excluded']})",
                ],
                ["Same peak grade on every scale", f"{s['same_grade']} ({s['same_grade_pct']} %)"],
                ["Agree on presence", f"{s['same_presence']} ({s['same_presence_pct']} %)"],
            ]
        ),
        Spacer(1, 6),
    ]
    rows: list[list[Any]] = [
        ["Scale A", "Scale B", "n", "excluded", "same grade", "κ linear", "κ quadratic"]
    ]
    for a in report.agreement:
        rows.append(
            [
                a.scale_a,
                a.scale_b,
                a.patients,
                a.excluded,
                f"{a.same} ({a.same_pct} %)",
                "–" if a.kappa_linear is None else f"{a.kappa_linear:.2f}",
                "–" if a.kappa_quadratic is None else f"{a.kappa_quadratic:.2f}",
            ]
        )
    out.append(_table(rows))
    out.append(_p("Confusion matrices (rows: scale A peak grade; columns: scale B)", _BODY))
    cells: list[Flowable] = []
    for a in report.agreement:
        matrix = [[f"{a.scale_a} × {a.scale_b}", *range(6)]]
        matrix += [[i, *a.matrix[i]] for i in range(6)]
        table = Table([[str(c) for c in row] for row in matrix], hAlign="LEFT")
        table.setStyle(_GRID)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (i + 1, i + 1), (i + 1, i + 1), colors.HexColor("#e7f3ea"))
                    for i in range(6)
                ]
            )
        )
        cells.append(table)
    grid = [cells[i : i + 3] for i in range(0, len(cells), 3)]
    if grid:
        grid[-1] += [Spacer(1, 1)] * (3 - len(grid[-1]))
        layout = Table(grid, hAlign="LEFT")
        # A table of tables: no text of its own, but its cells' font is declared in the PDF.
        layout.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), _FONT, 7)]))
        out.append(layout)
    return out


def _regrades(report: CohortReport) -> list[Flowable]:
    rows: list[list[Any]] = [
        [
            "Source → target",
            "with CRS on source",
            "same",
            "lower on target",
            "higher on target",
            "changes (source → target)",
            "to none",
            "new on target",
            "excluded",
        ]
    ]
    for g in report.regrades:
        d = g.to_dict()
        rows.append(
            [
                f"{d['source']} → {d['target']}",
                d["with_event"],
                f"{d['same']} ({d['same_pct']} %)",
                f"{d['lower']} ({d['lower_pct']} %)",
                f"{d['higher']} ({d['higher_pct']} %)",
                _p(d["changes_text"] or "–"),
                d["to_none"],
                d["new_on_target"],
                d["excluded"],
            ]
        )
    return [
        _p("6. Re-grading tables", _STYLES["Heading2"]),
        _p(
            "As the JULIET re-grade (Schuster et al., Blood Adv 2020;4(7):1432): among patients "
            "with CRS on the source scale, the target's peak is the same, lower (target grade "
            "below the source grade) or higher (above it); the changes are listed as source "
            "grade → target grade.",
            _NOTE,
        ),
        _table(rows),
    ]


def _pd_rows(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    points = list(dict.fromkeys(row["point"] for row in rows))
    out: list[list[Any]] = [["Item", "Stratum", *points]]
    for item, stratum in dict.fromkeys((r["item"], r["stratum"]) for r in rows):
        by_point = {r["point"]: r for r in rows if r["item"] == item and r["stratum"] == stratum}
        cells = []
        for point in points:
            r = by_point.get(point)
            cells.append(
                "–"
                if r is None or not r["n"]
                else f"{short(r['median'])} [{short(r['q1'])}–{short(r['q3'])}] n={r['n']}"
            )
        out.append([item, stratum, *cells])
    return out


def _pd(report: CohortReport, figures: Mapping[str, ReportFigure]) -> list[Flowable]:
    pd = report.pd
    out: list[Flowable] = [
        _p("7. Pharmacodynamics (in the manner of Nägele 2017)", _STYLES["Heading2"]),
        _p(
            "Nominal points: "
            + "; ".join(
                f"{p['label']} ({p['hours']:.0f} h, −{p['before']:.0f}/+{p['after']:.0f} h)"
                for p in pd["grid"]
            )
            + ". Median [IQR]. × ULN over the record's reference range, else the normal ranges of "
            "Nägele 2017 (Exp Hematol Oncol 6:14). Below the LOD: LOD/2.",
            _NOTE,
        ),
        _p("× ULN", _STYLES["Heading3"]),
    ]
    if pd["uln"]:
        out.append(_table(_pd_rows(pd["uln"])))
    out += _figure(figures.get("fig-uln-lines"))
    out += _figure(figures.get("fig-uln-boxes"), 18 * cm)
    out.append(_p("Ferritin, fibrinogen and cytokines", _STYLES["Heading3"]))
    if pd["raw"]:
        out.append(_table(_pd_rows(pd["raw"])))
    out.append(_p("Cytokine Cmax per dose step", _STYLES["Heading3"]))
    if pd["steps"]:
        rows: list[list[Any]] = [
            ["Cytokine", "step", "dose", "n", "Cmax median [IQR] (range)", "mean"]
        ]
        rows += [
            [r["item"], r["step"], f"{r['dose']} {r['dose_unit']}", r["n"], miqr(r), r["mean"]]
            for r in pd["steps"]
        ]
        out.append(_table(rows))
    else:
        out.append(_p("No T-cell-engager dose steps in this cohort."))
    out += _figure(figures.get("fig-steps"))
    out.append(_p("Step versus flat dosing (week-1 maximum)", _STYLES["Heading3"]))
    if pd["regimen"]:
        rows = [["Item", "Regimen", "n", "median [IQR] (range)"]]
        rows += [[r["item"], r["regimen"], r["n"], miqr(r)] for r in pd["regimen"]]
        out.append(_table(rows))
    else:
        out.append(_p("No patient has a step or flat regimen."))
    out += _figure(figures.get("fig-regimen"))
    out.append(_p("Responders", _STYLES["Heading3"]))
    if pd["responders"]:
        out.append(_table(_pd_rows(pd["responders"])))
    else:
        out.append(
            _p(
                "Response was not given in the records (the optional patient field "
                "'response'), so no responder strata are shown."
            )
        )
    return out


@cache
def _register_fonts() -> None:
    for name, file in _FACES.items():
        pdfmetrics.registerFont(TTFont(name, file))  # found in reportlab's own fonts folder
    # <b> and <i> in paragraphs pick the family's faces.
    registerFontFamily(
        _FONT, normal=_FONT, bold=_BOLD, italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )


def write_pdf(report: CohortReport, figures: Sequence[ReportFigure], path: str | Path) -> Path:
    """Write the report as a landscape A4 PDF to ``path``."""
    _register_fonts()
    path = Path(path)
    by_id = {figure.id: figure for figure in figures}
    c = report.cohort
    story: list[Flowable] = [*_header(report)]
    story += [
        _p("1. Cohort", _STYLES["Heading2"]),
        _table(
            [["Therapy", "n (%)"]]
            + [[r["value"], f"{r['n']} ({r['pct']} %)"] for r in c["therapy_kind"]]
        ),
        Spacer(1, 4),
        _table(
            [["Regimen", "n (%)"]]
            + [[r["value"], f"{r['n']} ({r['pct']} %)"] for r in c["regimen"]]
        ),
        Spacer(1, 4),
        _table(
            [["Best response", "n (%)"]]
            + [[r["value"], f"{r['n']} ({r['pct']} %)"] for r in c["response"]]
        ),
        _p(f"Age: {miqr(c['age'])} years."),
        PageBreak(),
        *_incidence(report),
        *_figure(by_id.get("fig-incidence"), 20 * cm),
        _p("3. Onset and duration", _STYLES["Heading2"]),
        _table(
            [["Syndrome", "Scale", "patients", "episodes", "unresolved", "onset, h", "duration, h"]]
            + [
                [
                    r["kind"].upper(),
                    r["scale"],
                    r["patients"],
                    r["episodes"],
                    r["unresolved"],
                    miqr(r["onset"]),
                    miqr(r["duration"]),
                ]
                for r in report.onset
            ]
        ),
        *_figure(by_id.get("fig-onset"), 18 * cm),
        _p("4. Time to first tocilizumab", _STYLES["Heading2"]),
        _table(
            [
                ["Measure", "Value"],
                [
                    "Patients given tocilizumab",
                    f"{report.tocilizumab['patients']} ({report.tocilizumab['pct']} %)",
                ],
                ["Hours from therapy start", miqr(report.tocilizumab["from_start"])],
                ["Hours from ASTCT CRS onset", miqr(report.tocilizumab["from_onset"])],
            ]
        ),
        PageBreak(),
        *_agreement(report),
        *_regrades(report),
        PageBreak(),
        *_pd(report, by_id),
    ]
    document = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.2 * cm,
        title="crswatch cohort report",
        author=f"crswatch {report.header['crswatch_version']}",
        # The canvas's own first font, else Helvetica is declared though nothing is set in it.
        initialFontName=_FONT,
    )
    document.build(story)
    return path
