"""Documents of a record: deposit, list, read, replace, withdraw, mask, flag. Contents are encrypted first."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.gate import Access
from carnet.access.matrix import ADVANCE_DIRECTIVES_TYPE
from carnet.access.policy import Action, ItemFacts
from carnet.context import Context
from carnet.fhir.codes import STATUS_TO_FHIR
from carnet.kit import clock
from carnet.kit.errors import Conflict, Invalid, NotFound, PreconditionFailed
from carnet.records import repository
from carnet.records.codes import DocumentStatus
from carnet.records.content_store import PostgresContentStore
from carnet.records.document_checks import AcceptedDocument, accept_document, with_content
from carnet.records.document_legacy import from_metadata
from carnet.records.document_resource import updated
from carnet.records.document_rules import DocumentChange, author_of, checked_content, flag, mask
from carnet.records.document_store import (
    author_aad,
    content_aad,
    keep_resource,
    stored_resource,
    title_aad,
    view_of,
)
from carnet.records.document_types import DocumentFacts, Visibility, visibility_of
from carnet.records.keys import data_key
from carnet.records.models import Document, DocumentVersion
from carnet.records.schemas import DocumentAuthor, DocumentPage, DocumentQuery, DocumentView, NewDocument
from carnet.records.service import load_record
from carnet.stats import counting

NO_SUCH_DOCUMENT = gate.NO_SUCH_ITEM  # one answer for missing and for not allowed
DR = "DocumentReference"
MASTER_IDENTIFIER_INDEX = "uq_documents_patient_master_identifier"
SEARCH_SCAN = 5_000  # a search reads this many of a record's newest documents (after the other filters) at most


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


def _store(
    ctx: Context,
    access: Access,
    accepted: AcceptedDocument,
    content: bytes,
    *,
    document_id: uuid.UUID,
    replaces: Document | None = None,
) -> Document:
    """Keep the resource as written and the columns derived from it; its labels set the flags, gate allowing."""
    facts, patient_id = accepted.facts, accepted.patient_id
    fmt, digest = checked_content(ctx, facts, content)
    author_kind, author_ref, name, organisation = author_of(access.actor, facts)
    stored = with_content(accepted.resource, content)
    key = data_key(ctx, patient_id)
    now = clock.now()
    content_id = uuid.uuid4()
    PostgresContentStore(ctx.session).put(
        patient_id, content_id, key.encrypt(content, aad=content_aad(patient_id, content_id))
    )
    document = Document(
        id=document_id,
        patient_id=patient_id,
        class_code=facts.class_code,
        type_code=facts.type_code,
        title_ct=key.encrypt_text(facts.title, aad=title_aad(document_id)),
        act_date=facts.act_date,
        author_kind=author_kind,
        author_ref=author_ref,
        author_name_ct=key.encrypt_text(name, aad=author_aad(document_id)) if name else None,
        author_organisation=organisation,
        created_at=facts.created_at or now,
        deposited_at=now,
        format=fmt.value,
        size=len(content),
        sha256=digest,
        status=DocumentStatus.CURRENT.value,
        replaces_id=replaces.id if replaces is not None else None,
        content_id=content_id,
        masked=False,
        hidden_from_patient_until=None,
        # A new version stays hidden from legal representatives when the one it replaces was.
        hidden_from_representatives=replaces is not None and replaces.hidden_from_representatives,
        master_identifier=facts.master_identifier,
        doc_status=facts.doc_status,
        version=1,
        updated_at=now,
    )
    _labelled(ctx, access, document, facts.visibility)
    version = _snapshot(document)
    keep_resource(key, document, version, stored)
    ctx.session.add(document)
    ctx.session.add(version)
    return document


def _labelled(ctx: Context, access: Access, document: Document, visibility: Visibility) -> None:
    """The flags a new document's labels ask for, each allowed by the gate like a change of flags."""
    subject = f"document:{document.id}"
    if visibility.masked:
        _authorize(ctx, access, Action.DOCUMENT_MASK, document, subject)
        mask(document, True)
    if visibility.hidden_from_patient_until is not None or visibility.hidden_from_representatives:
        _authorize(ctx, access, Action.DOCUMENT_FLAG, document, subject)
        flag(document, visibility.hidden_from_patient_until, visibility.hidden_from_representatives)


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


def _new_version(ctx: Context, document: Document, resource: dict[str, Any] | None = None) -> None:
    """Status or flags changed: the document moves to its next version, kept with the resource it reads as.

    Without a resource from a FHIR update, the version keeps the resource as written before (a mask, a
    withdrawal or a replacement changes only what Carnet sets on it).
    """
    document.version += 1
    document.updated_at = clock.now()
    version = _snapshot(document)
    key = data_key(ctx, document.patient_id)
    if resource is None and document.resource_ct is not None:
        resource = stored_resource(key, document)
    if resource is not None:
        keep_resource(key, document, version, resource)
    ctx.session.add(version)


def deposit_resource(ctx: Context, actor: Actor, accepted: AcceptedDocument, content: bytes) -> uuid.UUID:
    """Deposit a DocumentReference kept as written (a new version of another when it replaces one)."""
    return _deposit(ctx, actor, accepted, content).id


def deposit_written(ctx: Context, actor: Actor, accepted: AcceptedDocument, content: bytes) -> DocumentView:
    """Deposit, and the document as it was stored, for the writer's answer.

    What the writer is told is what they sent with what Carnet set on it (id, version, meta), not a read of the
    record: no second pass through the gate, no read in the trail, and a writer in deposit-only mode, who may
    not read, learns what was stored.
    """
    document = _deposit(ctx, actor, accepted, content)
    return view_of(data_key(ctx, document.patient_id), document, clock.now())


def _deposit(ctx: Context, actor: Actor, accepted: AcceptedDocument, content: bytes) -> Document:
    patient_id = accepted.patient_id
    if accepted.replaces is not None:
        old, access = _load_document(ctx, actor, Action.DOCUMENT_REPLACE, patient_id, accepted.replaces)
        _current(old)
        _refuse_known_identifier(ctx, patient_id, accepted.facts)
        new = _store(ctx, access, accepted, content, document_id=uuid.uuid4(), replaces=old)
        old.status = DocumentStatus.DEPRECATED.value
        _new_version(ctx, old)
        _flush_once(ctx)
        _count(ctx, new)
        return new
    document_id = uuid.uuid4()
    _, access = load_record(ctx, actor, Action.DOCUMENT_DEPOSIT, patient_id, subject=f"document:{document_id}")
    _refuse_known_identifier(ctx, patient_id, accepted.facts)
    document = _store(ctx, access, accepted, content, document_id=document_id)
    _flush_once(ctx)
    _count(ctx, document)
    return document


def _count(ctx: Context, document: Document) -> None:
    """Once stored (a duplicate refused by the flush is not counted): one more deposit of its class."""
    counting.document_deposited(ctx, document.id, at=document.deposited_at, class_code=document.class_code)


def _flush_once(ctx: Context) -> None:
    """Store the deposit; the unique index on the master identifier settles two deposits of one document at once
    (a form sent twice, a retry while the first is still being stored): the second is told it is a duplicate."""
    try:
        ctx.session.flush()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == MASTER_IDENTIFIER_INDEX:
            raise _duplicate() from None
        raise


def deposit_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, meta: NewDocument, content: bytes) -> uuid.UUID:
    """A document described in Carnet's schema, deposited as the DocumentReference it stands for."""
    return deposit_resource(ctx, actor, accept_document(from_metadata(patient_id, meta, content)), content)


def deposit_described(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    meta: NewDocument,
    content: bytes,
    *,
    replaces: uuid.UUID | None = None,
) -> DocumentView:
    """A document described in Carnet's schema (a portal's form), deposited, or a new version of `replaces`, and
    the document as stored: `deposit_written`'s answer, which a writer in deposit-only mode may be given."""
    resource = from_metadata(patient_id, meta, content, replaces=replaces)
    return deposit_written(ctx, actor, accept_document(resource), content)


def _refuse_known_identifier(ctx: Context, patient_id: uuid.UUID, facts: DocumentFacts) -> None:
    if facts.master_identifier is not None and repository.document_with_master_identifier(
        ctx.session, patient_id, facts.master_identifier
    ):
        raise _duplicate()


def _duplicate() -> Conflict:
    return Conflict(
        "A document with this master identifier is already in the record: a new version replaces it.",
        code="duplicate-document",
        expression=f"{DR}.masterIdentifier",
    )


def document_title(ctx: Context, document: Document) -> str:
    """A document's title, for a use case that has passed the gate (the access history, for one)."""
    return data_key(ctx, document.patient_id).decrypt_text(document.title_ct, aad=title_aad(document.id))


def list_documents(ctx: Context, actor: Actor, patient_id: uuid.UUID, query: DocumentQuery) -> DocumentPage:
    """A page of the documents this actor may see, newest act first; `next_offset` is None on the last page.

    Filtering happens in the query, before paging, so a page never reveals how many items were hidden.
    """
    _, access = load_record(ctx, actor, Action.DOCUMENT_LIST, patient_id)
    now = clock.now()
    if query.words:
        return _search(ctx, access, patient_id, query, now)
    rows = repository.list_documents(ctx.session, patient_id, query, gate.filter_for(access), now)
    more = len(rows) > query.limit
    shown = [
        row for row in rows[: query.limit] if gate.visible(access, Action.DOCUMENT_READ, item_facts(actor, row, now))
    ]
    if not shown:
        return DocumentPage(items=[], next_offset=query.offset + query.limit if more else None)
    key = data_key(ctx, patient_id)
    return DocumentPage(
        items=[view_of(key, row, now) for row in shown],
        next_offset=query.offset + query.limit if more else None,
    )


def folded(text: str) -> list[str]:
    """The words of a text as a search compares them: case and accents left out ("Échographie" is "echographie")."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return plain.split()


def _search(ctx: Context, access: Access, patient_id: uuid.UUID, query: DocumentQuery, now: datetime) -> DocumentPage:
    """The documents whose title holds every word asked, a page of them. The other filters and the gate's run in
    SQL first; then the titles of what is left (SEARCH_SCAN at most, newest first) are decrypted and compared."""
    scan = query.model_copy(update={"offset": 0, "limit": SEARCH_SCAN - 1})
    rows = repository.list_documents(ctx.session, patient_id, scan, gate.filter_for(access), now)
    key = data_key(ctx, patient_id)
    wanted = folded(query.words or "")
    found = []
    for row in rows:
        if not gate.visible(access, Action.DOCUMENT_READ, item_facts(access.actor, row, now)):
            continue
        title = " ".join(folded(key.decrypt_text(row.title_ct, aad=title_aad(row.id))))
        if all(word in title for word in wanted):
            found.append(row)
    page = found[query.offset : query.offset + query.limit]
    more = len(found) > query.offset + query.limit
    return DocumentPage(
        items=[view_of(key, row, now) for row in page],
        next_offset=query.offset + query.limit if more else None,
    )


def document_authors(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> list[DocumentAuthor]:
    """Who wrote the current documents this actor may see, by name (to filter a list by its author).

    The same gate and list filter as `list_documents`: an author appears only through a document the actor sees.
    """
    _, access = load_record(ctx, actor, Action.DOCUMENT_LIST, patient_id)
    now = clock.now()
    key = data_key(ctx, patient_id)
    found = []
    for row in repository.document_authors(ctx.session, patient_id, gate.filter_for(access), now):
        if not gate.visible(access, Action.DOCUMENT_READ, item_facts(actor, row, now)):
            continue
        name = key.decrypt_text(row.author_name_ct, aad=author_aad(row.id)) if row.author_name_ct else None
        found.append(DocumentAuthor(row.author_kind, row.author_ref, name, row.author_organisation))
    return sorted(found, key=lambda a: (a.kind != "patient", (a.name or a.ref).casefold()))


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
    return view_of(data_key(ctx, patient_id), document, clock.now())


def document_history(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> list[DocumentView]:
    """Every version of a document, newest first; the gate decides on the document as it is now."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    key, now = data_key(ctx, patient_id), clock.now()
    return [view_of(key, document, now, v) for v in repository.document_versions(ctx.session, patient_id, document_id)]


def read_content(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[DocumentView, bytes]:
    """The document's metadata and its decrypted content."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id)
    ciphertext = PostgresContentStore(ctx.session).get(patient_id, document.content_id)
    if ciphertext is None:
        raise NotFound(NO_SUCH_DOCUMENT)
    key = data_key(ctx, patient_id)
    content = key.decrypt(ciphertext, aad=content_aad(patient_id, document.content_id))
    return view_of(key, document, clock.now()), content


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
    resource = from_metadata(patient_id, meta, content, replaces=document_id)
    return deposit_resource(ctx, actor, accept_document(resource), content)


def withdraw_document(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """The author withdraws a document: it is kept, with status withdrawn, never deleted."""
    document = _current(_load_document(ctx, actor, Action.DOCUMENT_WITHDRAW, patient_id, document_id)[0])
    document.status = DocumentStatus.WITHDRAWN.value
    _new_version(ctx, document)


def set_masked(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID, masked: bool) -> None:
    """The patient hides a document from professionals (its author and the regular doctor still see it)."""
    document, _ = _load_document(ctx, actor, Action.DOCUMENT_MASK, patient_id, document_id)
    mask(document, masked)
    _new_version(ctx, document)


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
    flag(document, hidden_from_patient_until, hidden_from_representatives)
    _new_version(ctx, document)


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
    document, access = _load_for_change(ctx, actor, patient_id, document_id, expected_version)
    return _apply(ctx, access, document, change, None)


def update_document(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    incoming: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> DocumentView:
    """A FHIR update (validated R4): the status and Carnet's labels it sends, kept as the new version's resource.

    Anything else that differs from the document as read is refused naming the element.
    """
    visibility = visibility_of(incoming)
    document, access = _load_for_change(ctx, actor, patient_id, document_id, expected_version)
    key = data_key(ctx, patient_id)
    now_status, asked = STATUS_TO_FHIR[document.status], incoming.get("status")
    if asked != now_status and not (now_status == "current" and asked == "entered-in-error"):
        raise Invalid(
            f"This document is {now_status}: an update may withdraw a current document (entered-in-error); "
            "a document is superseded by depositing the one that replaces it, and a withdrawn one stays withdrawn.",
            code="invalid-status",
            expression=f"{DR}.status",
        )
    read = view_of(key, document, clock.now()).resource
    resource = updated(stored_resource(key, document), read, incoming)
    change = DocumentChange(
        withdraw=asked == "entered-in-error",
        masked=visibility.masked,
        hidden_from_patient_until=visibility.hidden_from_patient_until,
        hidden_from_representatives=visibility.hidden_from_representatives,
        flags=True,
    )
    return _apply(ctx, access, document, change, resource)


def _load_for_change(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID, expected_version: int | None
) -> tuple[Document, Access]:
    document, access = _load_document(ctx, actor, Action.DOCUMENT_READ, patient_id, document_id, lock=True)
    if expected_version is not None and expected_version != document.version:
        raise PreconditionFailed(
            f"The document is at version {document.version}, not {expected_version}: read it again first.",
            code="version-conflict",
        )
    return document, access


def _apply(
    ctx: Context, access: Access, document: Document, change: DocumentChange, resource: dict[str, Any] | None
) -> DocumentView:
    subject = f"document:{document.id}"
    changed = False
    if change.masked is not None and change.masked != document.masked:
        _authorize(ctx, access, Action.DOCUMENT_MASK, document, subject)
        mask(document, change.masked)
        changed = True
    if change.flags and (
        change.hidden_from_patient_until != document.hidden_from_patient_until
        or change.hidden_from_representatives != document.hidden_from_representatives
    ):
        _authorize(ctx, access, Action.DOCUMENT_FLAG, document, subject)
        flag(document, change.hidden_from_patient_until, bool(change.hidden_from_representatives))
        changed = True
    if change.withdraw and document.status != DocumentStatus.WITHDRAWN.value:
        _authorize(ctx, access, Action.DOCUMENT_WITHDRAW, document, subject)
        _current(document).status = DocumentStatus.WITHDRAWN.value
        changed = True
    if changed:
        _new_version(ctx, document, resource)
        ctx.session.flush()
    return view_of(data_key(ctx, document.patient_id), document, clock.now())


def _authorize(ctx: Context, access: Access, action: Action, document: Document, subject: str) -> None:
    """One more action on a document already loaded: decide() weighs the record and the item together."""
    gate.authorize_item(ctx, access, action, item_facts(access.actor, document, clock.now()), subject)
