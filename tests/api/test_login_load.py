"""Login guessing under load (issue 18, point 1): a bounded loopback test.

Eight clients guess passwords as fast as they can, each request with a fresh random
``Authorization`` header (which used to buy a fresh rate-limit bucket); meanwhile a legitimate
client reads with its token.  The throttle must answer the guesses 429 before hashing, so only a
handful of Argon2 verifications run, and the legitimate client keeps most of its throughput.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter

import httpx

from crswatch.store import Store, create_user, issue_token
from tests.api.conftest import PASSWORD
from tests.api.test_fault_injection import _start

GUESSERS = 8
SECONDS = 4.0


def _legitimate(base: str, token: str, seconds: float) -> int:
    done = 0
    end = time.monotonic() + seconds
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < end:
            assert client.get("/auth/me", timeout=30).status_code == 200
            done += 1
    return done


def _guess(base: str, stop: threading.Event, statuses: Counter[int], lock: threading.Lock) -> None:
    with httpx.Client(base_url=base) as client:
        while not stop.is_set():
            response = client.post(
                "/auth/login",
                json={"username": "nurse", "password": secrets.token_hex(8)},
                headers={"Authorization": f"Bearer {secrets.token_hex(16)}"},
                timeout=30,
            )
            with lock:
                statuses[response.status_code] += 1


def test_guessing_clients_neither_reach_argon2_nor_starve_a_reader(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/data/crswatch.db"
    store = Store(url)
    with store.transaction() as session:
        nurse = create_user(session, "nurse", PASSWORD, "clinician")
        token = issue_token(session, nurse, "t").token
    store.dispose()
    process, base = _start(url)
    try:
        baseline = _legitimate(base, token, SECONDS)
        stop, lock, statuses = threading.Event(), threading.Lock(), Counter[int]()
        guessers = [
            threading.Thread(target=_guess, args=(base, stop, statuses, lock))
            for _ in range(GUESSERS)
        ]
        for thread in guessers:
            thread.start()
        # Until the throttle has locked the address (the first guesses are hashed meanwhile).
        deadline = time.monotonic() + 60
        while not statuses[429] and time.monotonic() < deadline:
            time.sleep(0.1)
        under_attack = _legitimate(base, token, SECONDS)
        stop.set()
        for thread in guessers:
            thread.join(timeout=60)
        with httpx.Client(base_url=base) as client:
            right = client.post("/auth/login", json={"username": "nurse", "password": PASSWORD})
    finally:
        process.kill()
        process.wait(timeout=30)
    # Only the free failures (and the few let through as each lock expires) were hashed.
    assert statuses[401] <= 12, statuses
    assert statuses[429] > statuses[401], statuses
    assert set(statuses) <= {401, 429}, statuses
    # The right password works again once the (short, early) back-off has run out, or is told
    # when to retry: never refused without a Retry-After.
    assert right.status_code == 200 or int(right.headers["retry-after"]) >= 1
    # The reader is not starved: it fell to 0.4 % of its throughput before the throttle.  The
    # bound is 5 %, over ten times that, because the suite's other worker shares these two
    # cores (measured 16 % under the full suite with -n 2, about 20-40 % alone); the guard
    # against Argon2 work itself is the 401 count above.
    assert under_attack >= 0.05 * baseline, (baseline, under_attack, statuses)
