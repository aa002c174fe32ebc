"""A destroyed record keeps no INS: the trail stays under the record's id, no identity is left behind.

Revision ID: 20261201_forget_ins
Revises: 20261201_audit_heads
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_forget_ins"
down_revision = "20261201_audit_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("records", "ins", existing_type=sa.String(length=15), nullable=True)
    op.execute("UPDATE records SET ins = NULL WHERE state = 'destroyed'")
    op.create_check_constraint(op.f("ck_records_ins_while_living"), "records", "(ins IS NULL) = (state = 'destroyed')")


def downgrade() -> None:
    # What was forgotten stays forgotten: a destroyed record gets a placeholder that names nobody.
    op.drop_constraint(op.f("ck_records_ins_while_living"), "records", type_="check")
    op.execute("UPDATE records SET ins = 'destroyed' WHERE ins IS NULL")
    op.alter_column("records", "ins", existing_type=sa.String(length=15), nullable=False)
