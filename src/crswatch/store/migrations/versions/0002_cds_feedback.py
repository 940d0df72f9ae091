"""CDS Hooks feedback: what clinicians did with crswatch's cards (docs/decisions/0046).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cds_feedback",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("received", _TIME, nullable=False),
        sa.Column("service_id", sa.String(100), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=True),
        sa.Column("card_uuid", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("outcome_timestamp", _TIME, nullable=False),
        sa.Column("accepted_suggestions", sa.JSON(), nullable=True),
        sa.Column("override_reason", sa.JSON(), nullable=True),
    )
    op.create_index("ix_cds_feedback_service_id", "cds_feedback", ["service_id"])
    op.create_index("ix_cds_feedback_card_uuid", "cds_feedback", ["card_uuid"])


def downgrade() -> None:
    op.drop_index("ix_cds_feedback_card_uuid", table_name="cds_feedback")
    op.drop_index("ix_cds_feedback_service_id", table_name="cds_feedback")
    op.drop_table("cds_feedback")
