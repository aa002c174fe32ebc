"""ExplanationOfBenefit: the insurer's reimbursement lines of the last 24 months (read, search by patient)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from carnet.api.deps import unit
from carnet.feeds.schemas import ReimbursementView
from carnet.feeds.service import get_reimbursement, list_reimbursements
from carnet.fhir import search
from carnet.fhir.codes import CCAM, CIP13, NGAP
from carnet.fhir.ids import item_id, parse_item_id
from carnet.fhir.support import caller, enter, patient_param, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, Resource, respond

router = APIRouter(prefix="/fhir", tags=["FHIR"])
SYSTEMS = {"CCAM": CCAM, "NGAP": NGAP, "CIP13": CIP13}
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"


def _money(cents: int) -> Resource:
    return {"value": cents / 100, "currency": "EUR"}


def _category(code: str) -> Resource:
    return {"coding": [{"system": f"{TERMINOLOGY}adjudication", "code": code}]}


def explanation_of_benefit(line: ReimbursementView) -> Resource:
    pharmacy = line.code_system == "CIP13"
    resource: Resource = {
        "resourceType": "ExplanationOfBenefit",
        "id": item_id(line.patient_id, line.id),
        "identifier": [{"system": "urn:carnet:claim", "value": line.claim_ref}],
        "status": "active",
        "type": {
            "coding": [{"system": f"{TERMINOLOGY}claim-type", "code": "pharmacy" if pharmacy else "professional"}]
        },
        "use": "claim",
        "patient": {"reference": f"Patient/{line.patient_id}"},
        "created": line.received_at.isoformat(timespec="milliseconds"),
        "insurer": {"display": "Assurance maladie"},
        "provider": {"display": line.dispenser or line.prescriber or "Non précisé"},
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": {"display": "Assurance maladie obligatoire"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": SYSTEMS[line.code_system], "code": line.code}],
                    "text": line.label,
                },
                "servicedDate": line.service_date.isoformat(),
                "net": _money(line.amount_cents),
                "adjudication": [
                    {"category": _category("submitted"), "amount": _money(line.amount_cents)},
                    {"category": _category("benefit"), "amount": _money(line.reimbursed_cents)},
                ],
            }
        ],
        "total": [
            {"category": _category("submitted"), "amount": _money(line.amount_cents)},
            {"category": _category("benefit"), "amount": _money(line.reimbursed_cents)},
        ],
    }
    if line.prescriber:
        resource["referral"] = {"display": line.prescriber}
    return resource


@router.get("/ExplanationOfBenefit/{resource_id}")
def read_eob(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "ExplanationOfBenefit", "read")
    patient_id, line_id = parse_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        line = get_reimbursement(ctx, principal.actor, patient_id, line_id)
    return respond(explanation_of_benefit(line))


@router.get("/ExplanationOfBenefit")
def search_eobs(request: Request) -> FhirResponse:
    principal = caller(request, "ExplanationOfBenefit", "read")
    params = request.query_params
    search.check_known(params, {"patient"})
    patient_id = patient_param(params)
    paging = search.page(params)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        lines = list_reimbursements(ctx, principal.actor, patient_id)
    shown, following = search.slice_of(lines, paging)
    return respond(
        searchset(request, [explanation_of_benefit(x) for x in shown], next_offset=following, total=len(lines))
    )
