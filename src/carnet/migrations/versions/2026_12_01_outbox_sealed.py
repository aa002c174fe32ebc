"""The outbox keeps no secret readable: personal messages encrypted, notices without text, content erased once sent.

Revision ID: 20261201_outbox_sealed
Revises: 20261122_fhir
Create Date: 2026-12-01 21:30:00

A message waiting today holds its text in clear. A notice's text follows from its kind, so dropping it loses
nothing. A personal message (a sign-in code, a reset link) cannot be encrypted here, where no data key is at
hand: it is given up, and its text goes with the column. Its secret lived ten minutes or an hour; the patient
asks for a new code or link.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_outbox_sealed"
down_revision = "20261122_fhir"
branch_labels = None
depends_on = None

NOTICE_KINDS = ("new-document", "new-accessor", "emergency-access", "authorisation-change", "emergency-access-doctor")


def upgrade() -> None:
    op.add_column("outbox", sa.Column("content_ct", sa.LargeBinary(), nullable=True))
    op.add_column("outbox", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    kinds = ", ".join(f"'{kind}'" for kind in NOTICE_KINDS)
    op.execute(
        "UPDATE outbox SET state = 'failed', "  # noqa: S608 - constant kinds
        "last_error = 'given up at an upgrade: it held a code or link in clear' "
        f"WHERE state = 'pending' AND kind NOT IN ({kinds})"
    )
    op.drop_column("outbox", "body")
    op.drop_column("outbox", "subject")


def downgrade() -> None:
    op.add_column("outbox", sa.Column("subject", sa.String(length=200), nullable=False, server_default=""))
    op.add_column("outbox", sa.Column("body", sa.String(length=2000), nullable=False, server_default=""))
    op.alter_column("outbox", "subject", server_default=None)
    op.alter_column("outbox", "body", server_default=None)
    op.drop_column("outbox", "expires_at")
    op.drop_column("outbox", "content_ct")
