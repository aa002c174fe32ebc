"""The /fhir base: its routers, and every failure under it rendered as an OperationOutcome."""

from __future__ import annotations

from fastapi import APIRouter, Request

from carnet.fhir import document_routes, mhd, patient
from carnet.fhir.outcome import operation_outcome
from carnet.fhir.wire import FhirResponse

router = APIRouter()
for part in (patient.router, document_routes.router, mhd.router):
    router.include_router(part)


def is_fhir(request: Request) -> bool:
    return request.url.path == "/fhir" or request.url.path.startswith("/fhir/")


def failure(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> FhirResponse:
    return FhirResponse(operation_outcome(status, code, message), status_code=status, headers=headers)
