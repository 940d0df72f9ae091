"""``write_report``: a graded cohort to a self-contained HTML report and, optionally, a PDF."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crswatch.cohort._read import CohortResult
from crswatch.cohort._report_data import DEFAULT_PAIRS, CohortReport, build_report

__all__ = ["write_report"]


def write_report(
    result: CohortResult,
    html: str | Path,
    *,
    pdf: str | Path | None = None,
    pairs: Sequence[tuple[str, str]] = DEFAULT_PAIRS,
) -> CohortReport:
    """Build the report of ``result`` and write it to ``html`` (and ``pdf`` if given).

    The figures are drawn once and rendered as inline SVG for the HTML and PNG for the PDF."""
    # Imported here: matplotlib, Jinja2 and reportlab are needed only to render a report.
    from crswatch.cohort._report_figures import report_figures
    from crswatch.cohort._report_html import render_html
    from crswatch.cohort._report_pdf import write_pdf

    report = build_report(result, pairs)
    figures = report_figures(report)
    Path(html).write_text(render_html(report, figures), encoding="utf-8")
    if pdf is not None:
        write_pdf(report, figures, pdf)
    return report
