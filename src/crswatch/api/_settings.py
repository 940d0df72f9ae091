"""Service settings, from the environment (``CRSWATCH_*``) or given to ``create_app``."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the timeline package is heavy; imported on use below
    from crswatch.timeline import TimeWindow

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    #: Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Requests per client address per minute; more get 429 (0: no limit).
    rate_limit_per_minute: int = 600
    #: Failed logins from one address, or for one username, before exponential back-off.
    login_free_failures: int = 5
    #: Longest back-off after failed logins (seconds).
    login_max_backoff_seconds: float = 900.0
    #: Proxies (addresses or networks) whose X-Forwarded-For is believed; empty: none is, and
    #: the client address is the connection's peer.
    trusted_proxies: tuple[str, ...] = ()
    #: A dashboard session unused this long ends (minutes).
    session_idle_minutes: float = 60.0
    #: Times before this are rejected at ingest (an entry error; docs/decisions/0036).
    earliest_time: datetime = datetime(1900, 1, 1, tzinfo=UTC)
    #: Times more than this far after now are rejected at ingest (hours).
    future_tolerance_hours: float = 24.0
    #: Most evaluation times a trajectory request may compute (more: 422 naming ``every``).
    max_trajectory_rows: int = 20_000
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
            login_free_failures=int(
                env.get("CRSWATCH_LOGIN_FREE_FAILURES", default.login_free_failures)
            ),
            login_max_backoff_seconds=float(
                env.get("CRSWATCH_LOGIN_MAX_BACKOFF_SECONDS", default.login_max_backoff_seconds)
            ),
            trusted_proxies=_networks(env.get("CRSWATCH_TRUSTED_PROXIES", "")),
            session_idle_minutes=float(
                env.get("CRSWATCH_SESSION_IDLE_MINUTES", default.session_idle_minutes)
            ),
            earliest_time=_moment(env.get("CRSWATCH_EARLIEST_TIME")) or default.earliest_time,
            future_tolerance_hours=float(
                env.get("CRSWATCH_FUTURE_TOLERANCE_HOURS", default.future_tolerance_hours)
            ),
            max_trajectory_rows=int(
                env.get("CRSWATCH_MAX_TRAJECTORY_ROWS", default.max_trajectory_rows)
            ),
            session_secret=env.get("CRSWATCH_SESSION_SECRET") or None,
            secure_cookies=_flag(env.get("CRSWATCH_SECURE_COOKIES")),
            dashboard_now=_moment(env.get("CRSWATCH_DASHBOARD_NOW")),
            site_timezone=env.get("CRSWATCH_SITE_TIMEZONE") or None,
        )

    def time_window(self) -> TimeWindow:
        """The plausible time window every ingest enforces."""
        from crswatch.timeline import TimeWindow

        return TimeWindow(self.earliest_time, timedelta(hours=self.future_tolerance_hours))


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks, each checked (a typo must not trust everyone)."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        ipaddress.ip_network(name, strict=False)
    return names


def _flag(text: str | None) -> bool | None:
    if text is None or text.strip() == "" or text.strip().lower() == "auto":
        return None
    return text.strip().lower() in ("1", "true", "yes", "on")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    from crswatch.timeline import parse_time  # the timeline package is heavy; import on use

    return parse_time(text, "CRSWATCH_DASHBOARD_NOW")
