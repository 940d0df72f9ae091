"""``crswatch serve``, ``crswatch init``, ``crswatch users ...`` and ``crswatch audit verify``.

Which database: ``CRSWATCH_DATABASE_URL`` if set, else ``crswatch.db`` in the data directory
(``CRSWATCH_DATA_DIR``, default ``./crswatch-data``); with ``--demo``, the demo's own
``crswatch-demo.db`` beside it (what ``crswatch demo`` loads).  Every command says which one it
used, and the commands that only read never create an empty database on the spot
(docs/decisions/0039-first-hour.md).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, fail, say
from crswatch.cli._demo import demo_database

if TYPE_CHECKING:
    from crswatch.store import Store

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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # uvicorn's access log prints concrete paths (patient ids): the API logs route templates.
    uvicorn.run(create_app(store), host=host, port=port, access_log=False)


@app.command()
def init() -> None:
    """Create or migrate the database (CRSWATCH_DATABASE_URL or CRSWATCH_DATA_DIR)."""
    from crswatch.store import Store

    store = Store()
    say(f"database ready ({store.dialect}): {_where(store.url)}")


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
    """Walk the audit hash chain; exit 1 and name the first broken link if any."""
    from sqlalchemy import select

    from crswatch.store import AuditRecord, verify_chain

    store = open_store(demo, create=False)
    with store.transaction() as session:
        check = verify_chain(
            session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
        )
    where = _where(store.url)
    if not check.ok:
        raise fail(f"audit chain broken at record {check.broken_at} in {where}: {check.reason}", 1)
    say(f"audit chain intact ({check.records} records) in {where}")
