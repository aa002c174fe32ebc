"""The /fhir base: its routers, and every failure under it rendered as an OperationOutcome."""

from __future__ import annotations

from fastapi import APIRouter, Request

from carnet.fhir import (
    audit_events,
    capability,
    consent,
    document_routes,
    eob,
    everything,
    mhd,
    patient,
    profile_routes,
)
from carnet.fhir.outcome import FHIR_ERRORS, operation_outcome
from carnet.fhir.wire import FhirResponse

router = APIRouter(default_response_class=FhirResponse, responses=FHIR_ERRORS)
for part in (
    capability.router,
    everything.router,
    patient.router,
    document_routes.router,
    mhd.router,
    profile_routes.router,
    consent.router,
    audit_events.router,
    eob.router,
):
    router.include_router(part)


def is_fhir(request: Request) -> bool:
    return request.url.path == "/fhir" or request.url.path.startswith("/fhir/")


def failure(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, *, expression: str | None = None
) -> FhirResponse:
    outcome = operation_outcome(status, code, message, expression=expression)
    return FhirResponse(outcome, status_code=status, headers=headers)
