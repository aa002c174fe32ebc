"""DocumentReference (create, read, search, update, vread, history) and Binary (read)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request, Response

from carnet.api.deps import unit
from carnet.context import Context
from carnet.fhir import search
from carnet.fhir.codes import CLASS_SYSTEM, LOINC, RPPS_SYSTEM, STATUS_FROM_FHIR, URI
from carnet.fhir.documents import binary, document_reference, incoming_document, resource_id
from carnet.fhir.ids import parse_item_id
from carnet.fhir.support import (
    base_url,
    caller,
    enter,
    fhir_body,
    patient_param,
    refusals_as_missing,
    searchset,
)
from carnet.fhir.wire import FhirResponse, Resource, respond
from carnet.identity.tokens import Principal
from carnet.kit.errors import BadRequest, Invalid, NotFound
from carnet.kit.ingress import check_query
from carnet.records import documents
from carnet.records.document_checks import AcceptedDocument, validated
from carnet.records.schemas import DocumentQuery, DocumentView

router = APIRouter(prefix="/fhir", tags=["FHIR"])
SEARCH = {
    "patient",
    "subject",
    "category",
    "type",
    "date",
    "status",
    "author:identifier",
    "_lastUpdated",
    "_sort",
    "identifier",
}


def etag(view: DocumentView) -> str:
    return f'W/"{view.version}"'


def version_asked(header: str | None) -> int | None:
    """The version an If-Match header names (W/"3" or "3"); 400 when it names none."""
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise BadRequest('If-Match names a version as W/"<versionId>".', code="invalid-if-match")
    return int(text)


def answer(request: Request, view: DocumentView, status: int = 200) -> FhirResponse:
    headers = {
        "ETag": etag(view),
        "Last-Modified": (view.updated_at or view.deposited_at).strftime("%a, %d %b %Y %H:%M:%S GMT"),
    }
    if status == 201:
        headers["Location"] = f"{base_url(request)}/DocumentReference/{resource_id(view)}/_history/{view.version}"
    return respond(document_reference(view), status=status, headers=headers)


def deposit(ctx: Context, principal: Principal, incoming: AcceptedDocument, content: bytes) -> DocumentView:
    """Store one incoming document as written (a replacement when it says so), its labels with it."""
    actor, patient_id = principal.actor, incoming.patient_id
    enter(ctx, principal, patient_id)
    return documents.deposit_written(ctx, actor, incoming, content)


def _existing(ctx: Context, principal: Principal, incoming: AcceptedDocument, condition: str) -> DocumentView | None:
    """If-None-Exist: `identifier=<system>|<masterIdentifier>` (the only condition Carnet evaluates)."""
    check_query(condition, "If-None-Exist's parameter")
    asked = parse_qs(condition, keep_blank_values=True)
    if set(asked) != {"identifier"} or len(asked["identifier"]) != 1:
        raise BadRequest(
            "If-None-Exist takes one condition: identifier=<system>|<masterIdentifier>.", code="invalid-condition"
        )
    _, value = search.token(asked["identifier"][0])
    enter(ctx, principal, incoming.patient_id)
    page = documents.list_documents(
        ctx, principal.actor, incoming.patient_id, DocumentQuery(status="any", master_identifier=value, limit=2)
    )
    return page.items[0] if page.items else None


@router.post("/DocumentReference", status_code=201)
def create_document(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """Deposit a document whose content travels in content[0].attachment.data; `relatesTo: replaces` replaces one."""
    principal = caller(request, "DocumentReference", "write")
    incoming = incoming_document(body)
    if incoming.content is None:
        raise Invalid(
            "Send the content in content[0].attachment.data, or post a transaction bundle whose attachment.url names "
            "its Binary.",
            code="invalid-content",
            expression="DocumentReference.content[0].attachment.data",
        )
    condition = request.headers.get("if-none-exist")
    with unit(request) as ctx:
        if condition is not None and (found := _existing(ctx, principal, incoming, condition)) is not None:
            return answer(request, found)
        view = deposit(ctx, principal, incoming, incoming.content)
    return answer(request, view, status=201)


@router.get("/DocumentReference/{resource_id}")
def read_document(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "DocumentReference", "read")
    patient_id, document_id = parse_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        view = documents.get_document(ctx, principal.actor, patient_id, document_id)
    return answer(request, view)


@router.get("/DocumentReference/{resource_id}/_history")
def document_history(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "DocumentReference", "read")
    patient_id, document_id = parse_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        versions = documents.document_history(ctx, principal.actor, patient_id, document_id)
    base = base_url(request)
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(versions),
        "link": [{"relation": "self", "url": f"{base}/DocumentReference/{resource_id}/_history"}],
        "entry": [
            {
                "fullUrl": f"{base}/DocumentReference/{resource_id}",
                "resource": document_reference(view),
                "request": {
                    "method": "POST" if view.version == 1 else "PUT",
                    "url": "DocumentReference" if view.version == 1 else f"DocumentReference/{resource_id}",
                },
                "response": {"status": "201" if view.version == 1 else "200", "etag": etag(view)},
            }
            for view in versions
        ],
    }
    return respond(bundle)


@router.get("/DocumentReference/{resource_id}/_history/{version_id}")
def read_document_version(resource_id: str, version_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "DocumentReference", "read")
    patient_id, document_id = parse_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        versions = documents.document_history(ctx, principal.actor, patient_id, document_id)
    found = [v for v in versions if str(v.version) == version_id]
    if not found:
        raise NotFound(f"This document has no version {version_id[:10]}.", code="no-such-version")
    return answer(request, found[0])


@router.put("/DocumentReference/{resource_id}")
def update_document(resource_id: str, request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """Change the status (entered-in-error withdraws) or the security labels; If-Match guards the version."""
    principal = caller(request, "DocumentReference", "write")
    patient_id, document_id = parse_item_id(resource_id)
    incoming: Any = validated(body, "DocumentReference")
    if incoming.id != resource_id:
        raise BadRequest(
            "The resource's id must be the id in the URL.", code="id-mismatch", expression="DocumentReference.id"
        )
    expected = version_asked(request.headers.get("if-match"))
    with unit(request) as ctx:
        enter(ctx, principal, patient_id)
        with refusals_as_missing():
            documents.get_document(ctx, principal.actor, patient_id, document_id)
        view = documents.update_document(ctx, principal.actor, patient_id, document_id, body, expected_version=expected)
    return answer(request, view)


def _query(params: Any) -> DocumentQuery:
    values: dict[str, Any] = {"status": "any"}
    if (category := search.one(params, "category")) is not None:
        system, values["class_code"] = search.token(category)
        if system not in (None, CLASS_SYSTEM):
            raise BadRequest(f"category is a class of {CLASS_SYSTEM}.", code="unknown-system")
    if (kind := search.one(params, "type")) is not None:
        system, values["type_code"] = search.token(kind)
        if system not in (None, LOINC):
            raise BadRequest(f"type is a LOINC code ({LOINC}).", code="unknown-system")
    if (status := search.one(params, "status")) is not None:
        if status not in STATUS_FROM_FHIR:
            raise BadRequest("status is current, superseded or entered-in-error.", code="invalid-parameter")
        values["status"] = STATUS_FROM_FHIR[status]
    if (author := search.one(params, "author:identifier")) is not None:
        system, values["author_ref"] = search.token(author)
        if system not in (None, RPPS_SYSTEM):
            raise BadRequest(f"author:identifier is an RPPS ({RPPS_SYSTEM}|<number>).", code="unknown-system")
    if (identifier := search.one(params, "identifier")) is not None:
        system, values["master_identifier"] = search.token(identifier)
        if system not in (None, URI):
            raise BadRequest(f"identifier is the document's masterIdentifier ({URI}|<value>).", code="unknown-system")
    deposited = search.period(params.getlist("date"), "date")
    updated = search.period(params.getlist("_lastUpdated"), "_lastUpdated")
    values |= {
        "deposited_from": deposited.start,
        "deposited_before": deposited.before,
        "updated_from": updated.start,
        "updated_before": updated.before,
    }
    sort = search.one(params, "_sort")
    if sort not in (None, "date", "-date"):
        raise BadRequest("_sort is date or -date.", code="invalid-parameter")
    values["order"] = {None: "act", "date": "deposited", "-date": "-deposited"}[sort]
    paging = search.page(params)
    values |= {"limit": paging.count, "offset": paging.offset}
    try:
        return DocumentQuery.model_validate(values)
    except ValueError as exc:
        raise BadRequest(f"Invalid search: {exc}", code="invalid-parameter") from None


@router.get("/DocumentReference")
def search_documents(request: Request) -> FhirResponse:
    """Documents of one patient the caller may see; filters apply before paging."""
    principal = caller(request, "DocumentReference", "read")
    params = request.query_params
    search.check_known(params, SEARCH)
    patient_id = patient_param(params)
    query = _query(params)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        page = documents.list_documents(ctx, principal.actor, patient_id, query)
    return respond(searchset(request, [document_reference(v) for v in page.items], next_offset=page.next_offset))


@router.get("/Binary/{resource_id}", response_model=None)
def read_binary(resource_id: str, request: Request) -> Response:
    """A document's content: raw bytes, or a Binary resource when FHIR JSON is asked for (Accept)."""
    principal = caller(request, "Binary", "read")
    patient_id, document_id = parse_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        view, content = documents.read_content(ctx, principal.actor, patient_id, document_id)
    accept = request.headers.get("accept", "")
    if "json" in accept:
        return respond(binary(view, content), headers={"ETag": etag(view)})
    return Response(content, media_type=view.format, headers={"ETag": etag(view), "X-Content-Type-Options": "nosniff"})
