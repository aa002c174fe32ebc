"""Patient/[id]/$everything: the whole record the caller may see, as a paged searchset Bundle.

Order: the Patient, the profile, the reimbursement lines, then the documents (all statuses, newest act first).
`record_bundle` is the same content in one Bundle, unpaged: the download the portal offers its patient.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from carnet.access.actor import Actor
from carnet.api.deps import unit
from carnet.context import Context
from carnet.feeds.service import list_reimbursements
from carnet.fhir import search
from carnet.fhir.documents import document_reference
from carnet.fhir.eob import explanation_of_benefit
from carnet.fhir.ids import patient_id_of
from carnet.fhir.patient import patient_view
from carnet.fhir.profile import RESOURCE_OF_KIND, profile_resource
from carnet.fhir.support import caller, enter, entry, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, Resource, respond
from carnet.records.documents import list_documents
from carnet.records.profile import list_profile
from carnet.records.schemas import DocumentQuery
from carnet.records.service import patient_record

router = APIRouter(prefix="/fhir", tags=["FHIR"])


@router.get("/Patient/{resource_id}/$everything")
def everything(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "Patient", "read")
    search.check_known(request.query_params, set())
    paging = search.page(request.query_params)
    patient_id = patient_id_of(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        head = _head(ctx, principal.actor, patient_id)
        shown, following = search.slice_of(head, paging)
        room = paging.count - len(shown)
        if room > 0:  # the page reaches the documents, which are paged in SQL
            query = DocumentQuery(status="any", limit=room, offset=max(0, paging.offset - len(head)))
            page = list_documents(ctx, principal.actor, patient_id, query)
            shown += [document_reference(v) for v in page.items]
            following = paging.offset + paging.count if page.next_offset is not None else None
        else:
            following = paging.offset + paging.count  # documents follow (the last page may be empty)
    return respond(searchset(request, shown, next_offset=following))


def _head(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> list[Resource]:
    """What comes before the documents: the Patient, the profile, the reimbursement lines."""
    head: list[Resource] = [patient_view(patient_record(ctx, actor, patient_id))]
    entries = list_profile(ctx, actor, patient_id, kinds=tuple(RESOURCE_OF_KIND))
    head += [profile_resource(e) for e in entries]
    head += [explanation_of_benefit(x) for x in list_reimbursements(ctx, actor, patient_id)]
    return head


def record_bundle(ctx: Context, actor: Actor, patient_id: uuid.UUID, base: str) -> Resource:
    """The whole record the actor may see as one collection Bundle, in $everything's order (every document)."""
    resources = _head(ctx, actor, patient_id)
    offset: int | None = 0
    while offset is not None:
        page = list_documents(ctx, actor, patient_id, DocumentQuery(status="any", limit=100, offset=offset))
        resources += [document_reference(v) for v in page.items]
        offset = page.next_offset
    entries = [{k: v for k, v in entry(base, r).items() if k != "search"} for r in resources]
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection", "entry": entries}
