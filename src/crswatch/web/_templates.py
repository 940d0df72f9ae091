"""The Jinja2 environment of the dashboard's templates (autoescaped HTML).

Times are shown in the site's zone (``app.state.site_zone``, set by ``mount_dashboard``;
decision 0050): ``clock`` gives ``2024-03-02 15:00 CET``, ``hm`` ``15:00`` on the day of the
page's ``now`` (else ``1 Mar 15:00``), ``finding`` one deciding finding with its time.  The
``datetime`` attributes of ``<time>`` elements stay ISO 8601 UTC (``iso``).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.templating import Jinja2Templates

from crswatch.scales import GRADE_LEGEND, grade_notation
from crswatch.timeline import format_time
from crswatch.web._why import Finding, finding_text, short_time
from crswatch.web._zone import zone_name

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "templates", "zone_of"]

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def zone_of(context: Context | dict[str, Any]) -> tzinfo:
    """The site's zone from a template context (UTC when rendered outside the app)."""
    request = context.get("request")
    zone = getattr(getattr(getattr(request, "app", None), "state", None), "site_zone", None)
    return zone if isinstance(zone, tzinfo) else UTC


@pass_context
def _clock(context: Context, moment: datetime | None) -> str:
    """A moment as the ward shows it: ``2024-03-02 15:00 CET`` (no seconds, 24-hour clock)."""
    if moment is None:
        return ""
    local = moment.astimezone(zone_of(context))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


@pass_context
def _hm(context: Context, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return short_time(moment, zone_of(context), context.get("now"))


@pass_context
def _finding(context: Context, finding: Finding) -> str:
    return finding_text(finding, zone_of(context), context.get("now"))


@pass_context
def _zone_label(context: Context, moment: datetime | None = None) -> str:
    return zone_name(zone_of(context), moment or datetime.now(UTC))


def _make() -> Jinja2Templates:
    made = Jinja2Templates(directory=TEMPLATE_DIR)
    made.env.filters["clock"] = _clock
    made.env.filters["hm"] = _hm
    made.env.filters["finding"] = _finding
    made.env.filters["zone_label"] = _zone_label
    made.env.filters["iso"] = format_time
    # One notation for grades on every surface (terminal, dashboard, report), with its legend.
    made.env.globals["grade_legend"] = GRADE_LEGEND
    made.env.globals["GRADE_LEGEND"] = GRADE_LEGEND
    made.env.globals["grade_notation"] = grade_notation
    made.env.trim_blocks = True
    made.env.lstrip_blocks = True
    return made


templates = _make()
