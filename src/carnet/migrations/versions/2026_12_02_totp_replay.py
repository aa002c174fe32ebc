"""A TOTP code is accepted once: each account keeps the last time step it accepted (RFC 6238 §5.2).

Revision ID: 20261202_totp_replay
Revises: 20261201_profile_resources
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261202_totp_replay"
down_revision = "20261201_profile_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patient_accounts", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("operator_accounts", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("operator_accounts", "totp_last_step")
    op.drop_column("patient_accounts", "totp_last_step")
