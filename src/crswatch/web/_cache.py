"""The timeline cache, now shared with the API: it lives in ``crswatch.store`` (decision 0025).

Kept so that ``crswatch.web._cache.TimelineCache`` still names it.
"""

from crswatch.store import TimelineCache
from crswatch.store._cache import DEFAULT_MAX_EVENTS

__all__ = ["DEFAULT_MAX_EVENTS", "TimelineCache"]
