"""A live dashboard on loopback and Debian's headless Chromium, for the browser tests.

Playwright cannot download its own browser here, so the system ``chromium`` (installed by
``.ci/run``) is launched.  Without it the browser tests skip locally and FAIL when ``CI`` is
``true``, as the PostgreSQL tests do: CI must never skip them silently.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from crswatch.api import Settings, create_app
from crswatch.store import Store

__all__ = ["CHROMIUM_ARGS", "chromium_path", "live_server"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but no chromium on PATH: the browser tests were not run")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def live_server(store: Store, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    config = uvicorn.Config(
        create_app(store, settings),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
