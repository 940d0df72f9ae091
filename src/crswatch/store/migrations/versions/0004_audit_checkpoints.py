"""Keyed checkpoints of the audit chain (append-only, like the chain itself).

Revision ID: 0004
Revises: 0003 (dashboard sessions)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PG_APPEND_ONLY = """
CREATE FUNCTION crswatch_checkpoints_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION crswatch_checkpoints_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("written", sa.String(40), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("last_pk", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("prev_mac", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False, unique=True),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoints_no_{verb.lower()} BEFORE {verb} "
                "ON audit_checkpoints "
                "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_checkpoints_append_only ON audit_checkpoints")
        op.execute("DROP FUNCTION IF EXISTS crswatch_checkpoints_append_only()")
    op.drop_table("audit_checkpoints")
