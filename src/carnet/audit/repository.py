"""All SQL of the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, text
from sqlalchemy.orm import Session

from carnet.audit.chain import AuditEvent, StoredEntry
from carnet.audit.models import AuditEntry, AuditHead, Seal, SealLeaf


def reserve(session: Session, chain_id: uuid.UUID, count: int, now: datetime) -> tuple[int, bytes]:
    """Lock the chain's head and reserve `count` sequence numbers; return the last seq and hash before them.

    One call of `audit_reserve`, which creates a chain's head on its first append: the application's role may
    move a head only through it, and only forward (migration 20261201_audit_heads).
    """
    row = session.execute(
        text("SELECT last_seq, last_hash FROM audit_reserve(:chain_id, :count, :now)"),
        {"chain_id": chain_id, "count": count, "now": now},
    ).one()
    return int(row.last_seq), bytes(row.last_hash)


# One statement inserts the entries, from one array per column: its text never changes (so it is prepared
# once), and its 16 parameters stay 16 however many entries a unit of work appends. The head's hash follows
# by itself (trigger audit_entries_move_head).
_APPEND = text(
    """
    INSERT INTO audit_entries (chain_id, seq, at, actor_kind, actor_ref, profession, organisation, mode,
                               action, subject, allowed, reason, source, request_id, prev_hash, hash)
    SELECT :chain_id, * FROM unnest(
        CAST(:seq AS bigint[]), CAST(:at AS timestamptz[]), CAST(:actor_kind AS text[]),
        CAST(:actor_ref AS text[]), CAST(:profession AS text[]), CAST(:organisation AS text[]),
        CAST(:mode AS text[]), CAST(:action AS text[]), CAST(:subject AS text[]),
        CAST(:allowed AS boolean[]), CAST(:reason AS text[]), CAST(:source AS text[]),
        CAST(:request_id AS text[]), CAST(:prev_hash AS bytea[]), CAST(:hash AS bytea[])
    )
    """
)
_COLUMNS = (
    "seq",
    "at",
    "actor_kind",
    "actor_ref",
    "profession",
    "organisation",
    "mode",
    "action",
    "subject",
    "allowed",
    "reason",
    "source",
    "request_id",
    "prev_hash",
    "hash",
)


def append(session: Session, chain_id: uuid.UUID, rows: list[dict[str, object]]) -> None:
    """Insert the entries, in one statement; the head's hash moves to the last of them."""
    columns = {name: [row[name] for row in rows] for name in _COLUMNS}
    session.execute(_APPEND, {"chain_id": chain_id, **columns})


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


def chain_page(
    session: Session,
    chain_id: uuid.UUID,
    *,
    actor_ref: str | None,
    modes: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
    unseen_subjects: Select[str] | None = None,
    without_patient: str | None = None,
) -> list[AuditEntry]:
    """A page of one patient's trail, newest first, filtered in the query before it is cut.

    `unseen_subjects` names the items the reader may not see: lines about them are left out.
    `without_patient` leaves out that patient's own doings (see `own_doings`).
    """
    statement = select(AuditEntry).where(AuditEntry.chain_id == chain_id)
    if without_patient is not None:
        statement = statement.where(not_(own_doings(without_patient)))
    if unseen_subjects is not None:
        statement = statement.where(or_(AuditEntry.subject.is_(None), AuditEntry.subject.not_in(unseen_subjects)))
    if actor_ref is not None:
        statement = statement.where(AuditEntry.actor_ref == actor_ref)
    if modes is not None:
        statement = statement.where(AuditEntry.mode.in_(modes))
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.at < until)
    statement = statement.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit + 1)
    return list(session.scalars(statement))


def own_doings(patient_ref: str) -> ColumnElement[bool]:
    """The patient's own entries, and the password step of their sign-ins (made before the second factor proved
    who it was, so named by the network address): what a reader of their own history does not need to see again.
    A refused attempt is never one of them."""
    return or_(
        and_(AuditEntry.actor_kind == "patient", AuditEntry.actor_ref == patient_ref),
        and_(AuditEntry.actor_kind == "anonymous", AuditEntry.action == "login.password", AuditEntry.allowed),
    )


def professionals_in(session: Session, chain_id: uuid.UUID) -> list[tuple[str, str | None]]:
    """Every professional the trail names (RPPS, profession), for the history's filter."""
    statement = (
        select(AuditEntry.actor_ref, func.max(AuditEntry.profession))
        .where(AuditEntry.chain_id == chain_id, AuditEntry.actor_kind == "professional")
        .group_by(AuditEntry.actor_ref)
        .order_by(AuditEntry.actor_ref)
    )
    return [(row[0], row[1]) for row in session.execute(statement)]


def last_sign_in(session: Session, chain_id: uuid.UUID, patient_ref: str, before: datetime) -> datetime | None:
    """When the patient last completed a sign-in before this moment (the start of the present session)."""
    statement = select(func.max(AuditEntry.at)).where(
        AuditEntry.chain_id == chain_id,
        AuditEntry.action == "login.second-factor",
        AuditEntry.allowed,
        AuditEntry.actor_kind == "patient",
        AuditEntry.actor_ref == patient_ref,
        AuditEntry.at < before,
    )
    return session.scalar(statement)


def first_accesses(
    session: Session, chain_id: uuid.UUID, since: datetime | None, limit: int
) -> list[tuple[str, str | None, datetime]]:
    """Professionals whose first allowed access to the record came at or after `since`: RPPS, profession, when."""
    first = func.min(AuditEntry.at)
    statement = (
        select(AuditEntry.actor_ref, func.max(AuditEntry.profession), first)
        .where(AuditEntry.chain_id == chain_id, AuditEntry.actor_kind == "professional", AuditEntry.allowed)
        .group_by(AuditEntry.actor_ref)
        .order_by(first.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.having(first >= since)
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def emergencies(session: Session, chain_id: uuid.UUID, since: datetime | None, limit: int) -> list[AuditEntry]:
    """The emergency and regulation accesses declared on the record at or after `since`, newest first."""
    statement = select(AuditEntry).where(
        AuditEntry.chain_id == chain_id, AuditEntry.action == "emergency.declare", AuditEntry.allowed
    )
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    return list(session.scalars(statement.order_by(AuditEntry.seq.desc()).limit(limit)))


def professional_entries(session: Session, rpps: str, since: datetime, until: datetime) -> Iterator[AuditEntry]:
    """Every entry of one professional over a period, oldest first, streamed (ix_audit_entries_actor_at)."""
    statement = (
        select(AuditEntry)
        .where(AuditEntry.actor_ref == rpps, AuditEntry.at >= since, AuditEntry.at < until)
        .order_by(AuditEntry.at, AuditEntry.chain_id, AuditEntry.seq)
        .execution_options(yield_per=1000)
    )
    yield from session.scalars(statement)


def sealed_heads(session: Session, chain_id: uuid.UUID) -> list[tuple[int, bytes]]:
    statement = select(SealLeaf.seq, SealLeaf.head_hash).where(SealLeaf.chain_id == chain_id).order_by(SealLeaf.seq)
    return [(row.seq, bytes(row.head_hash)) for row in session.execute(statement)]


def last_professional_access(session: Session, chain_id: uuid.UUID, rpps: str, before: datetime) -> datetime | None:
    """When this professional last read the record (an allowed read of any kind) before this moment."""
    statement = select(func.max(AuditEntry.at)).where(
        AuditEntry.chain_id == chain_id,
        AuditEntry.actor_kind == "professional",
        AuditEntry.actor_ref == rpps,
        AuditEntry.allowed,
        AuditEntry.action.in_(("record.read", "document.list", "document.read", "profile.read")),
        AuditEntry.at < before,
    )
    return session.scalar(statement)


def latest_seal(session: Session) -> Seal | None:
    return session.scalars(select(Seal).order_by(Seal.size.desc()).limit(1)).one_or_none()


def sealed_and_written(session: Session) -> tuple[int, int]:
    """How many entries the seals cover, and how many the chains hold (each head knows both of its chain)."""
    row = session.execute(
        select(func.coalesce(func.sum(AuditHead.sealed_seq), 0), func.coalesce(func.sum(AuditHead.seq), 0))
    ).one()
    return int(row[0]), int(row[1])
