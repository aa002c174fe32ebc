"""Documents keep their DocumentReference as written (issue 19): the resource of the current version on
`documents`, the one of each version on `document_versions`, and the docStatus beside them.

Existing documents keep their columns: rebuilding their resource needs each record's data key, which a
migration does not hold. `carnet documents convert` does it (resumable); until then reads build the
resource from the columns exactly as before.

Revision ID: 20261202_document_resources
Revises: 20261202_patient_resources
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261202_document_resources"
down_revision = "20261202_patient_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("resource_ct", sa.LargeBinary(), nullable=True))
    op.add_column("documents", sa.Column("doc_status", sa.String(length=16), nullable=True))
    op.add_column("document_versions", sa.Column("resource_ct", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Going down loses what writers sent beyond the columns: refuse rather than drop clinical metadata.
    bind = op.get_bind()
    kept = bind.execute(sa.text("SELECT count(*) FROM documents WHERE resource_ct IS NOT NULL")).scalar()
    if kept:
        raise RuntimeError(
            f"{kept} documents keep their DocumentReference as written; downgrading would lose it. Export them first."
        )
    op.drop_column("document_versions", "resource_ct")
    op.drop_column("documents", "doc_status")
    op.drop_column("documents", "resource_ct")
