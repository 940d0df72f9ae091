"""The cohort report as one self-contained HTML file: inline CSS, inline SVG, no scripts, no
network (decision 0020: a safety team opens it offline, attaches it to minutes, archives it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from crswatch.cohort._report_data import CohortReport
from crswatch.cohort._report_figures import ReportFigure
from crswatch.cohort._report_format import miqr, num, short
from crswatch.scales import GRADE_LEGEND

__all__ = ["render_html"]

_TEMPLATES = Path(__file__).parent / "templates"


def _pd_table(rows: Sequence[Mapping[str, Any]], uln: bool) -> Markup:
    """Items × strata as rows, nominal points as columns; each cell ``median [IQR]`` and n."""
    if not rows:
        return Markup("<p>No results for these items.</p>")
    points = list(dict.fromkeys(row["point"] for row in rows))
    head = "".join(f"<th>{escape(p)}</th>" for p in points)
    extra = "<th>ULN from record</th>" if uln else ""
    lines = [
        '<div class="scroll"><table class="pd">'
        f'<tr><th class="l">Item</th><th class="l">Stratum</th>{head}{extra}</tr>'
    ]
    keys = list(dict.fromkeys((row["item"], row["stratum"]) for row in rows))
    for item, stratum in keys:
        cells = []
        mine = [r for r in rows if r["item"] == item and r["stratum"] == stratum]
        by_point = {r["point"]: r for r in mine}
        for point in points:
            row = by_point.get(point)
            if row is None or not row["n"]:
                cells.append("<td>–</td>")
            else:
                cells.append(
                    f"<td>{short(row['median'])} [{short(row['q1'])}–{short(row['q3'])}]"
                    f"<br><small>n={row['n']}</small></td>"
                )
        record = ""
        if uln:
            used = sum(int(r.get("uln_from_record") or 0) for r in mine)
            total = sum(int(r["n"] or 0) for r in mine)
            record = f"<td>{used} of {total}</td>"
        lines.append(
            f'<tr><td class="l">{escape(item)}</td><td class="l">{escape(stratum)}</td>'
            f"{''.join(cells)}{record}</tr>"
        )
    lines.append("</table></div>")
    return Markup("".join(lines))


def render_html(report: CohortReport, figures: Sequence[ReportFigure]) -> str:
    """The report as an HTML document (a string)."""
    environment = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["miqr"] = miqr
    environment.filters["num"] = num
    by_id = {figure.id: figure for figure in figures}

    def fig(figure_id: str) -> Markup:
        figure = by_id.get(figure_id)
        if figure is None:
            return Markup("")
        # The SVG is produced by matplotlib from numbers, never from record text.
        return Markup(
            f'<figure id="{escape(figure.id)}">{figure.svg}'
            f"<figcaption><strong>{escape(figure.title)}.</strong> "
            f"{escape(figure.caption)}</figcaption></figure>"
        )

    template = environment.get_template("report.html.j2")
    return template.render(
        h=report.header,
        c=report.cohort,
        incidence=report.incidence,
        onset=report.onset,
        t=report.tocilizumab,
        s=report.same_grade,
        agreement=report.agreement,
        regrades=report.regrades,
        pd=report.pd,
        fig=fig,
        pd_table=_pd_table,
        grade_legend=GRADE_LEGEND,
    )
