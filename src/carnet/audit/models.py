"""The audit tables: entries (append-only for the application's role) and the head of each chain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class AuditEntry(Base):
    """Kept after the record is destroyed (who accessed what, never medical content); no foreign key, so."""

    __tablename__ = "audit_entries"

    chain_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_ref: Mapped[str] = mapped_column(String(64))
    profession: Mapped[str | None] = mapped_column(String(2))
    organisation: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(80))
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_audit_entries_actor_at", "actor_ref", "at"),
        # "Has this professional accessed this record before?" (first-access notices), one index probe.
        Index("ix_audit_entries_chain_actor", "chain_id", "actor_ref", postgresql_where=text("allowed")),
    )


class AuditHead(Base):
    """Where each chain ends; locked while appending, so appends to different patients never wait on each other."""

    __tablename__ = "audit_heads"

    chain_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sealed_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class SealLeaf(Base):
    """The append-only Merkle log of sealed chain heads (RFC 6962 leaves, numbered from one)."""

    __tablename__ = "audit_seal_leaves"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chain_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_audit_seal_leaves_chain_seq", "chain_id", "seq"),)


class Seal(Base):
    """A signed root of the log at one size: everything sealed up to it can be proven."""

    __tablename__ = "audit_seals"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    root: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
