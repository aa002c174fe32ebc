"""AuditEvent: a record's trail, for its patient (their history) and for operators (who, when, what kind; no content).

Emergency accesses carry the standard break-glass purpose of use (v3-ActReason BTG; ETREAT for centre 15
regulation), in purposeOfEvent and on the agent.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from carnet.api.deps import unit
from carnet.audit.history import trail_page
from carnet.audit.models import AuditEntry
from carnet.fhir import search
from carnet.fhir.codes import ACT_REASON, AUDIT_ACTION_SYSTEM, BREAK_THE_GLASS, EMERGENCY_TREATMENT, RPPS_SYSTEM
from carnet.fhir.ids import named_item_id
from carnet.fhir.support import caller, patient_param, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, Resource, respond

router = APIRouter(prefix="/fhir", tags=["FHIR"])
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
PURPOSES = {"emergency": BREAK_THE_GLASS, "regulation": EMERGENCY_TREATMENT}
CRUDE = {
    "deposit": "C",
    "open": "C",
    "write": "C",
    "replace": "U",
    "withdraw": "U",
    "mask": "U",
    "flag": "U",
    "change": "U",
}


def _action(action: str) -> str:
    verb = action.split(".")[-1]
    return CRUDE.get(verb, "R" if verb in ("read", "list") else "E")


def _who(row: AuditEntry) -> Resource:
    if row.actor_kind == "professional":
        return {"identifier": {"system": RPPS_SYSTEM, "value": row.actor_ref}}
    if row.actor_kind == "patient":
        return {"reference": f"Patient/{row.actor_ref}"}
    return {"display": f"{row.actor_kind} {row.actor_ref}"}


def audit_event(row: AuditEntry) -> Resource:
    agent: Resource = {"who": _who(row), "requestor": True}
    if row.source:
        agent["network"] = {"address": row.source, "type": "2"}
    purpose = PURPOSES.get(row.mode)
    if purpose:
        agent["purposeOfUse"] = [{"coding": [{"system": ACT_REASON, "code": purpose}]}]
    entities: list[Resource] = [{"what": {"reference": f"Patient/{row.chain_id}"}, "type": {"code": "1"}}]
    if row.subject:
        entities.append({"what": {"identifier": {"value": row.subject}}})
    resource: Resource = {
        "resourceType": "AuditEvent",
        "id": named_item_id(row.chain_id, f"seq{row.seq}"),
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "subtype": [{"system": AUDIT_ACTION_SYSTEM, "code": row.action}],
        "action": _action(row.action),
        "recorded": row.at.isoformat(timespec="milliseconds"),
        "outcome": "0" if row.allowed else "4",
        "outcomeDesc": row.reason,
        "agent": [agent],
        "source": {"observer": {"display": "Carnet"}},
        "entity": entities,
    }
    if purpose:
        resource["purposeOfEvent"] = [{"coding": [{"system": ACT_REASON, "code": purpose}]}]
    return resource


@router.get("/AuditEvent")
def search_audit_events(request: Request) -> FhirResponse:
    """Who accessed a record, newest first; `date` narrows the period (ge, gt, le, lt, eq)."""
    principal = caller(request, "AuditEvent", "read")
    params = request.query_params
    search.check_known(params, {"patient", "date"})
    patient_id = patient_param(params)
    period = search.period(params.getlist("date"), "date")
    paging = search.page(params)
    with unit(request) as ctx, refusals_as_missing():
        rows, following = trail_page(
            ctx,
            principal.actor,
            patient_id,
            since=period.start,
            until=period.before,
            limit=paging.count,
            offset=paging.offset,
        )
    return respond(searchset(request, [audit_event(r) for r in rows], next_offset=following))
