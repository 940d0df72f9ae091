"""``crswatch serve``, ``crswatch init``, ``crswatch users ...`` and ``crswatch audit ...``.

Which database: ``CRSWATCH_DATABASE_URL`` if set, else ``crswatch.db`` in the data directory
(``CRSWATCH_DATA_DIR``, default ``./crswatch-data``); with ``--demo``, the demo's own
``crswatch-demo.db`` beside it (what ``crswatch demo`` loads).  Every command says which one it
used, and the commands that only read never create an empty database on the spot
(docs/decisions/0039-first-hour.md).

The audit chain's keyed checkpoints (docs/decisions/0062-audit-checkpoints.md) take their key
from ``CRSWATCH_AUDIT_KEY_FILE`` or ``audit-checkpoint.key`` in the data directory: ``init``,
``serve`` and ``audit checkpoint`` create it while the database holds no checkpoint yet;
``audit verify`` only reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, fail, say
from crswatch.cli._demo import demo_database
from crswatch.store import (
    AuditCheck,
    AuditKey,
    AuditKeyError,
    CheckpointPolicy,
    InstanceLock,
    ServiceRunningError,
    Store,
    append_log,
    audit_check,
    audit_key_path,
    checkpoint_log_path,
    ensure_audit_key,
    load_audit_key,
    log_entry,
    write_checkpoint,
)

__all__ = ["audit_app", "init", "open_store", "serve", "users_app"]

#: The roles, for the option's help; written out so that ``--help`` does not load the store
#: (tests/cli/test_startup.py checks them against ``crswatch.store.ROLES``).
ROLE_NAMES = ("viewer", "clinician", "admin")

DemoOption = Annotated[
    bool,
    typer.Option(
        "--demo",
        help="Use the demo's database (crswatch-demo.db in the data directory) instead of "
        "CRSWATCH_DATABASE_URL or crswatch.db.",
    ),
]


def _url(demo: bool) -> str:
    from crswatch.store import database_url

    return f"sqlite:///{demo_database()}" if demo else database_url()


def _where(url: str) -> str:
    """The database for people: the SQLite file, or the server URL without its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    return parsed.render_as_string(hide_password=True)


def open_store(demo: bool, *, create: bool = True) -> Store:
    """The selected database; ``create=False`` refuses a SQLite file that does not exist yet
    (a read would otherwise report on an empty database made on the spot)."""
    from sqlalchemy.engine import make_url

    from crswatch.store import Store

    url = _url(demo)
    parsed = make_url(url)
    if not create and parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists():
            hint = ""
            if not demo and demo_database().exists():
                hint = f"; the demo's database is {demo_database()}: add --demo"
            elif demo:
                hint = "; run crswatch demo first"
            raise fail(f"database: {path} does not exist{hint}")
    return Store(url)


users_app = typer.Typer(
    name="users", help="Service users and API tokens.", no_args_is_help=True, rich_markup_mode=None
)
audit_app = typer.Typer(
    name="audit", help="The service's audit trail.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: DemoOption = False,
) -> None:
    """Run the REST API and the dashboard (OpenAPI at /docs); the database is migrated first.

    Beyond loopback it refuses to start while an active user has never set their own password
    (a demo's well-known one, or one an administrator chose): POST /auth/password first.
    One process serves a database: a second crswatch serve on the same one refuses to start (the
    login throttle and rate limits are the process's own).
    """
    import uvicorn

    from crswatch.api import create_app
    from crswatch.cli._demo import _loopback
    from crswatch.store import Store, unchanged_passwords

    store = Store()
    if not _loopback(host):
        with store.transaction() as session:
            unchanged = unchanged_passwords(session)
        if unchanged:
            raise fail(
                f"host: {host} is beyond loopback and user(s) {', '.join(unchanged)} never set "
                "their own password; serve on 127.0.0.1 and change it (POST /auth/password)"
            )

    store = open_store(demo, create=not demo)
    say(f"database: {_where(store.url)}", stderr=True)
    key = _audit_key(store)
    try:
        store.anchor_audit(CheckpointPolicy.from_env(key))
    except AuditKeyError as exc:
        raise fail(str(exc)) from None
    say(f"audit checkpoint key: {key.path}", stderr=True)
    # One process per database: the login throttle, the rate limit and the Argon2 slots live in
    # the process, and a second one would double them (docs/decisions/0063).
    with service_lock(store):
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        # uvicorn's access log prints concrete paths (patient ids): the API logs route templates.
        uvicorn.run(create_app(store), host=host, port=port, access_log=False)


@contextmanager
def service_lock(store: Store, advice: str = "") -> Iterator[None]:
    """``store``'s service lock (:class:`~crswatch.store.InstanceLock`) held for the block, or
    a clear exit naming the process that holds it, with ``advice`` after the lock's message."""
    lock = InstanceLock(store)
    try:
        lock.acquire()
    except ServiceRunningError as exc:
        raise fail(f"{exc}{advice}") from None
    try:
        yield
    finally:
        lock.release()


@app.command()
def init() -> None:
    """Create or migrate the database (CRSWATCH_DATABASE_URL or CRSWATCH_DATA_DIR)."""
    from crswatch.store import Store

    store = Store()
    say(f"database ready ({store.dialect}): {_where(store.url)}")
    say(f"audit checkpoint key: {_audit_key(store).path}")


def _audit_key(store: Store) -> AuditKey:
    """The checkpoint key, created while the database holds no checkpoint; else a clear exit."""
    try:
        with store.transaction() as session:
            return ensure_audit_key(session, audit_key_path())
    except AuditKeyError as exc:
        raise fail(str(exc)) from None


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The user name.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLE_NAMES)}.")] = "viewer",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            show_default=False,
            help="Prompted for (hidden) when not given.",
        ),
    ] = "",
    demo: DemoOption = False,
) -> None:
    """Create a user (the password is hashed with Argon2id)."""
    from crswatch.store import UserError, create_user

    store = open_store(demo, create=not demo)
    try:
        with store.transaction() as session:
            create_user(session, username, password, role)
    except UserError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    say(f"user {username} created ({role}) in {_where(store.url)}")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    demo: DemoOption = False,
) -> None:
    """List users."""
    from sqlalchemy import select

    from crswatch.store import User
    from crswatch.timeline import format_time

    with open_store(demo, create=False).transaction() as session:
        rows: list[dict[str, Any]] = [
            {"username": u.username, "role": u.role, "active": u.active,
             "created_at": format_time(u.created_at)}
            for u in session.execute(select(User).order_by(User.username)).scalars()
        ]  # fmt: skip
    if as_json:
        emit_json(rows)
        return
    table = Table("username", "role", "active", "created")
    for row in rows:
        table.add_row(escape(row["username"]), row["role"], str(row["active"]), row["created_at"])
    console.print(table)


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
    days: Annotated[float | None, typer.Option(help="Expiry in days (default: none).")] = None,
    demo: DemoOption = False,
) -> None:
    """Issue an API token; the secret is printed once and only its hash is stored."""
    from crswatch.store import find_user, issue_token

    with open_store(demo, create=False).transaction() as session:
        user = find_user(session, username)
        if user is None:
            raise fail(f"username: no user {username!r}")
        issued = issue_token(session, user, name, timedelta(days=days) if days else None)
    say(f"token id {issued.token_id}")
    typer.echo(issued.token)


@users_app.command("revoke")
def users_revoke(
    token_id: Annotated[str, typer.Argument(help="The token id.")], demo: DemoOption = False
) -> None:
    """Revoke a token by its id."""
    from crswatch.store import UserError, revoke_token

    try:
        with open_store(demo, create=False).transaction() as session:
            revoke_token(session, token_id)
    except UserError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    console.print(f"token {escape(token_id)} revoked")


@users_app.command("tokens")
def users_tokens(demo: DemoOption = False) -> None:
    """List tokens (ids, owners, state; never the secrets)."""
    from sqlalchemy import select

    from crswatch.store import ApiToken
    from crswatch.timeline import format_time

    table = Table("token id", "user", "name", "expires", "revoked")
    with open_store(demo, create=False).transaction() as session:
        for token in session.execute(select(ApiToken).order_by(ApiToken.pk)).scalars():
            expires = format_time(token.expires_at) if token.expires_at else "-"
            table.add_row(
                token.token_id, escape(token.user.username), escape(token.name), expires,
                str(token.revoked_at is not None),
            )  # fmt: skip
    console.print(table)


@audit_app.command("verify")
def audit_verify(demo: DemoOption = False) -> None:
    """Walk the audit hash chain and check its keyed checkpoints.

    Exit 1 naming the first broken link or failing checkpoint; exit 2 when checkpoints exist
    but their key is missing or unusable (the chain alone was checked).
    """
    store = open_store(demo, create=False)
    path = audit_key_path()
    key: AuditKey | None = None
    key_problem: str | None = None
    if path.exists():
        try:
            key = load_audit_key(path)
        except AuditKeyError as exc:
            key_problem = str(exc)
    else:
        key_problem = f"no audit key file at {path}"
    with store.transaction() as session:
        check = audit_check(session, key, key_problem, checkpoint_log_path(path))
    _report(check, _where(store.url))


def _report(check: AuditCheck, where: str) -> None:
    chain, anchor = check.chain, check.anchor
    if not chain.ok:
        raise fail(f"audit chain broken at record {chain.broken_at} in {where}: {chain.reason}", 1)
    if anchor.problem is not None:
        raise fail(f"audit checkpoint check failed in {where}: {anchor.problem}", 1)
    intact = f"audit chain intact ({chain.records} records) in {where}"
    if not anchor.checked:
        if anchor.checkpoints:
            raise fail(
                f"{intact}, but its {anchor.checkpoints} keyed checkpoint(s) were not checked: "
                f"{anchor.unchecked}",
                2,
            )
        say(
            f"{intact}; no keyed checkpoint yet ({anchor.unchecked}): records cut from its end, "
            "or a rewrite re-hashed throughout, would not show (crswatch audit checkpoint)"
        )
        return
    if not anchor.checkpoints:
        say(f"{intact}; no keyed checkpoint yet (crswatch audit checkpoint writes one)")
        return
    say(
        f"{intact}; {anchor.checkpoints} keyed checkpoint(s) verified, the newest written "
        f"{anchor.newest_written}; {anchor.after_newest} record(s) after it are protected by "
        "the chain alone until the next checkpoint"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(demo: DemoOption = False) -> None:
    """Write a keyed checkpoint of the audit chain now (the service also writes them every
    CRSWATCH_AUDIT_CHECKPOINT_EVERY records and CRSWATCH_AUDIT_CHECKPOINT_MINUTES).

    It is also appended to the checkpoint log beside the key (audit-checkpoints.log, or
    CRSWATCH_AUDIT_CHECKPOINT_LOG), and its signature is printed, to copy elsewhere.
    """
    store = open_store(demo, create=False)
    key = _audit_key(store)
    where = _where(store.url)
    with store.transaction() as session:
        checkpoint = write_checkpoint(session, key)
        if checkpoint is None:
            say(f"the audit trail in {where} has no record yet: nothing to anchor")
            return
        entry = log_entry(session, checkpoint)
    log = checkpoint_log_path(key.path)
    try:
        append_log(log, [entry])
    except OSError as exc:
        raise fail(f"checkpoint written, but not to the log {log}: {exc.strerror}") from None
    say(
        f"checkpoint {checkpoint.pk} in {where}: {checkpoint.records} records up to record "
        f"{checkpoint.last_pk}, written {checkpoint.written}, signature {checkpoint.mac} "
        f"(key {key.key_id} at {key.path}; logged in {log})"
    )
