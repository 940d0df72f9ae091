"""Service settings, from the environment (``CRSWATCH_*``) or given to ``create_app``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    #: Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Requests per token (or per client address without one) per minute; more get 429.
    rate_limit_per_minute: int = 600
    #: Lifetime of a token issued by /auth/login (hours).
    login_token_hours: float = 12.0
    #: Key signing the dashboard's session cookie; None: a random key per process (sessions
    #: then end when the process restarts).
    session_secret: str | None = None
    #: The session cookie's ``Secure`` flag: True always, False never (plain HTTP), None: always
    #: except plain-HTTP requests to a loopback address (docs/decisions/0016-dashboard.md).
    secure_cookies: bool | None = None
    #: The dashboard's "now" (aware, UTC); None: the wall clock. For reproducible tests and
    #: screenshots of a synthetic ward.
    dashboard_now: datetime | None = None
    #: The dashboard's time zone (an IANA name such as ``Europe/Berlin``); None: the server's
    #: local zone.  Pages show times in it with the zone named; the API stays in UTC.
    site_timezone: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        default = cls()
        return cls(
            max_body_bytes=int(env.get("CRSWATCH_MAX_BODY_BYTES", default.max_body_bytes)),
            rate_limit_per_minute=int(
                env.get("CRSWATCH_RATE_LIMIT_PER_MINUTE", default.rate_limit_per_minute)
            ),
            login_token_hours=float(
                env.get("CRSWATCH_LOGIN_TOKEN_HOURS", default.login_token_hours)
            ),
            session_secret=env.get("CRSWATCH_SESSION_SECRET") or None,
            secure_cookies=_flag(env.get("CRSWATCH_SECURE_COOKIES")),
            dashboard_now=_moment(env.get("CRSWATCH_DASHBOARD_NOW")),
            site_timezone=env.get("CRSWATCH_SITE_TIMEZONE") or None,
        )


def _flag(text: str | None) -> bool | None:
    if text is None or text.strip() == "" or text.strip().lower() == "auto":
        return None
    return text.strip().lower() in ("1", "true", "yes", "on")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    from crswatch.timeline import parse_time  # the timeline package is heavy; import on use

    return parse_time(text, "CRSWATCH_DASHBOARD_NOW")
