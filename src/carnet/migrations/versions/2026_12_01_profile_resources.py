"""Profile entries keep the FHIR resource as written (issue 19), with the columns derived from it.

Existing entries keep their encrypted payload: turning it into a resource needs each record's data key,
which a migration does not hold. `carnet profile convert` does it (resumable); until then reads build the
resource from the payload exactly as before.

Revision ID: 20261201_profile_resources
Revises: 20261201_forget_ins
Create Date: 2026-12-01 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_profile_resources"
down_revision = "20261201_forget_ins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("profile_entries", sa.Column("resource_ct", sa.LargeBinary(), nullable=True))
    op.add_column("profile_entries", sa.Column("resource_type", sa.String(length=32), nullable=True))
    op.add_column("profile_entries", sa.Column("resource_status", sa.String(length=32), nullable=True))
    op.add_column("profile_entries", sa.Column("verification_status", sa.String(length=32), nullable=True))
    op.add_column(
        "profile_entries", sa.Column("in_error", sa.Boolean(), server_default=sa.text("false"), nullable=False)
    )
    op.add_column("profile_entries", sa.Column("occurred_on", sa.Date(), nullable=True))
    op.add_column("profile_entries", sa.Column("author_rpps", sa.String(length=11), nullable=True))
    op.alter_column("profile_entries", "payload_ct", existing_type=sa.LargeBinary(), nullable=True)
    op.create_check_constraint(
        op.f("ck_profile_entries_payload_or_resource"),
        "profile_entries",
        "(payload_ct IS NULL) <> (resource_ct IS NULL)",
    )


def downgrade() -> None:
    # Going down loses the resources stored since: refuse rather than drop clinical data.
    bind = op.get_bind()
    kept = bind.execute(sa.text("SELECT count(*) FROM profile_entries WHERE resource_ct IS NOT NULL")).scalar()
    if kept:
        raise RuntimeError(
            f"{kept} profile entries are stored as FHIR resources; downgrading would lose them. Export them first."
        )
    op.drop_constraint(op.f("ck_profile_entries_payload_or_resource"), "profile_entries", type_="check")
    op.alter_column("profile_entries", "payload_ct", existing_type=sa.LargeBinary(), nullable=False)
    for column in (
        "author_rpps",
        "occurred_on",
        "in_error",
        "verification_status",
        "resource_status",
        "resource_type",
        "resource_ct",
    ):
        op.drop_column("profile_entries", column)
