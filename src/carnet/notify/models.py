"""The patient's notification settings and the outbox of messages waiting to leave."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class NotificationSettings(Base):
    """Where and about what a patient wants to hear; the addresses are encrypted under the record's key."""

    __tablename__ = "notification_settings"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "kind:channel" pairs the patient wants, e.g. "emergency-access:sms".
    wanted: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A message to deliver at least once; its Message-ID stays the same across attempts."""

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.patient_id"))
    # Or, before any record exists (an online opening's code), the card whose registered contact it goes to;
    # its address and content are then encrypted under the card's key (identity.registry).
    card_serial: Mapped[str | None] = mapped_column(ForeignKey("vitale_cards.serial", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))
    # The patient's address, encrypted; or the RPPS of a professional, whose address the directory gives.
    recipient_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    recipient_rpps: Mapped[str | None] = mapped_column(String(11))
    # A message about the patient's own account (a sign-in code, a reset link): its subject and body,
    # encrypted under the record's key, and erased once delivered or given up. A notice stores no text:
    # its words are fixed by its kind and channel (notify.messages), and say nothing personal.
    content_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # After this the secret it carries has expired: it is not sent, and its content is erased.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("(recipient_ct IS NULL) <> (recipient_rpps IS NULL)", name="one_recipient"),
        CheckConstraint("(patient_id IS NULL) <> (card_serial IS NULL)", name="record_or_card"),
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
    )
