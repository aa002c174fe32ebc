"""Portal sessions of professionals, pharmacy counters and insurance desks, who have no Carnet account.

Revision ID: 20261204_staff_sessions
Revises: 20261203_form_submissions
Create Date: 2026-12-04 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261204_staff_sessions"
down_revision = "20261203_form_submissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("space", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("profession", sa.String(length=2), nullable=True),
        sa.Column("organisation", sa.String(length=32), nullable=True),
        sa.Column("via", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.CheckConstraint("space IN ('professional', 'pharmacy', 'desk')", name=op.f("ck_staff_sessions_space")),
        sa.CheckConstraint("via IN ('oidc', 'development')", name=op.f("ck_staff_sessions_via")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )


def downgrade() -> None:
    op.drop_table("staff_sessions")
