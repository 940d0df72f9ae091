"""``crswatch demo``: the main job on the embedded default.

Creates ``crswatch-demo.db`` (SQLite) in the data directory, loads a synthetic ward at the
current clock (``crswatch.simulate.ward_beds``), creates a clinician and a viewer, writes the ward
as ``demo-ward.json`` for the command-line tour, shows the ward and serves the API and the
dashboard until Ctrl-C.  Choices: docs/decisions/0018-demo-ward.md.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import secrets
import shutil
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, fail, grade_cell, print_legend, say

if TYPE_CHECKING:
    from fastapi import FastAPI

    from crswatch.store import Store
    from crswatch.timeline import Timeline

__all__ = ["DEMO_DB", "DEMO_PASSWORD", "DEMO_USERS", "demo", "demo_database"]

DEMO_PATIENTS = 24
#: The ward is built in memory and shown in one table.
MAX_PATIENTS = 500
DEMO_DB = "crswatch-demo.db"
DEMO_JSON = "demo-ward.json"
#: (username, role) of the demo users.
DEMO_USERS = (("clinician", "clinician"), ("viewer", "viewer"))
#: Well known on purpose, and only ever used while the server listens on loopback: anyone who
#: can reach 127.0.0.1 already runs code on this machine (decision record 0018).
DEMO_PASSWORD = "crswatch-demo"
#: A busy port is replaced by the next free one, at most this many steps up.
PORT_TRIES = 20


def _data_dir() -> Path:
    return Path(os.environ.get("CRSWATCH_DATA_DIR") or "crswatch-data")


def demo_database() -> Path:
    """The demo's SQLite file, which ``serve``, ``users`` and ``audit`` open with ``--demo``."""
    return _data_dir() / DEMO_DB


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _free_port(host: str, port: int) -> int:
    for candidate in range(port, min(port + PORT_TRIES, 65536)):
        if _port_free(host, candidate):
            return candidate
    raise fail(f"port: {port} to {port + PORT_TRIES - 1} are all in use on {host}; try --port")


def _remove_database(path: Path) -> None:
    # WAL mode keeps two companion files beside the database.
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        (path.parent / name).unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class _Loaded:
    ward: list[Timeline]
    #: patient id -> the simulated course at the clock; empty for a kept ward, whose clock has
    #: moved on since it was loaded (a label then would be stale).
    courses: dict[str, str]
    #: username -> password, or None when the users were kept from an earlier run.
    passwords: dict[str, str] | None


def _load(store: Store, patients: int, clock: datetime, loopback: bool, directory: Path) -> _Loaded:
    from crswatch.io import write_path
    from crswatch.simulate import ward_beds
    from crswatch.store import create_user, ingest_timelines

    beds = ward_beds(patients, clock=clock)
    ward = [bed.timeline for bed in beds]
    passwords = {
        name: DEMO_PASSWORD if loopback else secrets.token_urlsafe(12) for name, _ in DEMO_USERS
    }
    with store.transaction() as session:
        ingest_timelines(session, ward)
        for name, role in DEMO_USERS:
            create_user(session, name, passwords[name], role)
    write_path(ward, directory / DEMO_JSON, to="json")
    return _Loaded(ward, {bed.timeline.patient.id: bed.now for bed in beds}, passwords)


def _stored(store: Store) -> list[Timeline]:
    from sqlalchemy import select

    from crswatch.store import PatientRow, load_timeline

    with store.transaction() as session:
        ids = session.execute(select(PatientRow.patient_id).order_by(PatientRow.patient_id))
        loaded = [load_timeline(session, pid) for pid in ids.scalars()]
    return [timeline for timeline in loaded if timeline is not None]


def _ward_table(ward: list[Timeline], clock: datetime, courses: dict[str, str]) -> Table:
    from crswatch.scales import grade_timelines
    from crswatch.state import PRESSORS, RATE_COLUMNS, state_of

    # One vectorized call per engine for the whole ward, at the ward clock.
    graded = {
        g.patient_id: g
        for g in grade_timelines(ward, at=clock, scales=["astct2019", "icans.astct2019"])
    }
    state = {row["patient_id"]: row for row in state_of(ward, at=clock).to_dicts()}
    table = Table(title=f"Synthetic ward at {clock:%Y-%m-%d %H:%M} UTC (ASTCT 2019)")
    columns = (
        "patient",
        "simulated course now",
        "age",
        "therapy",
        "day",
        "CRS now",
        "ICANS now",
        "support now",
    )
    for column in columns:
        table.add_column(column)
    for timeline in ward:
        patient = timeline.patient
        crs = graded[patient.id].crs["astct2019"]
        icans = graded[patient.id].icans["astct2019"]
        now = state[patient.id]
        support = [d for d in PRESSORS if now[RATE_COLUMNS[d]]]
        if now["o2_device"] not in (None, "room_air"):
            # The device in words ("high flow nasal cannula"), not its timeline code.
            support.append(str(now["o2_device"]).replace("_", " "))
        table.add_row(
            escape(patient.id),
            escape(courses.get(patient.id, "-")),
            f"{patient.age_years:.0f}" if patient.age_years is not None else "-",
            escape(patient.therapy.product or patient.therapy.kind),
            str((clock - patient.therapy.start).days),
            grade_cell(crs.grade, crs.status, crs.bounds),
            grade_cell(icans.grade, icans.status, icans.bounds),
            ", ".join(support) or "-",
        )
    return table


@app.command()
def demo(
    patients: Annotated[
        int, typer.Option(min=1, max=MAX_PATIENTS, help="Patients on the demo ward.")
    ] = DEMO_PATIENTS,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port; if busy, the next free one is used.")
    ] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve, or load, print and exit.")
    ] = True,
    reset: Annotated[
        bool,
        typer.Option(
            "--reset/--keep",
            help="Recreate the demo database with a fresh ward at the current clock, or keep "
            "the one there (with its bedside entries).",
        ),
    ] = True,
) -> None:
    """Load a synthetic ward into a demo database, show it, and serve the API and dashboard."""
    from crswatch.store import Store

    loopback = _loopback(host)
    directory = _data_dir()
    database = demo_database()
    if not reset and not loopback and database.exists():
        # A kept database has the well-known password of a loopback demo.
        raise fail(f"host: --keep serves the demo users' known password; use --reset with {host}")
    if serve:
        # The server's imports first: a broken installation fails before the ward is loaded.
        from crswatch.api import create_app

        chosen = _free_port(host, port)
        if chosen != port:
            say(f"port {port} is in use; serving on port {chosen}", stderr=True)
        port = chosen
    directory.mkdir(parents=True, exist_ok=True)
    from crswatch.cli._serve import service_lock

    # One process per demo database, as `crswatch serve --demo` (the same lock, decision 0082):
    # a second demo would delete the database this one serves (--reset) and serve it from a
    # second process, with a login throttle and a rate limit of its own.
    lock_only = Store(f"sqlite:///{database}", run_migrations=False)
    advice = ": stop it first, or give this demo a data directory of its own (CRSWATCH_DATA_DIR)"
    with service_lock(lock_only, advice):
        if reset:
            _remove_database(database)
        store = Store(f"sqlite:///{database}")
        # The ward's clock is the wall clock, as the dashboard's "now"; a kept ward is shown now
        # too.
        clock = datetime.now(UTC).replace(second=0, microsecond=0)
        kept = _stored(store)
        loaded = (
            _Loaded(kept, {}, None) if kept else _load(store, patients, clock, loopback, directory)
        )
        console.print(_ward_table(loaded.ward, clock, loaded.courses))
        if not loaded.courses:
            say(
                "Simulated course: not shown for a kept ward (it was simulated at an earlier "
                "clock)."
            )
        # The two columns can disagree on purpose: a first look should not read that as an error.
        say(
            "CRS now and ICANS now: graded at the ward clock from the findings in each criterion's "
            "look-back window (fever, hypotension and fluid boluses: the last 24 hours), so a "
            "course that has just ended keeps its grade until its last sign leaves the window."
        )
        print_legend()
        program = _program()
        ward_file = directory / DEMO_JSON
        say(
            f"\nLoaded: {len(loaded.ward)} patients in the demo database {database}\n"
            f"Timelines: {ward_file}   try: {program} grade {ward_file}   "
            f"{program} episodes {ward_file}"
        )
        if not serve:
            # Nothing is served: no URL; the users and how to serve what was loaded.
            users = ", ".join(name for name, _ in DEMO_USERS)
            say(
                f"Users: {users}. Not served (--no-serve). To serve this ward: "
                f"{program} demo --keep{'' if port == 8000 else f' --port {port}'}, "
                f"or {program} serve --demo."
            )
            _print_passwords(loaded, only_fresh=True)
            if not loopback:
                say(
                    f"warning: {host} is not loopback: the passwords above are shown once",
                    stderr=True,
                )
            store.dispose()
            return
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"
        console.print(f"\n[bold]crswatch demo:[/] {escape(url)}   (API docs: {escape(url)}docs)")
        _print_passwords(loaded, only_fresh=False)
        if not loopback:
            say(
                f"warning: listening on {host}, not loopback: synthetic data only, fresh passwords",
                stderr=True,
            )
        say("Serving until Ctrl-C.")
        _serve(create_app(store), host, port)
    store.dispose()


def _program() -> str:
    """How the user called crswatch (``.venv/bin/crswatch`` before the venv is activated)."""
    called = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if called is not None and called.name == "crswatch" and called.parent != Path():
        return "crswatch" if shutil.which("crswatch") == str(called.resolve()) else str(called)
    return "crswatch"


def _print_passwords(loaded: _Loaded, *, only_fresh: bool) -> None:
    """The demo users and passwords; ``only_fresh``: only passwords shown nowhere else (random
    ones for a non-loopback host, lost if not printed now)."""
    if only_fresh and (loaded.passwords is None or DEMO_PASSWORD in loaded.passwords.values()):
        if loaded.passwords is not None:
            say(f"Password of both users: {DEMO_PASSWORD} (loopback only).")
        return
    for name, role in DEMO_USERS:
        password = (
            loaded.passwords[name]
            if loaded.passwords is not None
            else f"as when the demo database was created ({DEMO_PASSWORD} on loopback)"
        )
        say(f"  {role:<10} user {name:<10} password {password}")


def _serve(application: FastAPI, host: str, port: int) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # As `crswatch serve`: uvicorn's access log prints concrete paths (patient ids).
    uvicorn.run(application, host=host, port=port, access_log=False)
