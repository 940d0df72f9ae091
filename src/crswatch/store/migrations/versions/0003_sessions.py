"""Server-side dashboard sessions; when a user last set their own password.

Revision ID: 0003
Revises: 0002 (CDS Hooks feedback)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("user_pk", sa.Integer(), sa.ForeignKey("users.pk"), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
    )
    op.create_index(
        "ix_dashboard_sessions_session_hash", "dashboard_sessions", ["session_hash"], unique=True
    )
    op.create_index("ix_dashboard_sessions_user_pk", "dashboard_sessions", ["user_pk"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_changed_at", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
    op.drop_table("dashboard_sessions")
