"""All SQL of the records domain. Every query is scoped to one patient, so it stays one index range."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, and_, cast, delete, func, literal, not_, or_, select, true
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.orm import Session

from carnet.access.matrix import ADVANCE_DIRECTIVES_TYPE
from carnet.access.policy import ListFilter
from carnet.records.models import (
    Document,
    DocumentContent,
    DocumentVersion,
    MasterKeyInUse,
    ProfileEntry,
    Record,
    RecordKey,
)
from carnet.records.schemas import DocumentQuery


def get_record(session: Session, patient_id: uuid.UUID, *, for_update: bool = False) -> Record | None:
    statement = select(Record).where(Record.patient_id == patient_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def living_record_for_ins(session: Session, ins: str) -> Record | None:
    return session.scalars(select(Record).where(Record.ins == ins, Record.state != "destroyed")).one_or_none()


def record_ids_for_ins(session: Session, ins: str) -> list[uuid.UUID]:
    """The records this INS has: living or closed ones (a destroyed record keeps no INS; its id finds it)."""
    return list(session.scalars(select(Record.patient_id).where(Record.ins == ins).order_by(Record.opened_at)))


def existing_ins(session: Session, candidates: Sequence[str]) -> set[str]:
    """Which of these INS already have a living record (one query for a whole batch)."""
    rows = session.scalars(select(Record.ins).where(Record.ins.in_(candidates), Record.state != "destroyed"))
    return {ins for ins in rows if ins is not None}


def records_due_for_destruction(
    session: Session, *, closed_before: datetime, requested_before: datetime, limit: int
) -> list[uuid.UUID]:
    statement = (
        select(Record.patient_id)
        .where(
            Record.state == "closed",
            (Record.destruction_requested_at <= requested_before) | (Record.closed_at < closed_before),
        )
        .order_by(Record.closed_at)
        .limit(limit)
    )
    return list(session.scalars(statement))


def get_record_key(session: Session, patient_id: uuid.UUID) -> RecordKey | None:
    return session.get(RecordKey, patient_id)


def delete_record_key(session: Session, patient_id: uuid.UUID) -> None:
    session.execute(delete(RecordKey).where(RecordKey.patient_id == patient_id))


def register_master_key(session: Session, key_id: str, now: datetime) -> None:
    session.execute(insert(MasterKeyInUse).values(key_id=key_id, registered_at=now).on_conflict_do_nothing())


def master_key_ids_in_use(session: Session) -> set[str]:
    return set(session.scalars(select(MasterKeyInUse.key_id)))


def get_document(
    session: Session, patient_id: uuid.UUID, document_id: uuid.UUID, *, for_update: bool = False
) -> Document | None:
    statement = select(Document).where(Document.patient_id == patient_id, Document.id == document_id)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def document_with_master_identifier(session: Session, patient_id: uuid.UUID, master_identifier: str) -> bool:
    statement = select(Document.id).where(
        Document.patient_id == patient_id, Document.master_identifier == master_identifier
    )
    return session.scalars(statement).first() is not None


def document_versions(session: Session, patient_id: uuid.UUID, document_id: uuid.UUID) -> list[DocumentVersion]:
    """Every version of a document, newest first."""
    statement = (
        select(DocumentVersion)
        .where(DocumentVersion.patient_id == patient_id, DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.version.desc())
    )
    return list(session.scalars(statement))


def _visible(visibility: ListFilter, now: datetime) -> ColumnElement[bool]:
    """The access rules' list filter as SQL (the rules themselves live in access.policy)."""
    restricted: list[ColumnElement[bool]] = []
    if visibility.classes is not None:
        restricted.append(Document.class_code.in_(sorted(visibility.classes)))
    if not visibility.include_masked:
        restricted.append(Document.masked.is_(False))
    if not visibility.include_advance_directives:
        restricted.append(Document.type_code != ADVANCE_DIRECTIVES_TYPE)
    condition = and_(true(), *restricted)
    if visibility.author_ref is not None:
        own = and_(Document.author_kind == "professional", Document.author_ref == visibility.author_ref)
        condition = or_(own, condition)
    if not visibility.include_hidden_from_patient:
        condition = and_(
            condition,
            or_(Document.hidden_from_patient_until.is_(None), Document.hidden_from_patient_until <= now),
        )
    if not visibility.include_hidden_from_representatives:
        condition = and_(condition, Document.hidden_from_representatives.is_(False))
    return condition


def unseen_document_subjects(patient_id: uuid.UUID, visibility: ListFilter, now: datetime) -> Select[str]:
    """The trail subjects ("document:<id>") of the record's documents this list filter keeps from its reader:
    a subquery, so a trail is filtered in the same statement that pages it."""
    subject = literal("document:") + cast(Document.id, String)
    return select(subject).where(Document.patient_id == patient_id, not_(_visible(visibility, now)))


def documents_by_id(session: Session, patient_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Document]:
    if not ids:
        return []
    return list(session.scalars(select(Document).where(Document.patient_id == patient_id, Document.id.in_(ids))))


def list_documents(
    session: Session, patient_id: uuid.UUID, query: DocumentQuery, visibility: ListFilter, now: datetime
) -> list[Document]:
    """One page plus one row of what the actor may see, so the caller knows whether another page follows."""
    statement = select(Document).where(Document.patient_id == patient_id, _visible(visibility, now))
    if query.status != "any":
        statement = statement.where(Document.status == query.status)
    if query.class_code:
        statement = statement.where(Document.class_code == query.class_code)
    if query.type_code:
        statement = statement.where(Document.type_code == query.type_code)
    if query.act_from:
        statement = statement.where(Document.act_date >= query.act_from)
    if query.act_to:
        statement = statement.where(Document.act_date <= query.act_to)
    for column, low, high in (
        (Document.deposited_at, query.deposited_from, query.deposited_before),
        (Document.updated_at, query.updated_from, query.updated_before),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column < high)
    if query.author_ref:
        statement = statement.where(Document.author_ref == query.author_ref)
    if query.master_identifier is not None:
        statement = statement.where(Document.master_identifier == query.master_identifier)
    order = {
        "act": (Document.act_date.desc(), Document.deposited_at.desc(), Document.id),
        "deposited": (Document.deposited_at, Document.id),
        "-deposited": (Document.deposited_at.desc(), Document.id),
    }[query.order]
    statement = statement.order_by(*order).offset(query.offset).limit(query.limit + 1)
    return list(session.scalars(statement))


def document_authors(session: Session, patient_id: uuid.UUID, visibility: ListFilter, now: datetime) -> list[Document]:
    """The latest current document of each author whose documents the actor may see (one row per author)."""
    statement = (
        select(Document)
        .where(Document.patient_id == patient_id, Document.status == "current", _visible(visibility, now))
        .order_by(Document.author_kind, Document.author_ref, Document.deposited_at.desc())
        .ext(distinct_on(Document.author_kind, Document.author_ref))
        .limit(500)
    )
    return list(session.scalars(statement))


def get_profile_entry(session: Session, patient_id: uuid.UUID, entry_id: uuid.UUID) -> ProfileEntry | None:
    statement = select(ProfileEntry).where(ProfileEntry.patient_id == patient_id, ProfileEntry.id == entry_id)
    return session.scalars(statement).one_or_none()


def list_profile_entries(
    session: Session, patient_id: uuid.UUID, *, kinds: Sequence[str] | None, include_retired: bool
) -> list[ProfileEntry]:
    statement = select(ProfileEntry).where(ProfileEntry.patient_id == patient_id)
    if kinds is not None:
        statement = statement.where(ProfileEntry.kind.in_(kinds))
    if not include_retired:  # the current entries: neither retired by their author nor entered in error
        statement = statement.where(ProfileEntry.status == "active", ProfileEntry.in_error.is_(False))
    return list(session.scalars(statement.order_by(ProfileEntry.kind, ProfileEntry.recorded_at.desc())))


def records_to_purge(session: Session, *, limit: int) -> list[uuid.UUID]:
    """Destroyed records whose remains are still stored, oldest destruction first, locked (SKIP LOCKED)."""
    statement = (
        select(Record.patient_id)
        .where(Record.state == "destroyed", Record.purged_at.is_(None))
        .order_by(Record.destroyed_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(statement))


def forget_contents(session: Session, patient_id: uuid.UUID) -> int:
    """A destroyed record's documents (contents, versions, metadata) and profile entries; how many rows went."""
    removed = 0
    for model in (DocumentContent, DocumentVersion, Document, ProfileEntry):
        removed += int(session.execute(delete(model).where(model.patient_id == patient_id)).rowcount)  # type: ignore[attr-defined]
    return removed


def data_keys_by_master(session: Session) -> dict[str, int]:
    statement = select(RecordKey.master_key_id, func.count()).group_by(RecordKey.master_key_id)
    return {str(key_id): int(count) for key_id, count in session.execute(statement)}
