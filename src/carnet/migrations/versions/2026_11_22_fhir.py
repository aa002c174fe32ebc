"""Document versions and master identifiers for the FHIR API; the insurer's reimbursement lines.

Revision ID: 20261122_fhir
Revises: 20261122_accounts
Create Date: 2026-11-22 18:45:24.636713
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261122_fhir"
down_revision = "20261122_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reimbursements",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_ref", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("code_system", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("details_ct", sa.LargeBinary(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("reimbursed_cents", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("code_system IN ('CCAM', 'NGAP', 'CIP13')", name=op.f("ck_reimbursements_code_system")),
        sa.CheckConstraint("amount_cents >= 0 AND reimbursed_cents >= 0", name=op.f("ck_reimbursements_amounts")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["records.patient_id"], name=op.f("fk_reimbursements_patient_id_records")
        ),
        sa.PrimaryKeyConstraint("patient_id", "id", name=op.f("pk_reimbursements")),
    )
    op.create_index("ix_reimbursements_patient_date", "reimbursements", ["patient_id", "service_date"], unique=False)
    op.create_index("uq_reimbursements_patient_claim", "reimbursements", ["patient_id", "claim_ref"], unique=True)
    op.create_table(
        "document_versions",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("hidden_from_patient_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_from_representatives", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_versions_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["records.patient_id"], name=op.f("fk_document_versions_patient_id_records")
        ),
        sa.PrimaryKeyConstraint("patient_id", "document_id", "version", name=op.f("pk_document_versions")),
    )
    op.add_column("documents", sa.Column("master_identifier", sa.String(length=128), nullable=True))
    op.add_column("documents", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
    op.add_column("documents", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    # Existing documents start at version 1, last updated when they were deposited.
    op.execute("UPDATE documents SET updated_at = deposited_at")
    op.alter_column("documents", "updated_at", nullable=False)
    op.execute(
        "INSERT INTO document_versions (patient_id, document_id, version, recorded_at, status, masked, "
        "hidden_from_patient_until, hidden_from_representatives) SELECT patient_id, id, 1, deposited_at, status, "
        "masked, hidden_from_patient_until, hidden_from_representatives FROM documents"
    )
    op.create_index(
        "uq_documents_patient_master_identifier",
        "documents",
        ["patient_id", "master_identifier"],
        unique=True,
        postgresql_where=sa.text("master_identifier IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_documents_patient_master_identifier",
        table_name="documents",
        postgresql_where=sa.text("master_identifier IS NOT NULL"),
    )
    op.drop_column("documents", "updated_at")
    op.drop_column("documents", "version")
    op.drop_column("documents", "master_identifier")
    op.drop_table("document_versions")
    op.drop_index("uq_reimbursements_patient_claim", table_name="reimbursements")
    op.drop_index("ix_reimbursements_patient_date", table_name="reimbursements")
    op.drop_table("reimbursements")
