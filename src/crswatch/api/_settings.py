"""Service settings, from the environment (``CRSWATCH_*``) or given to ``create_app``."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    #: Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Requests per token (or per client address without one) per minute; more get 429.
    rate_limit_per_minute: int = 600
    #: Lifetime of a token issued by /auth/login (hours).
    login_token_hours: float = 12.0

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
        )
