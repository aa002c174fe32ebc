"""Create, read and search by patient for each FHIR resource the medical profile is made of."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from carnet.access.actor import ActorKind
from carnet.access.gate import NO_SUCH_RECORD
from carnet.api.deps import unit
from carnet.fhir import search
from carnet.fhir.ids import item_id, parse_item_id
from carnet.fhir.profile import PROFILE_RESOURCES, ProfileResource, profile_resource
from carnet.fhir.support import base_url, caller, enter, fhir_body, patient_param, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, respond
from carnet.kit.errors import Invalid, NotFound
from carnet.records.profile import add_profile_written, get_profile_entry, list_profile, source_class_of

router = APIRouter(prefix="/fhir", tags=["FHIR"])


def _add_routes(kind: ProfileResource) -> None:
    name = kind.name

    @router.post(f"/{name}", status_code=201, name=f"create-{name}")
    def create(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
        principal = caller(request, name, "write")
        patient_id = _patient_of(body, kind)
        written = source_class_of(body) if isinstance(body, dict) else None
        source = written[0] if written else None
        if source is None and principal.actor.kind is not ActorKind.PATIENT:
            source = kind.default_class
        with unit(request) as ctx:
            enter(ctx, principal, patient_id)
            entry = add_profile_written(ctx, principal.actor, patient_id, body, expected_type=name, source_class=source)
        location = f"{base_url(request)}/{name}/{item_id(patient_id, entry.id)}"
        return respond(profile_resource(entry), status=201, headers={"Location": location})

    @router.get(f"/{name}/{{resource_id}}", name=f"read-{name}")
    def read(resource_id: str, request: Request) -> FhirResponse:
        principal = caller(request, name, "read")
        patient_id, entry_id = parse_item_id(resource_id)
        with unit(request) as ctx, refusals_as_missing():
            enter(ctx, principal, patient_id)
            entry = get_profile_entry(ctx, principal.actor, patient_id, entry_id, kinds=kind.kinds)
        return respond(profile_resource(entry))

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
        resources = [profile_resource(e) for e in shown]
        return respond(searchset(request, resources, next_offset=following, total=len(entries)))


def _patient_of(body: Any, kind: ProfileResource) -> uuid.UUID:
    """The record a resource is written to, from its subject (checked in full by the service)."""
    where = f"{kind.name}.{kind.subject}"
    subject = body.get(kind.subject) if isinstance(body, dict) else None
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise Invalid(
            f"{where} must reference the patient of a record as Patient/<id>.",
            code="invalid-reference",
            expression=where,
        )
    try:
        return uuid.UUID(reference.removeprefix("Patient/"))
    except ValueError:
        raise NotFound(NO_SUCH_RECORD) from None


for _kind in PROFILE_RESOURCES.values():
    _add_routes(_kind)
