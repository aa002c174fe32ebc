"""A record keeps the Patient resource its opener sent, as written (issue 19), encrypted under its data key.

Records opened at a desk, or before this revision, have none and read as before (built from the identity).

Revision ID: 20261202_patient_resources
Revises: 20261202_totp_replay
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261202_patient_resources"
down_revision = "20261202_totp_replay"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("patient_resource_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Going down loses the Patient resources kept since: refuse rather than drop what professionals wrote.
    bind = op.get_bind()
    kept = bind.execute(sa.text("SELECT count(*) FROM records WHERE patient_resource_ct IS NOT NULL")).scalar()
    if kept:
        raise RuntimeError(f"{kept} records keep a Patient resource as written; downgrading would lose them.")
    op.drop_column("records", "patient_resource_ct")
