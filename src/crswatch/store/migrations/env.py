"""Alembic environment: run with the connection handed over by ``crswatch.store.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from crswatch.store._models import Base

config = context.config
target_metadata = Base.metadata


def _run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as fresh:
        context.configure(connection=fresh, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


_run()
