"""The store's version: one counter, bumped in the transaction of every write of patient data.

Revision ID: 0005
Revises: 0004 (audit checkpoints)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "store_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    # A store migrated with data in it starts at 1, an empty one at 0: either way the first
    # answer after this migration differs from any answer a server gave before it.
    op.bulk_insert(table, [{"id": 1, "version": 0}])
    op.execute("UPDATE store_version SET version = 1 WHERE EXISTS (SELECT 1 FROM patients)")


def downgrade() -> None:
    op.drop_table("store_version")
