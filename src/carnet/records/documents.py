"""Documents of a record: deposit, list, read, replace, withdraw, mask, flag. Contents are encrypted first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from carnet.access import gate
from carnet.access.actor import Actor, ActorKind
from carnet.access.gate import Access
from carnet.access.matrix import ADVANCE_DIRECTIVES_TYPE
from carnet.access.policy import Action, ItemFacts
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import Conflict, Invalid, NotFound, PreconditionFailed
from carnet.records import repository
from carnet.records.codes import PATIENT_CLASS, DocumentStatus, parse_format
from carnet.records.content import check_content
from carnet.records.content_store import PostgresContentStore
from carnet.records.keys import data_key
from carnet.records.models import Document, DocumentVersion
from carnet.records.schemas import DocumentPage, DocumentQuery, DocumentView, NewDocument
from carnet.records.service import load_record

NO_SUCH_DOCUMENT = gate.NO_SUCH_ITEM  # one answer for missing and for not allowed
MAX_HIDDEN_FROM_PATIENT = timedelta(days=365)


def _title_aad(document_id: uuid.UUID) -> str:
    return f"documents.title:{document_id}"


def _author_aad(document_id: uuid.UUID) -> str:
    return f"documents.author_name:{document_id}"


def _content_aad(patient_id: uuid.UUID, content_id: uuid.UUID) -> str:
    return f"document_contents:{patient_id}:{content_id}"


def item_facts(actor: Actor, document: Document, now: datetime) -> ItemFacts:
    """What the access rules need to know about a stored document."""
    return ItemFacts(
        class_code=document.class_code,
        advance_directive=document.type_code == ADVANCE_DIRECTIVES_TYPE,
        authored_by_actor=actor.kind.value == document.author_kind and actor.ref == document.author_ref,
        masked=document.masked,
        hidden_from_patient=document.hidden_from_patient_until is not None and document.hidden_from_patient_until > now,
        hidden_from_representatives=document.hidden_from_representatives,
    )


def _author_of(actor: Actor, meta: NewDocument) -> tuple[str, str, str | None, str | None]:
    """(kind, ref, name, organisation) of the author; patients author class 90 only, and only they do."""
    if actor.kind is ActorKind.PATIENT:
        if meta.class_code != PATIENT_CLASS:
            raise Invalid(
                f"A document a patient deposits is of class {PATIENT_CLASS} (Déposé par le patient).",
                code="invalid-class",
            )
        if meta.author is not None:
            raise Invalid("A patient deposits documents in their own name.", code="invalid-author")
        return "patient", actor.ref, None, None
    if meta.class_code == PATIENT_CLASS:
        raise Invalid(f"Class {PATIENT_CLASS} is reserved for documents the patient deposits.", code="invalid-class")
    if actor.kind is ActorKind.PROFESSIONAL:
        if meta.author is not None and meta.author.rpps != actor.ref:
            raise Invalid("A professional deposits documents in their own name.", code="invalid-author")
        name = meta.author.name if meta.author else None
        return (
            "professional",
            actor.ref,
            name,
            actor.organisation or (meta.author.organisation if meta.author else None),
        )
    if meta.author is None:
        raise Invalid("An imported document names its professional author.", code="invalid-author")
    return "professional", meta.author.rpps, meta.author.name, meta.author.organisation


def _store(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    meta: NewDocument,
    content: bytes,
    *,
    replaces: uuid.UUID | None,
    document_id: uuid.UUID | None = None,
) -> Document:
    fmt = parse_format(meta.format)
    digest = check_content(content, fmt, max_bytes=ctx.max_document_bytes)
    author_kind, author_ref, author_name, organisation = _author_of(actor, meta)
    key = data_key(ctx, patient_id)
    now = clock.now()
    document_id, content_id = document_id or uuid.uuid4(), uuid.uuid4()
    PostgresContentStore(ctx.session).put(
        patient_id, content_id, key.encrypt(content, aad=_content_aad(patient_id, content_id))
    )
    document = Document(
        id=document_id,
        patient_id=patient_id,
        class_code=meta.class_code,
        type_code=meta.type_code,
        title_ct=key.encrypt_text(meta.title, aad=_title_aad(document_id)),
        act_date=meta.act_date,
        author_kind=author_kind,
        author_ref=author_ref,
        author_name_ct=key.encrypt_text(author_name, aad=_author_aad(document_id)) if author_name else None,
        author_organisation=organisation,
        created_at=meta.created_at or now,
        deposited_at=now,
        format=fmt.value,
        size=len(content),
        sha256=digest,
        status=DocumentStatus.CURRENT.value,
        replaces_id=replaces,
        content_id=content_id,
        masked=False,
        hidden_from_patient_until=None,
        hidden_from_representatives=False,
        master_identifier=meta.master_identifier,
        version=1,
        updated_at=now,
    )
    ctx.session.add(document)
    ctx.session.add(_snapshot(document))
    return document


def _snapshot(document: Document) -> DocumentVersion:
    return DocumentVersion(
        patient_id=document.patient_id,
        document_id=document.id,
        version=document.version,
        recorded_at=document.updated_at,
        status=document.status,
        masked=document.masked,
        hidden_from_patient_until=document.hidden_from_patient_until,
        hidden_from_representatives=document.hidden_from_representatives,
    )


def _new_version(ctx: Context, document: Document) -> None:
    """Status or flags changed: the document moves to its next version, and the version is kept."""
    document.version += 1
    document.updated_at = clock.now()
    ctx.session.add(_snapshot(document))


def deposit_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, meta: NewDocument, content: bytes) -> uuid.UUID:
    document_id = uuid.uuid4()
    load_record(ctx, actor, Action.DOCUMENT_DEPOSIT, patient_id, subject=f"document:{document_id}")
    _refuse_known_identifier(ctx, patient_id, meta)
    document = _store(ctx, actor, patient_id, meta, content, replaces=None, document_id=document_id)
    ctx.session.flush()
    return document.id


def _refuse_known_identifier(ctx: Context, patient_id: uuid.UUID, meta: NewDocument) -> None:
    if meta.master_identifier is not None and repository.document_with_master_identifier(
        ctx.session, patient_id, meta.master_identifier
    ):
        raise Conflict(
            "A document with this master identifier is already in the record: a new version replaces it.",
            code="duplicate-document",
        )


def _view(key: DataKey, document: Document, now: datetime, version: DocumentVersion | None = None) -> DocumentView:
    """The document as it is, or as it was at `version` (only status and flags ever change)."""
    state = version or document
    hidden_until = state.hidden_from_patient_until
    return DocumentView(
        id=document.id,
        patient_id=document.patient_id,
        class_code=document.class_code,
        type_code=document.type_code,
        title=key.decrypt_text(document.title_ct, aad=_title_aad(document.id)),
        act_date=document.act_date,
        author_kind=document.author_kind,
        author_ref=document.author_ref,
        author_name=(
            key.decrypt_text(document.author_name_ct, aad=_author_aad(document.id))
            if document.author_name_ct is not None
            else None
        ),
        author_organisation=document.author_organisation,
        created_at=document.created_at,
        deposited_at=document.deposited_at,
        format=document.format,
        size=document.size,
        sha256=document.sha256,
        status=state.status,
        replaces_id=document.replaces_id,
        masked=state.masked,
        hidden_from_patient_until=hidden_until if hidden_until is not None and hidden_until > now else None,
        hidden_from_representatives=state.hidden_from_representatives,
        version=version.version if version else document.version,
        updated_at=version.recorded_at if version else document.updated_at,
        master_identifier=document.master_identifier,
    )


def document_title(ctx: Context, document: Document) -> str:
    """A document's title, for a use case that has passed the gate (the access history, for one)."""
    return data_key(ctx, document.patient_id).decrypt_text(document.title_ct, aad=_title_aad(document.id))


def list_documents(ctx: Context, actor: Actor, patient_id: uuid.UUID, query: DocumentQuery) -> DocumentPage:
    """A page of the documents this actor may see, newest act first; `next_offset` is None on the last page.

    Filtering happens in the query, before paging, so a page never reveals how many items were hidden.
    """
    _, access = load_record(ctx, actor, Action.DOCUMENT_LIST, patient_id)
    now = clock.now()
    rows = repository.list_documents(ctx.session, patient_id, query, gate.filter_for(access), now)
    more = len(rows) > query.limit
    shown = [
        row for row in rows[: query.limit] if gate.visible(access, Action.DOCUMENT_READ, item_facts(actor, row, now))
    ]
    if not shown:
        return DocumentPage(items=[], next_offset=query.offset + query.limit if more else None)
    key = data_key(ctx, patient_id)
    return DocumentPage(
        items=[_view(key, row, now) for row in shown],
        next_offset=query.offset + query.limit if more else None,
    )


def _load_document(
    ctx: Context,
    actor: Actor,
    action: Action,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    lock: bool = False,
) -> tuple[Document, Access]:
    """The document, once the gate allowed `action` on the record and on it; "not found" otherwise."""
    subject = f"document:{document_id}"
    _, access = load_record(ctx, actor, action, patient_id, subject=subject, item_follows=True)
    document = repository.get_document(ctx.session, patient_id, document_id, for_update=lock)
    if document is None:
        # Audited like a refusal to see it: the trail shows the attempt, the actor learns nothing more.
        gate.record_missing(ctx, access, action, subject)
        raise NotFound(NO_SUCH_DOCUMENT)
    gate.authorize_item(ctx, access, action, item_facts(actor, document, clock.now()), subject)
    return document, access


def get_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> DocumentView:
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    return _view(data_key(ctx, patient_id), document, clock.now())


def document_history(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> list[DocumentView]:
    """Every version of a document, newest first; the gate decides on the document as it is now."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    key, now = data_key(ctx, patient_id), clock.now()
    return [_view(key, document, now, v) for v in repository.document_versions(ctx.session, patient_id, document_id)]


def read_content(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[DocumentView, bytes]:
    """The document's metadata and its decrypted content."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    ciphertext = PostgresContentStore(ctx.session).get(patient_id, document.content_id)
    if ciphertext is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    key = data_key(ctx, patient_id)
    content = key.decrypt(ciphertext, aad=_content_aad(patient_id, document.content_id))
    return _view(key, document, clock.now()), content


def _current(document: Document) -> Document:
    if document.status != DocumentStatus.CURRENT.value:
        raise Invalid(
            f"This document is {document.status}; only the current version can be changed.",
            code="not-current",
        )
    return document


def replace_document(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    meta: NewDocument,
    content: bytes,
) -> uuid.UUID:
    """Deposit a new version; the old one becomes deprecated and points forward through `replaces_id`."""
    old = _current(_load_document(ctx, actor, Action.DOCUMENT_REPLACE, patient_id, document_id)[0])
    new = _store(ctx, actor, patient_id, meta, content, replaces=old.id)
    new.hidden_from_representatives = old.hidden_from_representatives
    old.status = DocumentStatus.DEPRECATED.value
    _new_version(ctx, old)
    ctx.session.flush()
    return new.id


def withdraw_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """The author withdraws a document: it is kept, with status withdrawn, never deleted."""
    document = _current(_load_document(ctx, actor, Action.DOCUMENT_WITHDRAW, patient_id, document_id)[0])
    document.status = DocumentStatus.WITHDRAWN.value
    _new_version(ctx, document)


def set_masked(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID, masked: bool) -> None:
    """The patient hides a document from professionals (its author and the regular doctor still see it)."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_MASK, patient_id, document_id)
    _mask(document, masked)
    _new_version(ctx, document)


def _mask(document: Document, masked: bool) -> None:
    document.masked = masked
    if masked:
        document.hidden_from_patient_until = None  # only an expired delay can remain here: it is over


def set_author_flags(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    *,
    hidden_from_patient_until: datetime | None,
    hidden_from_representatives: bool,
) -> None:
    """The author hides a document from the patient until a date (at most a year) or from representatives."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_FLAG, patient_id, document_id)
    _flag(document, hidden_from_patient_until, hidden_from_representatives)
    _new_version(ctx, document)


def _flag(document: Document, hidden_from_patient_until: datetime | None, hidden_from_representatives: bool) -> None:
    now = clock.now()
    if hidden_from_patient_until is not None:
        if (
            hidden_from_patient_until.tzinfo is None
            or not now < hidden_from_patient_until <= now + MAX_HIDDEN_FROM_PATIENT
        ):
            raise Invalid(
                "A document is hidden from its patient until a date with a time zone, within the coming year.",
                code="invalid-delay",
            )
        if document.masked:
            raise Invalid(
                "The patient has masked this document: it cannot also be hidden from the patient.",
                code="masked-and-hidden",
            )
    document.hidden_from_patient_until = hidden_from_patient_until
    document.hidden_from_representatives = hidden_from_representatives


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """What an update asks to change; None leaves a property as it is."""

    withdraw: bool = False
    masked: bool | None = None
    hidden_from_patient_until: datetime | None = None
    hidden_from_representatives: bool | None = None
    # Whether the author's flags are part of the change (a delay may be set to None: shown again).
    flags: bool = False


def change_document(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    change: DocumentChange,
    *,
    expected_version: int | None = None,
) -> DocumentView:
    """Apply status and visibility changes as one new version; each change passes the gate on its own.

    With `expected_version`, the change applies only to that version (optimistic concurrency).
    """
    document, access = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id, lock=True)
    if expected_version is not None and expected_version != document.version:
        raise PreconditionFailed(
            f"The document is at version {document.version}, not {expected_version}: read it again first.",
            code="version-conflict",
        )
    subject = f"document:{document_id}"
    changed = False
    if change.masked is not None and change.masked != document.masked:
        _authorize(ctx, access, Action.DOCUMENT_MASK, document, subject)
        _mask(document, change.masked)
        changed = True
    if change.flags and (
        change.hidden_from_patient_until != document.hidden_from_patient_until
        or change.hidden_from_representatives != document.hidden_from_representatives
    ):
        _authorize(ctx, access, Action.DOCUMENT_FLAG, document, subject)
        _flag(document, change.hidden_from_patient_until, bool(change.hidden_from_representatives))
        changed = True
    if change.withdraw and document.status != DocumentStatus.WITHDRAWN.value:
        _authorize(ctx, access, Action.DOCUMENT_WITHDRAW, document, subject)
        _current(document).status = DocumentStatus.WITHDRAWN.value
        changed = True
    if changed:
        _new_version(ctx, document)
        ctx.session.flush()
    return _view(data_key(ctx, patient_id), document, clock.now())


def _authorize(ctx: Context, access: Access, action: Action, document: Document, subject: str) -> None:
    """One more action on a document already loaded: decide() weighs the record and the item together."""
    gate.authorize_item(ctx, access, action, item_facts(access.actor, document, clock.now()), subject)
