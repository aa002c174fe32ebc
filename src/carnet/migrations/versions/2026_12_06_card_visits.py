"""A carte Vitale read at a counter or a desk, kept briefly so the visit's next steps need no second reading.

Revision ID: 20261206_card_visits
Revises: 20261204_stats_counters
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261206_card_visits"
down_revision = "20261204_stats_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reader", sa.String(length=40), nullable=False),
        sa.Column("card_serial", sa.String(length=20), nullable=False),
        sa.Column("ins", sa.String(length=15), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_visits")),
    )


def downgrade() -> None:
    op.drop_table("card_visits")
