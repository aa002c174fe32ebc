"""A form's one-time key: the same portal form sent twice (a double click, a resend) writes once.

Revision ID: 20261203_form_submissions
Revises: 20261203_account_journeys
Create Date: 2026-12-03 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_form_submissions"
down_revision = "20261203_account_journeys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submissions",
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_form_submissions")),
    )
    op.create_index(op.f("ix_form_submissions_submitted_at"), "form_submissions", ["submitted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_form_submissions_submitted_at"), table_name="form_submissions")
    op.drop_table("form_submissions")
