"""The login throttle: free failures, exponential back-off, per address and per username."""

from __future__ import annotations

from crswatch.store import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_back_off_doubles_after_the_free_failures_up_to_the_ceiling() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=3, base=1.0, ceiling=8.0, clock=clock)
    waits = []
    for _ in range(8):
        wait = throttle.acquire("10.0.0.1", "nurse")
        if wait:
            clock.now += wait  # the client waits as told, then tries again (and fails)
            assert throttle.acquire("10.0.0.1", "nurse") == 0
        waits.append(wait)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8]


def test_a_success_clears_the_username_but_not_the_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=2, clock=clock)
    for name in ("a", "b", "c"):
        assert throttle.acquire("10.0.0.1", name) == 0
    assert throttle.acquire("10.0.0.1", "d") > 0  # the address is locked for every name
    clock.now += 10
    assert throttle.acquire("10.0.0.1", "a") == 0
    throttle.success("10.0.0.1", "a")
    assert throttle.retry_after("10.0.0.2", "a") == 0  # the name starts afresh
    assert throttle.retry_after("10.0.0.1", "b") == 0  # the success took its attempt back


def test_a_username_locks_across_addresses_and_idle_counters_are_forgotten() -> None:
    clock = Clock()
    throttle = LoginThrottle(free=2, forget=60.0, clock=clock)
    for n in range(3):
        throttle.failure(f"10.0.0.{n}", "Nurse")
    assert throttle.retry_after("192.0.2.9", "nurse") > 0  # names compare case-insensitively
    clock.now += 3600
    throttle.failure("192.0.2.9", "nurse")
    assert throttle.retry_after("192.0.2.9", "nurse") == 0  # counted from zero again
