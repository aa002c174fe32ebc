"""The account's journeys in the portal (issue 12): opening one's record online, and a TOTP enrolment
confirmed by the app's first code.

The insurer's card registry holds a contact for each card (encrypted under a key of the card's own); an
online opening is kept in `online_openings` until its code is proven and the account activated; the outbox
can carry a message to a card's contact, before any record exists.

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
    op.add_column("vitale_cards", sa.Column("master_key_id", sa.String(length=16), nullable=True))
    op.add_column("vitale_cards", sa.Column("wrapped_key", sa.LargeBinary(), nullable=True))
    op.add_column("vitale_cards", sa.Column("contact_email_ct", sa.LargeBinary(), nullable=True))
    op.add_column("vitale_cards", sa.Column("contact_phone_ct", sa.LargeBinary(), nullable=True))
    op.create_table(
        "online_openings",
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("card_serial", sa.String(length=20), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("activation_ct", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_serial"],
            ["vitale_cards.serial"],
            name=op.f("fk_online_openings_card_serial_vitale_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["records.patient_id"],
            name=op.f("fk_online_openings_patient_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_online_openings")),
    )
    op.create_index("ix_online_openings_card_serial", "online_openings", ["card_serial"])
    op.add_column("outbox", sa.Column("card_serial", sa.String(length=20), nullable=True))
    op.create_foreign_key(
        op.f("fk_outbox_card_serial_vitale_cards"),
        "outbox",
        "vitale_cards",
        ["card_serial"],
        ["serial"],
        ondelete="CASCADE",
    )
    op.alter_column("outbox", "patient_id", existing_type=sa.Uuid(), nullable=True)
    op.create_check_constraint(
        op.f("ck_outbox_record_or_card"), "outbox", "(patient_id IS NULL) <> (card_serial IS NULL)"
    )
    op.execute(
        "UPDATE patient_accounts SET totp_confirmed_at = created_at "
        "WHERE second_factor = 'totp' AND totp_last_step IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE card_serial IS NOT NULL")
    op.drop_constraint(op.f("ck_outbox_record_or_card"), "outbox", type_="check")
    op.alter_column("outbox", "patient_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_constraint(op.f("fk_outbox_card_serial_vitale_cards"), "outbox", type_="foreignkey")
    op.drop_column("outbox", "card_serial")
    op.drop_index("ix_online_openings_card_serial", table_name="online_openings")
    op.drop_table("online_openings")
    for column in ("contact_phone_ct", "contact_email_ct", "wrapped_key", "master_key_id"):
        op.drop_column("vitale_cards", column)
    op.drop_column("patient_accounts", "enrolment_session_hash")
    op.drop_column("patient_accounts", "totp_confirmed_at")
