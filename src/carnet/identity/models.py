"""Cards: the patient's carte Vitale (a serial and a key pair) and the challenges it signs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class VitaleCard(Base):
    """A carte Vitale: its serial and public key. The private key never leaves the card."""

    __tablename__ = "vitale_cards"

    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_vitale_cards_patient_id", "patient_id"),)


class CardChallenge(Base):
    """A fresh nonce a professional's card reader asks the card to sign; usable once, briefly."""

    __tablename__ = "card_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    professional_rpps: Mapped[str] = mapped_column(String(11))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DirectoryEntry(Base):
    """A professional as the national directory knows them: enough to reach them, nothing about patients."""

    __tablename__ = "professional_directory"

    rpps: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(254))  # a secure health messaging address (MSSanté)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))
