"""Consent: the patient's access settings, one resource per choice; read, created and deleted by the patient.

Ids: `auth-<rpps>` (authorisation, permit), `block-<rpps>` (deny), `doctor-<rpps>` (the regular doctor, permit,
actor role PCP), `optout-emergency` (deny, purpose BTG) and `optout-regulation` (deny, purpose ETREAT).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from carnet.access import service
from carnet.access.schemas import SettingsView
from carnet.api.deps import unit
from carnet.context import Context
from carnet.fhir import search
from carnet.fhir.codes import ACT_REASON, BREAK_THE_GLASS, EMERGENCY_TREATMENT, LOINC, RPPS_SYSTEM
from carnet.fhir.ids import named_item_id, parse_named_item_id
from carnet.fhir.support import (
    base_url,
    caller,
    fhir_body,
    patient_param,
    patient_reference,
    refusals_as_missing,
    searchset,
)
from carnet.fhir.wire import FhirResponse, Resource, model_of, respond, structure_problem
from carnet.identity.tokens import Principal
from carnet.kit.errors import BadRequest, Invalid, NotFound

router = APIRouter(prefix="/fhir", tags=["FHIR"])
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
ROLE_PCP = {"coding": [{"system": f"{TERMINOLOGY}v3-RoleCode", "code": "PCP"}]}
ROLE_PROVIDER = {"coding": [{"system": f"{TERMINOLOGY}v3-ParticipationType", "code": "PRCP"}]}
NO_SUCH_CONSENT = "No such consent in this record."
# Every refusal of a Consent ends with what Carnet's Consent is (docs/fhir-patient.md).
ACCEPTS = (
    "Carnet's Consent records one of the patient's access settings: provision.type permit with a provision.actor "
    f"naming a professional by identifier (system {RPPS_SYSTEM}, the RPPS) authorises them (actor role PCP: the "
    "regular doctor; action collect alone: deposit only); deny with such an actor blocks them; deny with "
    f"provision.purpose {BREAK_THE_GLASS} or {EMERGENCY_TREATMENT} ({ACT_REASON}) opts out of emergency or "
    "regulation access. Other consents (research, privacy policies, data or time restrictions) are not kept."
)


def _refused(message: str, where: str, code: str = "invalid-consent") -> Invalid:
    return Invalid(f"{message} {ACCEPTS}", code=code, expression=where)


def _consent(patient_id: uuid.UUID, name: str, permit: bool, provision: Resource) -> Resource:
    return {
        "resourceType": "Consent",
        "id": named_item_id(patient_id, name),
        "status": "active",
        "scope": {"coding": [{"system": f"{TERMINOLOGY}consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {"coding": [{"system": f"{TERMINOLOGY}v3-ActCode", "code": "OPTIN" if permit else "OPTOUT"}]},
        "provision": {"type": "permit" if permit else "deny", **provision},
    }


def _actor(rpps: str, role: Resource) -> list[Resource]:
    return [{"role": role, "reference": {"identifier": {"system": RPPS_SYSTEM, "value": rpps}}}]


def _actions(*codes: str) -> list[Resource]:
    return [{"coding": [{"system": f"{TERMINOLOGY}consentaction", "code": code}]} for code in codes]


def consents(settings: SettingsView) -> list[Resource]:
    pid, found = settings.patient_id, []
    if settings.regular_doctor_rpps:
        found.append(
            _consent(
                pid,
                f"doctor-{settings.regular_doctor_rpps}",
                True,
                {"actor": _actor(settings.regular_doctor_rpps, ROLE_PCP)},
            )
        )
    for a in settings.authorisations:
        actions = _actions("access", "collect") if a.scope == "read_write" else _actions("collect")
        provision = {
            "period": {"start": a.granted_at.isoformat(), "end": a.expires_at.isoformat()},
            "actor": _actor(a.professional_rpps, ROLE_PROVIDER),
            "action": actions,
        }
        found.append(_consent(pid, f"auth-{a.professional_rpps}", True, provision))
    for rpps in settings.blocked:
        found.append(_consent(pid, f"block-{rpps}", False, {"actor": _actor(rpps, ROLE_PROVIDER)}))
    for flag, name, code in (
        (settings.emergency_opt_out, "optout-emergency", BREAK_THE_GLASS),
        (settings.regulation_opt_out, "optout-regulation", EMERGENCY_TREATMENT),
    ):
        if flag:
            found.append(_consent(pid, name, False, {"purpose": [{"system": ACT_REASON, "code": code}]}))
    return found


# Provision elements that would narrow or widen a choice in ways Carnet's settings cannot hold: kept silently
# they would change what the patient asked (a permit with a nested deny read as a plain authorisation).
NOT_HONOURED = ("provision", "data", "dataPeriod", "class", "code", "securityLabel", "period")
ACTIONS = {"access", "collect"}


def _unhonoured(consent: Any) -> None:
    """Refuse, naming it, the first element of the Consent that Carnet would otherwise drop."""
    if consent.status != "active":
        raise _refused(f"Consent.status is {consent.status!r}: a setting takes effect as active.", "Consent.status")
    provision = consent.provision
    for name in NOT_HONOURED:
        if getattr(provision, name, None):
            what = "a nested provision" if name == "provision" else f"provision.{name}"
            raise _refused(f"Carnet cannot honour {what}.", f"Consent.provision.{name}")
    if len(provision.actor or []) > 1:
        raise _refused("A Consent names one professional.", "Consent.provision.actor[1]")
    codes = {c.code for a in provision.action or [] for c in (a.coding or [])}
    if codes - ACTIONS or any(not a.coding for a in provision.action or []):
        raise _refused("provision.action is access and collect, or collect alone.", "Consent.provision.action")


def _apply(ctx: Context, principal: Principal, patient_id: uuid.UUID, consent: Any) -> str:
    """Carry out a new Consent; return the id-name of the choice it records."""
    actor, provision = principal.actor, consent.provision
    if provision is None:
        raise _refused("Consent.provision is missing.", "Consent.provision")
    _unhonoured(consent)
    if provision.type not in ("permit", "deny"):
        written = f"is {provision.type!r}" if provision.type else "is missing"
        raise _refused(f"Consent.provision.type {written}: it says permit or deny.", "Consent.provision.type")
    purposes = {p.code for p in provision.purpose or [] if p.system == ACT_REASON}
    rpps = next(
        (
            a.reference.identifier.value
            for a in provision.actor or []
            if a.reference.identifier and a.reference.identifier.system == RPPS_SYSTEM
        ),
        None,
    )
    roles = {c.code for a in provision.actor or [] for c in (a.role.coding or [])}
    if provision.type == "deny" and rpps is None and purposes & {BREAK_THE_GLASS, EMERGENCY_TREATMENT}:
        emergency = BREAK_THE_GLASS in purposes or None
        regulation = EMERGENCY_TREATMENT in purposes or None
        service.set_opt_outs(ctx, actor, patient_id, emergency=emergency, regulation=regulation)
        return "optout-emergency" if emergency else "optout-regulation"
    if rpps is None:
        where = "Consent.provision.actor" if provision.actor else "Consent.provision"
        raise _refused("The Consent names no professional by RPPS identifier, nor an emergency purpose.", where)
    try:
        return _record_choice(ctx, principal, patient_id, provision, rpps, roles)
    except Invalid as exc:
        if exc.expression is not None:
            raise
        raise _refused(exc.message, "Consent.provision.actor", exc.code) from None


def _record_choice(
    ctx: Context, principal: Principal, patient_id: uuid.UUID, provision: Any, rpps: str, roles: set[str]
) -> str:
    actor = principal.actor
    if provision.type == "deny":
        service.block(ctx, actor, patient_id, rpps)
        return f"block-{rpps}"
    if "PCP" in roles:
        service.set_regular_doctor(ctx, actor, patient_id, rpps)
        return f"doctor-{rpps}"
    actions = {c.code for a in provision.action or [] for c in (a.coding or [])}
    scope = "deposit" if actions == {"collect"} else "read_write"
    service.authorise(ctx, actor, patient_id, rpps, scope=scope)
    return f"auth-{rpps}"


def _current(ctx: Context, principal: Principal, patient_id: uuid.UUID) -> list[Resource]:
    return consents(service.read_settings(ctx, principal.actor, patient_id))


@router.get("/Consent")
def search_consents(request: Request) -> FhirResponse:
    principal = caller(request, "Consent", "read")
    search.check_known(request.query_params, {"patient"})
    patient_id = patient_param(request.query_params)
    with unit(request) as ctx, refusals_as_missing():
        found = _current(ctx, principal, patient_id)
    return respond(searchset(request, found, next_offset=None, total=len(found)))


@router.get("/Consent/{resource_id}")
def read_consent(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "Consent", "read")
    patient_id, _ = parse_named_item_id(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        found = [c for c in _current(ctx, principal, patient_id) if c["id"] == resource_id]
    if not found:
        raise NotFound(NO_SUCH_CONSENT)
    return respond(found[0])


@router.post("/Consent", status_code=201)
def create_consent(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """The patient authorises, blocks, designates the regular doctor, or opts out of an emergency mode."""
    principal = caller(request, "Consent", "write")
    consent = _parsed(body)
    try:
        patient_id = patient_reference(consent.patient, "Consent.patient")
    except BadRequest as exc:
        raise BadRequest(f"{exc.message} {ACCEPTS}", code=exc.code, expression="Consent.patient") from None
    with unit(request) as ctx:
        name = _apply(ctx, principal, patient_id, consent)
        resource_id = named_item_id(patient_id, name)
        found = [c for c in _current(ctx, principal, patient_id) if c["id"] == resource_id]
    return respond(found[0], status=201, headers={"Location": f"{base_url(request)}/Consent/{resource_id}"})


def _parsed(body: Any) -> Any:
    """The body as an R4 Consent; what is not one is refused naming the element."""
    if not isinstance(body, dict) or body.get("resourceType") != "Consent":
        raise BadRequest(
            f"Expected a resource of type Consent. {ACCEPTS}", code="wrong-resource-type", expression="resourceType"
        )
    try:
        return model_of("Consent").model_validate(body)
    except ValidationError as exc:
        where, message = structure_problem("Consent", exc)
        raise BadRequest(f"{where}: {message}. {ACCEPTS}", code="invalid-resource", expression=where) from None


@router.delete("/Consent/{resource_id}", status_code=204)
def delete_consent(resource_id: str, request: Request) -> Response:
    """Withdraw a choice: revoke, unblock, no regular doctor, or opt back into an emergency mode."""
    principal = caller(request, "Consent", "write")
    patient_id, name = parse_named_item_id(resource_id)
    kind, _, rpps = name.partition("-")
    actor = principal.actor
    with unit(request) as ctx:
        if resource_id not in {c["id"] for c in _current(ctx, principal, patient_id)}:
            raise NotFound(NO_SUCH_CONSENT)
        if kind == "auth":
            service.revoke(ctx, actor, patient_id, rpps)
        elif kind == "block":
            service.unblock(ctx, actor, patient_id, rpps)
        elif kind == "doctor":
            service.set_regular_doctor(ctx, actor, patient_id, None)
        elif name == "optout-emergency":
            service.set_opt_outs(ctx, actor, patient_id, emergency=False)
        else:
            service.set_opt_outs(ctx, actor, patient_id, regulation=False)
    return Response(status_code=204)
