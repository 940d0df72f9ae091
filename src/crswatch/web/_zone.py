"""The site's time zone: every time on a page is shown in it, with the zone named.

The API keeps ISO 8601 UTC; only the dashboard converts.  The zone is the setting
``site_timezone`` (``CRSWATCH_SITE_TIMEZONE``, an IANA name), else the server's local zone
(``TZ``, ``/etc/timezone`` or the ``/etc/localtime`` link), else the offset the C library
reports.  Decision: docs/decisions/0050-site-time-zone.md.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crswatch.errors import InputError

__all__ = ["local_zone", "site_zone", "zone_name"]


def _named(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name.strip().lstrip(":"))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_zone() -> tzinfo:
    """The server's local zone, by name when the system says it."""
    candidates = [os.environ.get("TZ")]
    with contextlib.suppress(OSError):  # not every system has the file
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    link = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in link:
        candidates.append(link.split("zoneinfo/", 1)[1])
    for candidate in candidates:
        zone = _named(candidate)
        if zone is not None:
            return zone
    fallback = datetime.now().astimezone().tzinfo
    return fallback if fallback is not None else ZoneInfo("UTC")


def site_zone(name: str | None) -> tzinfo:
    """The zone named by the setting, or the server's local zone when it is not set."""
    if name is None or not name.strip():
        return local_zone()
    zone = _named(name)
    if zone is None:
        raise InputError(
            f"site_timezone={name!r}: not an IANA time zone name (e.g. 'Europe/Berlin', 'UTC')"
        )
    return zone


def zone_name(zone: tzinfo, moment: datetime) -> str:
    """``Europe/Berlin (CET)``, or ``UTC``: the zone as a page names it at ``moment``."""
    key = getattr(zone, "key", None)
    abbreviation = moment.astimezone(zone).tzname() or ""
    if key is None or key == abbreviation:
        return abbreviation or str(zone)
    return f"{key} ({abbreviation})" if abbreviation and abbreviation[0] not in "+-" else key
