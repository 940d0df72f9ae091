"""The Jinja2 environment of the dashboard's templates (autoescaped HTML)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from starlette.templating import Jinja2Templates

from crswatch.scales import GRADE_LEGEND, grade_notation
from crswatch.timeline import format_time

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "templates"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _clock(moment: datetime | None) -> str:
    """A UTC moment as the ward shows it: ``2024-03-02 14:00 UTC``."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _make() -> Jinja2Templates:
    made = Jinja2Templates(directory=TEMPLATE_DIR)
    made.env.filters["clock"] = _clock
    made.env.filters["iso"] = format_time
    # One notation for grades on every surface (terminal, dashboard, report), with its legend.
    made.env.globals["grade_legend"] = GRADE_LEGEND
    made.env.globals["grade_notation"] = grade_notation
    made.env.trim_blocks = True
    made.env.lstrip_blocks = True
    return made


templates = _make()
