"""Reimbursement lines, as the insurer sends them; the label and the people involved are encrypted."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class Reimbursement(Base):
    __tablename__ = "reimbursements"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # The insurer's own id of the line: a line sent twice is stored once.
    claim_ref: Mapped[str] = mapped_column(String(64))
    service_date: Mapped[date] = mapped_column(Date)
    code_system: Mapped[str] = mapped_column(String(8))  # CCAM, NGAP or CIP13
    code: Mapped[str] = mapped_column(String(16))
    details_ct: Mapped[bytes] = mapped_column(LargeBinary)  # label, prescriber, dispenser (JSON)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reimbursed_cents: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("code_system IN ('CCAM', 'NGAP', 'CIP13')", name="code_system"),
        CheckConstraint("amount_cents >= 0 AND reimbursed_cents >= 0", name="amounts"),
        Index("uq_reimbursements_patient_claim", "patient_id", "claim_ref", unique=True),
        Index("ix_reimbursements_patient_date", "patient_id", "service_date"),
    )
