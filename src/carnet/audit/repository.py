"""All SQL of the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from carnet.audit.chain import GENESIS, AuditEvent, StoredEntry
from carnet.audit.models import AuditEntry, AuditHead


def reserve(session: Session, chain_id: uuid.UUID, count: int, now: datetime) -> tuple[int, bytes]:
    """Lock the chain's head and reserve `count` sequence numbers; return the last seq and hash before them.

    One statement for a chain that exists; a chain's first append creates its head first.
    """
    reserve_seq = (
        update(AuditHead)
        .where(AuditHead.chain_id == chain_id)
        .values(seq=AuditHead.seq + count, updated_at=now)
        .returning(AuditHead.seq, AuditHead.hash)
    )
    row = session.execute(reserve_seq).one_or_none()
    if row is None:
        session.execute(
            pg_insert(AuditHead).values(chain_id=chain_id, seq=0, hash=GENESIS, updated_at=now).on_conflict_do_nothing()
        )
        row = session.execute(reserve_seq).one()
    return row.seq - count, bytes(row.hash)


def append(session: Session, chain_id: uuid.UUID, rows: list[dict[str, object]], last_hash: bytes) -> None:
    """Insert the entries and move the head's hash to the last of them, in one statement."""
    entries = insert(AuditEntry).values(rows).cte("appended")
    session.execute(update(AuditHead).where(AuditHead.chain_id == chain_id).values(hash=last_hash).add_cte(entries))


def heads(session: Session, chain_id: uuid.UUID | None) -> dict[uuid.UUID, tuple[int, bytes]]:
    statement = select(AuditHead.chain_id, AuditHead.seq, AuditHead.hash)
    if chain_id is not None:
        statement = statement.where(AuditHead.chain_id == chain_id)
    return {row.chain_id: (row.seq, bytes(row.hash)) for row in session.execute(statement)}


def chain_ids(session: Session) -> list[uuid.UUID]:
    """Every chain with entries or a head, so a chain whose head was deleted is still checked."""
    entries = select(AuditEntry.chain_id).distinct()
    return sorted(set(session.scalars(entries)) | set(session.scalars(select(AuditHead.chain_id))))


def chain_entries(session: Session, chain_id: uuid.UUID) -> Iterator[StoredEntry]:
    """The chain in stored order (by sequence number), streamed."""
    statement = select(AuditEntry).where(AuditEntry.chain_id == chain_id).order_by(AuditEntry.seq)
    for row in session.scalars(statement.execution_options(yield_per=1000)):
        yield StoredEntry(
            seq=row.seq,
            event=AuditEvent(
                chain_id=row.chain_id,
                at=row.at,
                actor_kind=row.actor_kind,
                actor_ref=row.actor_ref,
                profession=row.profession,
                organisation=row.organisation,
                mode=row.mode,
                action=row.action,
                subject=row.subject,
                allowed=row.allowed,
                reason=row.reason,
                source=row.source,
                request_id=row.request_id,
            ),
            prev_hash=bytes(row.prev_hash),
            hash=bytes(row.hash),
        )
