"""A document's rows to and from what services return: encrypted fields, the stored resource, the view.

This module reads nothing on its own: services pass the rows the gate allowed and the record's data key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from carnet.fhir.wire import loads
from carnet.kit.crypto import DataKey
from carnet.records.document_legacy import legacy_resource
from carnet.records.document_resource import ReadState, as_read, encoded, resource_aad, version_aad
from carnet.records.models import Document, DocumentVersion
from carnet.records.schemas import DocumentView


def title_aad(document_id: uuid.UUID) -> str:
    return f"documents.title:{document_id}"


def author_aad(document_id: uuid.UUID) -> str:
    return f"documents.author_name:{document_id}"


def content_aad(patient_id: uuid.UUID, content_id: uuid.UUID) -> str:
    return f"document_contents:{patient_id}:{content_id}"


def author_name(key: DataKey, document: Document) -> str | None:
    if document.author_name_ct is None:
        return None
    return key.decrypt_text(document.author_name_ct, aad=author_aad(document.id))


def stored_resource(key: DataKey, document: Document, version: DocumentVersion | None = None) -> dict[str, Any]:
    """The resource as written of a document (or of one version), or the one its columns stand for."""
    if version is not None and version.resource_ct is not None:
        text = key.decrypt_text(version.resource_ct, aad=version_aad(document.id, version.version))
    elif version is None and document.resource_ct is not None:
        text = key.decrypt_text(document.resource_ct, aad=resource_aad(document.id))
    else:
        title = key.decrypt_text(document.title_ct, aad=title_aad(document.id))
        return legacy_resource(document, title, author_name(key, document))
    resource: dict[str, Any] = loads(text)
    return resource


def keep_resource(key: DataKey, document: Document, version: DocumentVersion, resource: dict[str, Any]) -> None:
    """`resource` becomes what the document's current version, and that version, were written as."""
    text = encoded(resource)
    document.resource_ct = key.encrypt_text(text, aad=resource_aad(document.id))
    version.resource_ct = key.encrypt_text(text, aad=version_aad(document.id, version.version))


def view_of(key: DataKey, document: Document, now: datetime, version: DocumentVersion | None = None) -> DocumentView:
    """The document as it is, or as it was at `version` (status, flags and the resource its writer sent)."""
    state = version or document
    hidden_until = state.hidden_from_patient_until
    hidden_until = hidden_until if hidden_until is not None and hidden_until > now else None
    number = version.version if version else document.version
    updated_at = version.recorded_at if version else document.updated_at
    read = ReadState(
        patient_id=document.patient_id,
        document_id=document.id,
        version=number,
        updated_at=updated_at,
        deposited_at=document.deposited_at,
        status=state.status,
        masked=state.masked,
        hidden_from_patient_until=hidden_until,
        hidden_from_representatives=state.hidden_from_representatives,
        author_kind=document.author_kind,
        author_ref=document.author_ref,
    )
    return DocumentView(
        id=document.id,
        patient_id=document.patient_id,
        class_code=document.class_code,
        type_code=document.type_code,
        title=key.decrypt_text(document.title_ct, aad=title_aad(document.id)),
        act_date=document.act_date,
        author_kind=document.author_kind,
        author_ref=document.author_ref,
        author_name=author_name(key, document),
        author_organisation=document.author_organisation,
        created_at=document.created_at,
        deposited_at=document.deposited_at,
        format=document.format,
        size=document.size,
        sha256=document.sha256,
        status=state.status,
        replaces_id=document.replaces_id,
        masked=state.masked,
        hidden_from_patient_until=hidden_until,
        hidden_from_representatives=state.hidden_from_representatives,
        version=number,
        updated_at=updated_at,
        master_identifier=document.master_identifier,
        doc_status=document.doc_status,
        resource=as_read(stored_resource(key, document, version), read),
    )
