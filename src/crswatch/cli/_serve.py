"""``crswatch serve``, ``crswatch init``, ``crswatch users ...`` and ``crswatch audit verify``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from crswatch.cli._app import app, console, emit_json, fail
from crswatch.store import (
    ROLES,
    ApiToken,
    AuditRecord,
    Store,
    User,
    UserError,
    create_user,
    find_user,
    issue_token,
    revoke_token,
    unchanged_passwords,
    verify_chain,
)
from crswatch.timeline import format_time

__all__ = ["audit_app", "init", "serve", "users_app"]

users_app = typer.Typer(name="users", help="Service users and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(name="audit", help="The service's audit trail.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the REST API (OpenAPI at /docs); the database is migrated on startup.

    Beyond loopback it refuses to start while an active user has never set their own password
    (a demo's well-known one, or one an administrator chose): POST /auth/password first.
    """
    import uvicorn

    from crswatch.api import create_app
    from crswatch.cli._demo import _loopback

    store = Store()
    if not _loopback(host):
        with store.transaction() as session:
            unchanged = unchanged_passwords(session)
        if unchanged:
            raise fail(
                f"host: {host} is beyond loopback and user(s) {', '.join(unchanged)} never set "
                "their own password; serve on 127.0.0.1 and change it (POST /auth/password)"
            )

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # uvicorn's access log prints concrete paths (patient ids): the API logs route templates.
    uvicorn.run(create_app(store), host=host, port=port, access_log=False)


@app.command()
def init() -> None:
    """Create or migrate the database (CRSWATCH_DATABASE_URL or CRSWATCH_DATA_DIR)."""
    store = Store()
    console.print(f"database ready ({store.dialect})")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="The user name.")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")] = "viewer",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a user (the password is hashed with Argon2id)."""
    try:
        with Store().transaction() as session:
            create_user(session, username, password, role)
    except UserError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    console.print(f"user {escape(username)} created ({role})")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List users."""
    with Store().transaction() as session:
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
) -> None:
    """Issue an API token; the secret is printed once and only its hash is stored."""
    with Store().transaction() as session:
        user = find_user(session, username)
        if user is None:
            raise fail(f"username: no user {username!r}")
        issued = issue_token(session, user, name, timedelta(days=days) if days else None)
    console.print(f"token id {issued.token_id}", highlight=False)
    typer.echo(issued.token)


@users_app.command("revoke")
def users_revoke(token_id: Annotated[str, typer.Argument(help="The token id.")]) -> None:
    """Revoke a token by its id."""
    try:
        with Store().transaction() as session:
            revoke_token(session, token_id)
    except UserError as exc:
        raise fail(f"{exc.field}: {exc}") from None
    console.print(f"token {escape(token_id)} revoked")


@users_app.command("tokens")
def users_tokens() -> None:
    """List tokens (ids, owners, state; never the secrets)."""
    table = Table("token id", "user", "name", "expires", "revoked")
    with Store().transaction() as session:
        for token in session.execute(select(ApiToken).order_by(ApiToken.pk)).scalars():
            expires = format_time(token.expires_at) if token.expires_at else "-"
            table.add_row(
                token.token_id, escape(token.user.username), escape(token.name), expires,
                str(token.revoked_at is not None),
            )  # fmt: skip
    console.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit hash chain; exit 1 and name the first broken link if any."""
    with Store().transaction() as session:
        check = verify_chain(
            session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
        )
    if not check.ok:
        raise fail(f"audit chain broken at record {check.broken_at}: {check.reason}", 1)
    console.print(f"audit chain intact ({check.records} records)")
