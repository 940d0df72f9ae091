"""Initial schema: patients, events, users, api_tokens, audit_log (append-only).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)

_PG_APPEND_ONLY = """
CREATE FUNCTION crswatch_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION crswatch_audit_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.String(200), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_patients_patient_id", "patients", ["patient_id"], unique=True)
    op.create_table(
        "events",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("patient_pk", sa.Integer(), sa.ForeignKey("patients.pk"), nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("item", sa.String(100), nullable=False),
        sa.Column("value_type", sa.String(8), nullable=False),
        sa.Column("value_num", sa.Double(), nullable=True),
        sa.Column("value_code", sa.Text(), nullable=True),
        sa.Column("value_bool", sa.Boolean(), nullable=True),
        sa.Column("value_json", sa.JSON(), nullable=True),
        sa.Column("unit", sa.String(100), nullable=True),
        sa.Column("end", _TIME, nullable=True),
        sa.Column("ref_low", sa.Double(), nullable=True),
        sa.Column("ref_high", sa.Double(), nullable=True),
        sa.Column("censored", sa.String(20), nullable=True),
        sa.Column("cause", sa.String(20), nullable=True),
        sa.Column("event_id", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("original_value", sa.JSON(), nullable=True),
        sa.Column("original_unit", sa.String(100), nullable=True),
        sa.Column("stored_at", _TIME, nullable=False),
        sa.UniqueConstraint("patient_pk", "item", "time", name="uq_events_item_time"),
    )
    op.create_index("ix_events_patient_pk", "events", ["patient_pk"])
    op.create_table(
        "users",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_pk", sa.Integer(), sa.ForeignKey("users.pk"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
    )
    op.create_index("ix_api_tokens_token_id", "api_tokens", ["token_id"], unique=True)
    op.create_index("ix_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=True)
    op.create_index("ix_api_tokens_user_pk", "api_tokens", ["user_pk"])
    op.create_table(
        "audit_log",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("recorded", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("resource", sa.String(40), nullable=False),
        sa.Column("patient_id", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_log_patient_id", "audit_log", ["patient_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS crswatch_audit_append_only()")
    for table in ("audit_log", "api_tokens", "users", "events", "patients"):
        op.drop_table(table)
