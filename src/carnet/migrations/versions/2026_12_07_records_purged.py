"""When what remained of a destroyed record (its ciphertext rows) was removed, so the purge job finds the rest.

Revision ID: 20261207_records_purged
Revises: 20261206_card_visits
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_records_purged"
down_revision = "20261206_card_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_records_to_purge",
        "records",
        ["destroyed_at"],
        postgresql_where=sa.text("state = 'destroyed' AND purged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_records_to_purge", table_name="records")
    op.drop_column("records", "purged_at")
