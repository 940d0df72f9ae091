"""The one-process-per-database lock of ``crswatch serve`` (issue 18, point 1's throttle lives in
the process; docs/decisions/0063-one-service-process.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from crswatch.store import InstanceLock, ServiceRunningError, Store


def test_a_second_holder_is_refused_until_the_first_releases(store: Store) -> None:
    other = Store(store.url, run_migrations=False)
    try:
        with (
            InstanceLock(store),
            pytest.raises(ServiceRunningError, match="one process per database"),
        ):
            InstanceLock(other).acquire()
        with InstanceLock(other):  # released: the next process may serve
            pass
    finally:
        other.dispose()


def test_the_sqlite_message_names_the_holding_process(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the process id is in SQLite's lock file")
    with InstanceLock(store), pytest.raises(ServiceRunningError) as refused:
        InstanceLock(store).acquire()
    assert f"process {os.getpid()}" in str(refused.value)


def test_a_killed_holder_leaves_no_stale_lock(store: Store) -> None:
    # A holder in another process, killed with SIGKILL: the lock goes with it.
    script = textwrap.dedent(
        f"""
        import sys, time
        from crswatch.store import InstanceLock, Store
        lock = InstanceLock(Store({store.url!r}, run_migrations=False))
        lock.acquire()
        print("held", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(ServiceRunningError):
            InstanceLock(store).acquire()
    finally:
        child.kill()
        child.wait(timeout=30)
    lock = InstanceLock(store)
    for _ in range(50):  # PostgreSQL notices the closed connection within moments
        try:
            lock.acquire()
            break
        except ServiceRunningError:
            import time

            time.sleep(0.1)
    else:
        pytest.fail("the killed holder's lock was not released")
    lock.release()
