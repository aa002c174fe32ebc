"""The account's journeys in the portal (issue 12): a TOTP enrolment is confirmed by the app's first code.

`totp_confirmed_at` says when; an account whose app already gave an accepted code (its `totp_last_step` is
set) counts as confirmed from its creation. `enrolment_session_hash` names the activation's half-done
session, the only one that may have the seed shown again before confirmation.

Revision ID: 20261203_account_journeys
Revises: 20261202_document_resources
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261203_account_journeys"
down_revision = "20261202_document_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patient_accounts", sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("patient_accounts", sa.Column("enrolment_session_hash", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE patient_accounts SET totp_confirmed_at = created_at "
        "WHERE second_factor = 'totp' AND totp_last_step IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("patient_accounts", "enrolment_session_hash")
    op.drop_column("patient_accounts", "totp_confirmed_at")
