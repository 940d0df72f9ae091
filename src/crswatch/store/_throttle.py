"""Login throttling by client address and by username, independent of any request header.

Each login attempt is counted as a failure *before* its password is hashed (``acquire``), on two
counters: the client address's and the (hashed) username's, so concurrent guesses cannot all
slip through before the first is counted.  After ``free`` failures a counter locks for ``base``
seconds, doubling with every further failure up to ``ceiling``; while either counter is locked a
login is answered 429 with Retry-After before any hashing, so guessing costs the server nothing.
A success takes its attempt back: it clears the username's counter and removes the one attempt
from the address's (one known account must not reset the budget for guessing the others); a
counter idle for ``forget`` seconds starts again from zero.

The counters live in the process: several processes serving one database would multiply the
budget by their number, so ``crswatch serve`` allows one (``_instance``;
docs/decisions/0063-one-service-process.md).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LoginThrottle"]


@dataclass(slots=True)
class _Counter:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0
    #: The lock before the latest attempt (a success restores it: its attempt is taken back).
    previous_lock: float = 0.0


class LoginThrottle:
    """Exponential back-off per client address and per username (thread-safe)."""

    def __init__(
        self,
        *,
        free: int = 5,
        base: float = 1.0,
        ceiling: float = 900.0,
        forget: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.free = free
        self.base = base
        self.ceiling = ceiling
        self.forget = forget
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}

    @staticmethod
    def _keys(address: str, username: str) -> tuple[str, str]:
        # The typed username may be a password typed in the wrong field: only its hash is kept.
        digest = hashlib.sha256(username.casefold().encode()).hexdigest()
        return f"addr:{address}", f"user:{digest}"

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until a login from ``address`` as ``username`` may be tried; 0: now."""
        now = self._clock()
        with self._lock:
            waits = [
                counter.locked_until - now
                for key in self._keys(address, username)
                if (counter := self._counters.get(key)) is not None
            ]
        wait = max(waits, default=0.0)
        return math.ceil(wait) if wait > 0 else 0

    def acquire(self, address: str, username: str) -> int:
        """Seconds to wait (429) if locked; else 0, with this attempt counted as a failure
        until :meth:`success` takes it back."""
        now = self._clock()
        with self._lock:
            keys = self._keys(address, username)
            wait = max(
                (c.locked_until - now for k in keys if (c := self._counters.get(k)) is not None),
                default=0.0,
            )
            if wait > 0:
                return math.ceil(wait)
            self._count(now, keys)
        return 0

    def failure(self, address: str, username: str) -> None:
        """Count one failed attempt that was not acquired first."""
        now = self._clock()
        with self._lock:
            self._count(now, self._keys(address, username))

    def _count(self, now: float, keys: tuple[str, str]) -> None:
        self._prune(now)
        for key in keys:
            counter = self._counters.setdefault(key, _Counter())
            if now - counter.last > self.forget and counter.locked_until <= now:
                counter.failures = 0
            counter.failures += 1
            counter.last = now
            counter.previous_lock = counter.locked_until
            excess = counter.failures - self.free
            if excess > 0:
                delay = min(self.ceiling, self.base * 2 ** min(excess - 1, 30))
                counter.locked_until = now + delay

    def success(self, address: str, username: str) -> None:
        """An acquired attempt succeeded: the username starts afresh, the address gets its
        attempt back."""
        address_key, user_key = self._keys(address, username)
        with self._lock:
            self._counters.pop(user_key, None)
            counter = self._counters.get(address_key)
            if counter is not None:
                counter.failures = max(0, counter.failures - 1)
                counter.locked_until = counter.previous_lock

    def _prune(self, now: float) -> None:
        if len(self._counters) < self._max_keys:
            return
        stale = [
            key
            for key, counter in self._counters.items()
            if now - counter.last > self.forget and counter.locked_until <= now
        ]
        for key in stale:
            del self._counters[key]
        if len(self._counters) >= self._max_keys:  # a flood of fresh keys: keep the locked
            self._counters = {k: c for k, c in self._counters.items() if c.locked_until > now}
