"""The clinician dashboard: server-rendered pages (Jinja2 + htmx) over the service's store.

``mount_dashboard(app)`` adds the pages to the service's FastAPI application (``create_app``
does it), so ``crswatch serve`` serves API and dashboard together.  The ward's rows come from a
pure view model (:func:`ward_rows`); bedside entries are validated by :func:`build_entry` like
any other input.  Decisions: docs/decisions/0016-dashboard.md.
"""

from crswatch.web._entry import ENTRY_FORMS, EntryForm, EntryResult, FormField, build_entry
from crswatch.web._mount import mount_dashboard
from crswatch.web._ward import (
    FERRITIN_ALERT_NG_ML,
    Alert,
    GradeCell,
    Trend,
    WardRow,
    ward_rows,
)

__all__ = [
    "ENTRY_FORMS",
    "FERRITIN_ALERT_NG_ML",
    "Alert",
    "EntryForm",
    "EntryResult",
    "FormField",
    "GradeCell",
    "Trend",
    "WardRow",
    "build_entry",
    "mount_dashboard",
    "ward_rows",
]
