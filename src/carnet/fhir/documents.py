"""DocumentReference and Binary mapped from and to the record's documents (pure functions).

Security labels (meta.security, system urn:oid:1.2.250.1.213.1.1.4.13, the DMP's confidentiality codes):
MASQUE_PS (the patient masked it from professionals), INVISIBLE_PATIENT (its author keeps it from the
patient until the date in the extension hidden-from-patient-until), INVISIBLE_REPRESENTANTS_LEGAUX (its
author keeps it from legal representatives). Status: current; superseded once replaced; entered-in-error
once its author withdrew it.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import TypeAdapter, ValidationError

from carnet.fhir.codes import (
    CLASS_SYSTEM,
    CONFIDENTIALITY_SYSTEM,
    EXT_HIDDEN_UNTIL,
    INVISIBLE_TO_PATIENT,
    INVISIBLE_TO_REPRESENTATIVES,
    LOINC,
    MASKED,
    RPPS_SYSTEM,
    STATUS_TO_FHIR,
    URI,
)
from carnet.fhir.ids import item_id, parse_item_id
from carnet.fhir.support import patient_reference
from carnet.fhir.wire import Resource
from carnet.kit.errors import Invalid
from carnet.kit.validation import validate_with
from carnet.records.codes import DOCUMENT_CLASSES, DOCUMENT_TYPES
from carnet.records.documents import DocumentChange
from carnet.records.schemas import DocumentView, NewDocument, ProfessionalAuthor

NEW_DOCUMENT = TypeAdapter(NewDocument)
# Where each field of a document's metadata comes from in the DocumentReference, to name it in a refusal.
FHIR_PATHS = {
    "class_code": "DocumentReference.category",
    "type_code": "DocumentReference.type",
    "title": "DocumentReference.description",
    "act_date": "DocumentReference.context.period.start",
    "format": "DocumentReference.content.attachment.contentType",
    "created_at": "DocumentReference.content.attachment.creation",
    "author": "DocumentReference.author",
    "master_identifier": "DocumentReference.masterIdentifier",
}
AUTHOR = TypeAdapter(ProfessionalAuthor)
LABELS = (MASKED, INVISIBLE_TO_PATIENT, INVISIBLE_TO_REPRESENTATIVES)
# What an update may change; everything else must come back as it was read.
MUTABLE = ("meta", "status", "extension", "text")


def resource_id(view: DocumentView) -> str:
    return item_id(view.patient_id, view.id)


def document_reference(view: DocumentView) -> Resource:
    rid = resource_id(view)
    security = []
    if view.masked:
        security.append(MASKED)
    if view.hidden_from_patient_until is not None:
        security.append(INVISIBLE_TO_PATIENT)
    if view.hidden_from_representatives:
        security.append(INVISIBLE_TO_REPRESENTATIVES)
    meta: Resource = {"versionId": str(view.version), "lastUpdated": _instant(view.updated_at or view.deposited_at)}
    if security:
        meta["security"] = [{"system": CONFIDENTIALITY_SYSTEM, "code": code} for code in security]
    if view.patient_provided:
        author: Resource = {"reference": f"Patient/{view.patient_id}"}
    else:
        author = {"identifier": {"system": RPPS_SYSTEM, "value": view.author_ref}}
        if view.author_name:
            author["display"] = view.author_name
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": rid,
        "meta": meta,
        "identifier": [{"system": URI, "value": f"urn:uuid:{view.id}"}],
        "status": STATUS_TO_FHIR[view.status],
        "docStatus": "final",
        "type": {"coding": [{"system": LOINC, "code": view.type_code, "display": DOCUMENT_TYPES[view.type_code]}]},
        "category": [
            {
                "coding": [
                    {"system": CLASS_SYSTEM, "code": view.class_code, "display": DOCUMENT_CLASSES[view.class_code]}
                ]
            }
        ],
        "subject": {"reference": f"Patient/{view.patient_id}"},
        "date": _instant(view.deposited_at),
        "author": [author],
        "description": view.title,
        "content": [
            {
                "attachment": {
                    "contentType": view.format,
                    "url": f"Binary/{rid}",
                    "size": view.size,
                    "title": view.title,
                    "creation": _instant(view.created_at),
                }
            }
        ],
        "context": {"period": {"start": view.act_date.isoformat()}},
    }
    if view.master_identifier:
        resource["masterIdentifier"] = {"system": URI, "value": view.master_identifier}
    if view.author_organisation:
        resource["custodian"] = {
            "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": view.author_organisation}
        }
    if view.replaces_id is not None:
        target = item_id(view.patient_id, view.replaces_id)
        resource["relatesTo"] = [{"code": "replaces", "target": {"reference": f"DocumentReference/{target}"}}]
    if view.hidden_from_patient_until is not None:
        resource["extension"] = [{"url": EXT_HIDDEN_UNTIL, "valueDateTime": _instant(view.hidden_from_patient_until)}]
    return resource


def binary(view: DocumentView, content: bytes) -> Resource:
    return {
        "resourceType": "Binary",
        "id": resource_id(view),
        "contentType": view.format,
        "securityContext": {"reference": f"DocumentReference/{resource_id(view)}"},
        "data": base64.b64encode(content).decode(),
    }


def _instant(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class IncomingDocument:
    """A DocumentReference to create: its record, metadata, content (or where to find it), what it replaces."""

    patient_id: uuid.UUID
    meta: NewDocument
    content: bytes | None
    content_url: str | None
    content_type: str
    replaces: uuid.UUID | None
    change: DocumentChange | None


def _code(concept: Any, system: str, what: str) -> str:
    for coding in getattr(concept, "coding", None) or []:
        if coding.system == system and coding.code:
            return str(coding.code)
    raise Invalid(f"{what} needs a coding of system {system}.", code="missing-code")


def incoming_document(model: FHIRAbstractModel) -> IncomingDocument:
    doc: Any = model
    if doc.status != "current":
        raise Invalid("A new DocumentReference has status current.", code="invalid-status")
    patient_id = patient_reference(doc.subject, "DocumentReference.subject")
    type_code = _code(doc.type, LOINC, "DocumentReference.type")
    categories = doc.category or []
    if len(categories) != 1:
        raise Invalid("A DocumentReference has one category: its class (JDV_J57).", code="missing-code")
    class_code = _code(categories[0], CLASS_SYSTEM, "DocumentReference.category")
    if len(doc.content) != 1:
        raise Invalid("A DocumentReference carries one content (one attachment).", code="invalid-content")
    attachment = doc.content[0].attachment
    title = doc.description or attachment.title
    start = doc.context.period.start if doc.context and doc.context.period else None
    if not title or start is None:
        raise Invalid(
            "A DocumentReference needs a description (or attachment.title) and context.period.start, the date "
            "of the act.",
            code="incomplete-document",
        )
    if not attachment.contentType or (attachment.data is None and not attachment.url):
        raise Invalid("The attachment needs contentType and data (or, in a bundle, url).", code="invalid-content")
    meta = _metadata(
        {
            "class_code": class_code,
            "type_code": type_code,
            "title": title,
            "act_date": start.date() if isinstance(start, datetime) else _date(start),
            "format": attachment.contentType,
            "created_at": attachment.creation,
            "author": _author(doc.author),
            "master_identifier": doc.masterIdentifier.value if doc.masterIdentifier else None,
        },
    )
    return IncomingDocument(
        patient_id=patient_id,
        meta=meta,
        content=attachment.data,
        content_url=None if attachment.data is not None else str(attachment.url),
        content_type=str(attachment.contentType),
        replaces=_replaces(doc, patient_id),
        change=change_of(doc) if doc.meta and doc.meta.security else None,
    )


def _metadata(fields: dict[str, Any]) -> NewDocument:
    """The metadata checked; a refusal names the DocumentReference element, not Carnet's field."""
    try:
        return NEW_DOCUMENT.validate_python(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = FHIR_PATHS.get(str(first["loc"][0]), "DocumentReference") if first["loc"] else "DocumentReference"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise Invalid(f"{path}: {message}.", code="invalid-input", expression=path) from None


def _date(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def _author(authors: Any) -> dict[str, str] | None:
    """A professional author named by RPPS identifier (and display); a document may also name none."""
    for author in authors or []:
        identifier = getattr(author, "identifier", None)
        if identifier is not None and identifier.system == RPPS_SYSTEM and identifier.value:
            author_fields = {"rpps": identifier.value, "name": author.display or identifier.value}
            return validate_with(AUTHOR, author_fields).model_dump()
    return None


def _replaces(doc: Any, patient_id: uuid.UUID) -> uuid.UUID | None:
    relations = doc.relatesTo or []
    if not relations:
        return None
    if len(relations) != 1 or relations[0].code != "replaces" or not relations[0].target.reference:
        raise Invalid(
            "Carnet takes one relation: replaces, with a reference to the DocumentReference.", code="invalid-relation"
        )
    reference = str(relations[0].target.reference)
    record, document = parse_item_id(reference.removeprefix("DocumentReference/"))
    if record != patient_id:
        raise Invalid("A document replaces a document of the same record.", code="invalid-relation")
    return document


def change_of(doc: Any) -> DocumentChange:
    """The visibility a DocumentReference's labels ask for, and whether it asks to be withdrawn."""
    codes: set[str] = set()
    for coding in (doc.meta.security if doc.meta else None) or []:
        if coding.system != CONFIDENTIALITY_SYSTEM or coding.code not in LABELS:
            raise Invalid(
                f"Unknown security label {coding.system}|{coding.code}; Carnet's labels are "
                f"{CONFIDENTIALITY_SYSTEM}|{', '.join(LABELS)}.",
                code="invalid-label",
            )
        codes.add(str(coding.code))
    until = None
    for extension in doc.extension or []:
        if extension.url == EXT_HIDDEN_UNTIL:
            until = extension.valueDateTime
    if (INVISIBLE_TO_PATIENT in codes) != (until is not None):
        raise Invalid(
            f"{INVISIBLE_TO_PATIENT} goes with the extension {EXT_HIDDEN_UNTIL} (until when), and only with it.",
            code="invalid-label",
        )
    if doc.status not in ("current", "entered-in-error", "superseded"):
        raise Invalid("A document's status is current, superseded or entered-in-error.", code="invalid-status")
    return DocumentChange(
        withdraw=doc.status == "entered-in-error",
        masked=MASKED in codes,
        hidden_from_patient_until=until if isinstance(until, datetime) else None,
        hidden_from_representatives=INVISIBLE_TO_REPRESENTATIVES in codes,
        flags=True,
    )


def unchanged_except_visibility(current: Resource, incoming: FHIRAbstractModel, model: type[FHIRAbstractModel]) -> None:
    """An update changes status and labels only: anything else that differs is refused, never ignored."""
    before = json.loads(model.model_validate(current).model_dump_json(exclude_none=True))
    after = json.loads(incoming.model_dump_json(exclude_none=True))
    for key in sorted(set(before) | set(after)):
        if key in MUTABLE or key == "id":
            continue
        if before.get(key) != after.get(key):
            raise Invalid(
                f"DocumentReference.{key} cannot change: a new version of the document is a new DocumentReference "
                "that replaces this one (relatesTo).",
                code="immutable-element",
            )
