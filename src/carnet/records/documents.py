"""Documents of a record: deposit, list, read, replace, withdraw. Contents are encrypted before storage."""

from __future__ import annotations

import uuid

from carnet.access.actor import Actor, ActorKind
from carnet.access.policy import Action
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import Forbidden, Invalid, NotFound
from carnet.records import repository
from carnet.records.codes import PATIENT_CLASS, DocumentStatus, parse_format
from carnet.records.content import check_content
from carnet.records.content_store import PostgresContentStore
from carnet.records.keys import data_key
from carnet.records.models import Document
from carnet.records.schemas import DocumentPage, DocumentQuery, DocumentView, NewDocument
from carnet.records.service import load_record

NO_SUCH_DOCUMENT = "No such document in this record."


def _title_aad(document_id: uuid.UUID) -> str:
    return f"documents.title:{document_id}"


def _author_aad(document_id: uuid.UUID) -> str:
    return f"documents.author_name:{document_id}"


def _content_aad(patient_id: uuid.UUID, content_id: uuid.UUID) -> str:
    return f"document_contents:{patient_id}:{content_id}"


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
        return "professional", actor.ref, meta.author.name if meta.author else None, actor.organisation
    if meta.author is None:
        raise Invalid("An imported document names its professional author.", code="invalid-author")
    return "professional", meta.author.rpps, meta.author.name, meta.author.organisation


def _is_author(actor: Actor, document: Document) -> bool:
    return actor.kind.value == document.author_kind and actor.ref == document.author_ref


def _store(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    meta: NewDocument,
    content: bytes,
    *,
    replaces: uuid.UUID | None,
) -> Document:
    fmt = parse_format(meta.format)
    digest = check_content(content, fmt, max_bytes=ctx.max_document_bytes)
    author_kind, author_ref, author_name, organisation = _author_of(actor, meta)
    key = data_key(ctx, patient_id)
    now = clock.now()
    document_id, content_id = uuid.uuid4(), uuid.uuid4()
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
    )
    ctx.session.add(document)
    return document


def deposit_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, meta: NewDocument, content: bytes) -> uuid.UUID:
    load_record(ctx, actor, Action.DOCUMENT_DEPOSIT, patient_id)
    document = _store(ctx, actor, patient_id, meta, content, replaces=None)
    ctx.session.flush()
    return document.id


def _view(key: DataKey, document: Document) -> DocumentView:
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
        status=document.status,
        replaces_id=document.replaces_id,
    )


def list_documents(ctx: Context, actor: Actor, patient_id: uuid.UUID, query: DocumentQuery) -> DocumentPage:
    """A page of the record's documents, newest act first; `next_offset` is None on the last page."""
    load_record(ctx, actor, Action.DOCUMENT_LIST, patient_id)
    rows = repository.list_documents(ctx.session, patient_id, query)
    if not rows:
        return DocumentPage(items=[], next_offset=None)
    key = data_key(ctx, patient_id)
    more = len(rows) > query.limit
    return DocumentPage(
        items=[_view(key, row) for row in rows[: query.limit]],
        next_offset=query.offset + query.limit if more else None,
    )


def _load_document(
    ctx: Context, actor: Actor, action: Action, patient_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    load_record(ctx, actor, action, patient_id)
    document = repository.get_document(ctx.session, patient_id, document_id)
    if document is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    return document


def get_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> DocumentView:
    document = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    return _view(data_key(ctx, patient_id), document)


def read_content(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[DocumentView, bytes]:
    """The document's metadata and its decrypted content."""
    document = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    ciphertext = PostgresContentStore(ctx.session).get(patient_id, document.content_id)
    if ciphertext is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    key = data_key(ctx, patient_id)
    return _view(key, document), key.decrypt(ciphertext, aad=_content_aad(patient_id, document.content_id))


def _authored_current(
    ctx: Context, actor: Actor, action: Action, patient_id: uuid.UUID, document_id: uuid.UUID
) -> Document:
    document = _load_document(ctx, actor, action, patient_id, document_id)
    if not _is_author(actor, document):
        raise Forbidden("Only the author of a document can replace or withdraw it.", code="not-author")
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
    old = _authored_current(ctx, actor, Action.DOCUMENT_REPLACE, patient_id, document_id)
    new = _store(ctx, actor, patient_id, meta, content, replaces=old.id)
    old.status = DocumentStatus.DEPRECATED.value
    ctx.session.flush()
    return new.id


def withdraw_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """The author withdraws a document: it is kept, with status withdrawn, never deleted."""
    document = _authored_current(ctx, actor, Action.DOCUMENT_WITHDRAW, patient_id, document_id)
    document.status = DocumentStatus.WITHDRAWN.value
