"""DocumentReference and Binary between FHIR and the record's documents (pure functions).

A DocumentReference is kept as written (records/document_checks, records/document_resource): the adapter
checks the body, hands it to the records service, and returns the resource the service gives back. What
Carnet accepts, sets and refuses is in docs/fhir-documents.md.
"""

from __future__ import annotations

import base64
from typing import Any

from fhir_core.fhirabstractmodel import FHIRAbstractModel

from carnet.fhir.ids import item_id
from carnet.fhir.wire import Resource
from carnet.kit.errors import CarnetError
from carnet.records.document_checks import AcceptedDocument, accept_document
from carnet.records.schemas import DocumentView


def resource_id(view: DocumentView) -> str:
    return item_id(view.patient_id, view.id)


def document_reference(view: DocumentView) -> Resource:
    """The DocumentReference as written, with the elements Carnet sets (built by the records service)."""
    return view.resource


def binary(view: DocumentView, content: bytes) -> Resource:
    return {
        "resourceType": "Binary",
        "id": resource_id(view),
        "contentType": view.format,
        "securityContext": {"reference": f"DocumentReference/{resource_id(view)}"},
        "data": base64.b64encode(content).decode(),
    }


def incoming_document(
    body: Any, model: FHIRAbstractModel | None = None, *, where: str | None = None
) -> AcceptedDocument:
    """A DocumentReference received, checked; in a bundle (`where`, e.g. Bundle.entry[2].resource), a refusal
    names the element inside the bundle."""
    if where is None:
        return accept_document(body, model=model)
    try:
        return accept_document(body, model=model)
    except CarnetError as exc:
        raise in_bundle(exc, where) from None


def in_bundle(exc: CarnetError, where: str) -> CarnetError:
    """The same refusal, its element named from the bundle (Bundle.entry[i].resource.<element>)."""
    expression = exc.expression
    if expression is not None and expression.startswith("DocumentReference"):
        expression = where + expression.removeprefix("DocumentReference")
    prefix = where.removesuffix(".resource").removeprefix("Bundle.")
    return type(exc)(f"{prefix}: {exc.message}", code=exc.code, expression=expression or where)
