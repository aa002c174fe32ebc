"""Whether Carnet can keep a DocumentReference as written (pure): valid R4, about this record, honourable.

What fails is refused naming the FHIR element (`expression`), never kept changed:
- the R4 structure (fhir.resources models): 400, the element of the first problem;
- the subject is `Patient/<id>` of a record; a reference to another patient anywhere is refused;
- contained resources are each referenced from the resource;
- one content; its `data` (or, in a bundle, its `url` naming a Binary of the bundle); a `size` or `hash` the
  writer gives agrees with the bytes received;
- a new document is `current`; its act date is not in the future; one `replaces` relation at most, to a
  document of the same record (other relations are kept as written);
- everything `derive_document` needs (class, type, title, act date, labels).

What is stored is the resource received without: `id`, `meta.versionId`, `meta.lastUpdated` (set by Carnet),
and the attachment's `data` and `url` (the content is stored apart; reads point `url` at the Binary).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from carnet.access.gate import NO_SUCH_RECORD
from carnet.fhir.ids import parse_item_id
from carnet.fhir.wire import structure_problem
from carnet.kit import clock
from carnet.kit.errors import BadRequest, Invalid, NotFound
from carnet.records.document_types import DR, EXT_DEPOSITOR, DocumentFacts, derive_document
from carnet.records.profile_checks import check_references

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class AcceptedDocument:
    """A DocumentReference Carnet can keep: the resource to store, what derives from it, its content."""

    patient_id: uuid.UUID
    resource: dict[str, Any]
    facts: DocumentFacts
    content: bytes | None
    content_url: str | None
    replaces: uuid.UUID | None


def validated(body: Any, name: str) -> FHIRAbstractModel:
    """The body as a FHIR resource of type `name`, or 400 naming the element of the first problem."""
    if not isinstance(body, dict):
        raise BadRequest("The body is not a JSON object.", code="not-a-resource")
    if body.get("resourceType") != name:
        raise BadRequest(
            f"Expected a resource of type {name}, received {str(body.get('resourceType'))[:40]!r}.",
            code="wrong-resource-type",
            expression="resourceType",
        )
    try:
        model: FHIRAbstractModel = get_fhir_model_class(name).model_validate(body)
    except ValidationError as exc:
        where, message = structure_problem(name, exc)
        raise BadRequest(f"{where}: {message}", code="invalid-resource", expression=where) from None
    return model


def accept_document(body: Any, *, model: FHIRAbstractModel | None = None) -> AcceptedDocument:
    """A DocumentReference received (over FHIR or built by Carnet's own paths), checked and ready to store."""
    model = model or validated(body, DR)
    resource = copy.deepcopy(body)
    patient_id = _subject(resource)
    check_references(resource, patient_id)
    attachment = resource["content"][0]["attachment"] if len(resource.get("content") or []) == 1 else {}
    facts = derive_document(resource)
    if facts.status != "current":
        raise Invalid("A new DocumentReference has status current.", code="invalid-status", expression=f"{DR}.status")
    # A day of slack: a date written in a time zone ahead of Carnet's is not in the future.
    if facts.act_date > clock.today() + DAY:
        raise Invalid(
            "The date of the act cannot be in the future.",
            code="invalid-date",
            expression=f"{DR}.context.period.start",
        )
    _no_depositor(resource)
    data = getattr(model, "content")[0].attachment.data  # noqa: B009 (the model's types are dynamic)
    url = attachment.get("url")
    if data is None and not url:
        raise Invalid(
            "The attachment carries its content in data (or, in a bundle, url naming the bundle's Binary).",
            code="invalid-content",
            expression=f"{DR}.content[0].attachment.data",
        )
    for element in ("data", "url"):
        attachment.pop(element, None)
    for element in ("id",):
        resource.pop(element, None)
    meta = {k: v for k, v in (resource.pop("meta", None) or {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        resource["meta"] = meta
    return AcceptedDocument(
        patient_id=patient_id,
        resource=resource,
        facts=facts,
        content=data,
        content_url=None if data is not None else str(url),
        replaces=_replaces(resource, patient_id),
    )


def _subject(resource: Mapping[str, Any]) -> uuid.UUID:
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise BadRequest(
            f"{DR}.subject must reference the patient of the record as Patient/<id>.",
            code="invalid-reference",
            expression=f"{DR}.subject",
        )
    try:
        return uuid.UUID(reference.removeprefix("Patient/"))
    except ValueError:
        raise NotFound(NO_SUCH_RECORD) from None


def _no_depositor(resource: Mapping[str, Any]) -> None:
    for index, extension in enumerate(resource.get("extension") or []):
        if isinstance(extension, Mapping) and extension.get("url") == EXT_DEPOSITOR:
            raise Invalid(
                f"The extension {EXT_DEPOSITOR} is Carnet's: it records who deposited the document, from the token.",
                code="server-element",
                expression=f"{DR}.extension[{index}]",
            )


def _replaces(resource: Mapping[str, Any], patient_id: uuid.UUID) -> uuid.UUID | None:
    """The document this one replaces: Carnet acts on one relation, replaces (a new version), and refuses the
    others (appends, transforms, signs), whose link it would not keep between its documents."""
    relations = resource.get("relatesTo") or []
    for index, relation in enumerate(relations):
        where = f"{DR}.relatesTo[{index}]"
        if relation.get("code") != "replaces" or index > 0:
            raise Invalid(
                "Carnet takes one relation: replaces, with a reference to the DocumentReference it replaces "
                "(appends, transforms and signs are not links Carnet keeps between documents).",
                code="invalid-relation",
                expression=f"{where}.code",
            )
        reference = (relation.get("target") or {}).get("reference")
        if not isinstance(reference, str):
            raise Invalid(
                "A document replaces a document named by reference (DocumentReference/<id>).",
                code="invalid-relation",
                expression=f"{where}.target.reference",
            )
        # A malformed id names nothing: the document to replace is missing, and answers so.
        record, document = parse_item_id(reference.removeprefix("DocumentReference/"))
        if record != patient_id:
            raise Invalid(
                "A document replaces a document of the same record.",
                code="invalid-relation",
                expression=f"{where}.target.reference",
            )
        return document
    return None


def with_content(resource: Mapping[str, Any], content: bytes) -> dict[str, Any]:
    """The resource with the attachment's size and hash (SHA-1, as R4 defines it) of the bytes received.

    A size or hash the writer gives is kept when it agrees, refused when it does not (never corrected).
    """
    stored = copy.deepcopy(dict(resource))
    attachment = stored["content"][0]["attachment"]
    where = f"{DR}.content[0].attachment"
    digest = base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode()
    if "size" in attachment and attachment["size"] != len(content):
        raise Invalid(
            f"The attachment's size ({attachment['size']}) is not the size of its content ({len(content)} bytes).",
            code="invalid-content",
            expression=f"{where}.size",
        )
    if "hash" in attachment and attachment["hash"] != digest:
        raise Invalid(
            "The attachment's hash is not the SHA-1 of its content (base64).",
            code="invalid-content",
            expression=f"{where}.hash",
        )
    attachment["size"], attachment["hash"] = len(content), digest
    return stored
