"""DocumentReferences from columns: documents stored before issue 19, and Carnet's own (non-FHIR) deposits.

Documents deposited before their resource was kept have only their columns. Until `carnet documents convert`
stores the resource they stand for, a read builds it here, exactly as Carnet has always returned it; the
conversion stores that same resource, so nothing a reader saw changes.

Carnet's own paths (the synthetic population, imports) describe a document with `NewDocument`; it becomes the
DocumentReference it stands for (`from_metadata`) and is stored through the same path as one received.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from carnet.fhir.codes import CLASS_SYSTEM, FINESS_SYSTEM, LOINC, RPPS_SYSTEM, URI
from carnet.fhir.ids import item_id
from carnet.records.codes import DOCUMENT_CLASSES, DOCUMENT_TYPES
from carnet.records.document_resource import instant
from carnet.records.models import Document
from carnet.records.schemas import NewDocument

Resource = dict[str, Any]


def _type(code: str) -> Resource:
    return {"coding": [{"system": LOINC, "code": code, "display": DOCUMENT_TYPES[code]}]}


def _class(code: str) -> list[Resource]:
    return [{"coding": [{"system": CLASS_SYSTEM, "code": code, "display": DOCUMENT_CLASSES[code]}]}]


def _custodian(organisation: str) -> Resource:
    return {"identifier": {"system": FINESS_SYSTEM, "value": organisation}}


def legacy_resource(document: Document, title: str, author_name: str | None) -> Resource:
    """The resource of a document not converted yet, as reads have always built it (server elements apart)."""
    if document.author_kind == "patient":
        author: Resource = {"reference": f"Patient/{document.patient_id}"}
    else:
        author = {"identifier": {"system": RPPS_SYSTEM, "value": document.author_ref}}
        if author_name:
            author["display"] = author_name
    resource: Resource = {
        "resourceType": "DocumentReference",
        "identifier": [{"system": URI, "value": f"urn:uuid:{document.id}"}],
        "status": "current",
        "docStatus": "final",
        "type": _type(document.type_code),
        "category": _class(document.class_code),
        "subject": {"reference": f"Patient/{document.patient_id}"},
        "date": instant(document.deposited_at),
        "author": [author],
        "description": title,
        "content": [
            {
                "attachment": {
                    "contentType": document.format,
                    "size": document.size,
                    "title": title,
                    "creation": instant(document.created_at),
                }
            }
        ],
        "context": {"period": {"start": document.act_date.isoformat()}},
    }
    if document.master_identifier:
        resource["masterIdentifier"] = {"system": URI, "value": document.master_identifier}
    if document.author_organisation:
        resource["custodian"] = _custodian(document.author_organisation)
    if document.replaces_id is not None:
        target = item_id(document.patient_id, document.replaces_id)
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{target}"}}]
    return resource


def from_metadata(
    patient_id: uuid.UUID, meta: NewDocument, content: bytes, *, replaces: uuid.UUID | None = None
) -> Resource:
    """The DocumentReference a `NewDocument` describes, with its content, ready for `accept_document`."""
    attachment: Resource = {"contentType": meta.format, "title": meta.title, "data": base64.b64encode(content).decode()}
    if meta.created_at is not None:
        attachment["creation"] = instant(meta.created_at)
    resource: Resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": _type(meta.type_code),
        "category": _class(meta.class_code),
        "subject": {"reference": f"Patient/{patient_id}"},
        "description": meta.title,
        "content": [{"attachment": attachment}],
        "context": {"period": {"start": meta.act_date.isoformat()}},
    }
    if meta.author is not None:
        resource["author"] = [
            {"identifier": {"system": RPPS_SYSTEM, "value": meta.author.rpps}, "display": meta.author.name}
        ]
        if meta.author.organisation:
            resource["custodian"] = _custodian(meta.author.organisation)
    if meta.master_identifier is not None:
        resource["masterIdentifier"] = {"system": URI, "value": meta.master_identifier}
    if replaces is not None:
        target = item_id(patient_id, replaces)
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{target}"}}]
    return resource
