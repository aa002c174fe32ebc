"""Create, read and search by patient for each FHIR resource the medical profile is made of."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from carnet.access.actor import ActorKind
from carnet.api.deps import unit
from carnet.fhir import search
from carnet.fhir.ids import item_id, parse_item_id
from carnet.fhir.profile import PROFILE_RESOURCES, ProfileResource, profile_resource, source_class_of
from carnet.fhir.support import (
    base_url,
    caller,
    enter,
    fhir_body,
    patient_param,
    patient_reference,
    refusals_as_missing,
    searchset,
)
from carnet.fhir.wire import FhirResponse, parse, respond
from carnet.records.profile import add_profile_entry, get_profile_entry, list_profile

router = APIRouter(prefix="/fhir", tags=["FHIR"])


def _add_routes(kind: ProfileResource) -> None:
    name = kind.name

    @router.post(f"/{name}", status_code=201, name=f"create-{name}")
    def create(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
        principal = caller(request, name, "write")
        resource: Any = parse(body, name)
        patient_id = patient_reference(getattr(resource, kind.subject), f"{name}.{kind.subject}")
        payload = kind.from_fhir(resource)
        source = source_class_of(resource)
        if source is None and principal.actor.kind is not ActorKind.PATIENT:
            source = kind.default_class
        with unit(request) as ctx:
            enter(ctx, principal, patient_id)
            entry_id = add_profile_entry(ctx, principal.actor, patient_id, payload, source_class=source)
            entry = get_profile_entry(ctx, principal.actor, patient_id, entry_id, kinds=kind.kinds)
        location = f"{base_url(request)}/{name}/{item_id(patient_id, entry_id)}"
        return respond(profile_resource(entry, patient_id), status=201, headers={"Location": location})

    @router.get(f"/{name}/{{resource_id}}", name=f"read-{name}")
    def read(resource_id: str, request: Request) -> FhirResponse:
        principal = caller(request, name, "read")
        patient_id, entry_id = parse_item_id(resource_id)
        with unit(request) as ctx, refusals_as_missing():
            enter(ctx, principal, patient_id)
            entry = get_profile_entry(ctx, principal.actor, patient_id, entry_id, kinds=kind.kinds)
        return respond(profile_resource(entry, patient_id))

    @router.get(f"/{name}", name=f"search-{name}")
    def search_entries(request: Request) -> FhirResponse:
        principal = caller(request, name, "read")
        params = request.query_params
        search.check_known(params, {"patient", "subject"})
        patient_id = patient_param(params)
        paging = search.page(params)
        with unit(request) as ctx, refusals_as_missing():
            enter(ctx, principal, patient_id)
            entries = list_profile(ctx, principal.actor, patient_id, kinds=kind.kinds)
        shown, following = search.slice_of(entries, paging)
        resources = [profile_resource(e, patient_id) for e in shown]
        return respond(searchset(request, resources, next_offset=following, total=len(entries)))


for _kind in PROFILE_RESOURCES.values():
    _add_routes(_kind)
