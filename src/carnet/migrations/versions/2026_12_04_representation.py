"""The minors covered on a card, as the insurer registers them, and the record a representative's session shows.

Revision ID: 20261204_representation
Revises: 20261204_staff_sessions
Create Date: 2026-12-04 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261204_representation"
down_revision = "20261204_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_minors",
        sa.Column("card_serial", sa.String(length=20), nullable=False),
        sa.Column("minor_ins", sa.String(length=15), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_serial"],
            ["vitale_cards.serial"],
            name=op.f("fk_card_minors_card_serial_vitale_cards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("card_serial", "minor_ins", name=op.f("pk_card_minors")),
    )
    op.create_index(op.f("ix_card_minors_minor_ins"), "card_minors", ["minor_ins"])
    op.add_column("login_sessions", sa.Column("acting_for", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_login_sessions_acting_for_records"),
        "login_sessions",
        "records",
        ["acting_for"],
        ["patient_id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_login_sessions_acting_for_records"), "login_sessions", type_="foreignkey")
    op.drop_column("login_sessions", "acting_for")
    op.drop_index(op.f("ix_card_minors_minor_ins"), table_name="card_minors")
    op.drop_table("card_minors")
