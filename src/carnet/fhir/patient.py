"""Patient: read, search by INS, and create, which opens the record of a patient presenting their card."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import TypeAdapter

from carnet.api.deps import unit
from carnet.fhir import search
from carnet.fhir.codes import (
    EXT_ACTIVATION,
    EXT_CARD,
    EXT_CHANNEL,
    GENDER_FROM_FHIR,
    GENDER_TO_FHIR,
    INS_SYSTEM,
)
from carnet.fhir.ids import patient_id_of
from carnet.fhir.support import base_url, caller, enter, fhir_body, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, Resource, parse, respond
from carnet.identity import cards
from carnet.identity.cards import CardShown
from carnet.kit.errors import BadRequest, Invalid
from carnet.kit.validation import validate_with
from carnet.records.codes import Channel
from carnet.records.schemas import PatientIdentity
from carnet.records.service import find_by_ins, record_summary

router = APIRouter(prefix="/fhir", tags=["FHIR"])


def patient_resource(patient_id: uuid.UUID, ins: str, identity: PatientIdentity | None, active: bool) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient_id),
        "identifier": [{"use": "official", "system": INS_SYSTEM, "value": ins}],
        "active": active,
    }
    if identity is not None:
        resource["name"] = [{"use": "official", "family": identity.family_name, "given": identity.given_names.split()}]
        resource["gender"] = GENDER_TO_FHIR[identity.sex]
        resource["birthDate"] = identity.birth_date.isoformat()
        resource["address"] = [{"postalCode": identity.postcode, "country": "FR"}]
    return resource


def _extension(model: FHIRAbstractModel, url: str) -> Any:
    found = [e for e in (getattr(model, "extension", None) or []) if e.url == url]
    return found[0] if found else None


def identity_of(patient: Any) -> PatientIdentity:
    """The identity a new record is opened with, from the Patient resource's name, birth date, sex and postcode."""
    name = (patient.name or [None])[0]
    address = (patient.address or [None])[0]
    fields = {
        "family_name": getattr(name, "family", None),
        "given_names": " ".join(getattr(name, "given", None) or []) or None,
        "birth_date": patient.birthDate,
        "sex": GENDER_FROM_FHIR.get(patient.gender or "", None),
        "postcode": getattr(address, "postalCode", None),
    }
    missing = [k for k, v in fields.items() if v is None]
    if missing:
        raise Invalid(
            "A new record needs the patient's name (family and given), gender, birthDate and address.postalCode; "
            f"missing: {', '.join(missing)}.",
            code="incomplete-identity",
        )
    return validate_with(TypeAdapter(PatientIdentity), fields)


def card_of(patient: Any) -> CardShown:
    """The card presentation carried by the Patient resource (challenge, serial, signature)."""
    card = _extension(patient, EXT_CARD)
    if card is None:
        raise Invalid(
            f"Opening a record needs the patient's card: add the {EXT_CARD} extension (challenge, serial, signature).",
            code="card-required",
        )
    parts = {e.url: e for e in (card.extension or [])}
    try:
        challenge = uuid.UUID(parts["challenge"].valueString)
        serial = str(parts["serial"].valueString).strip().upper()
        signature = parts["signature"].valueBase64Binary  # the FHIR model has decoded it already
        if not isinstance(signature, bytes) or not signature:
            raise ValueError("no signature")
    except (KeyError, AttributeError, ValueError, TypeError):
        raise Invalid(
            "The card presentation has three parts: challenge (valueString, the challenge id), serial "
            "(valueString) and signature (valueBase64Binary).",
            code="invalid-card-presentation",
        ) from None
    return CardShown(challenge, serial, signature)


def channel_of(patient: Any) -> Channel | None:
    found = _extension(patient, EXT_CHANNEL)
    if found is None:
        return None
    try:
        return Channel(found.valueCode)
    except ValueError:
        raise Invalid(
            f"Unknown opening channel '{found.valueCode}'; channels: {', '.join(c.value for c in Channel)}.",
            code="invalid-channel",
        ) from None


@router.get("/Patient/{resource_id}")
def read_patient(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "Patient", "read")
    patient_id = patient_id_of(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        summary = record_summary(ctx, principal.actor, patient_id)
    return respond(patient_resource(summary.patient_id, summary.ins, summary.identity, summary.state == "open"))


@router.get("/Patient")
def search_patients(request: Request) -> FhirResponse:
    """Search by INS: `identifier=urn:oid:1.2.250.1.213.1.4.8|<INS>`; only a record the caller may read is found."""
    principal = caller(request, "Patient", "read")
    params = request.query_params
    search.check_known(params, {"identifier"})
    value = search.one(params, "identifier")
    if value is None:
        raise BadRequest("Search patients by identifier (their INS).", code="missing-identifier")
    system, ins = search.token(value)
    if system not in (None, INS_SYSTEM):
        raise BadRequest(f"Patients are found by their INS (system {INS_SYSTEM}).", code="unknown-system")
    with unit(request) as ctx:
        summary = find_by_ins(ctx, principal.actor, ins)
    found = [] if summary is None else [patient_resource(summary.patient_id, summary.ins, summary.identity, True)]
    return respond(searchset(request, found, next_offset=None, total=len(found)))


@router.post("/Patient", status_code=201)
def create_patient(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """Open the record of the patient whose card signed the reader's challenge, with their agreement.

    The answer carries the patient's activation code (extension activation-code), to hand to them.
    """
    principal = caller(request, "Patient", "write")
    patient = parse(body, "Patient")
    identity, shown, channel = identity_of(patient), card_of(patient), channel_of(patient)
    with unit(request) as ctx:
        opened = cards.open_record_with_card(ctx, principal.actor, shown, identity, channel=channel)
    resource = patient_resource(opened.patient_id, opened.ins, identity, True)
    resource["extension"] = [
        {
            "url": EXT_ACTIVATION,
            "extension": [
                {"url": "code", "valueString": opened.activation_code},
                {"url": "expires", "valueDateTime": opened.activation_expires_at.isoformat()},
            ],
        }
    ]
    location = f"{base_url(request)}/Patient/{opened.patient_id}"
    return respond(resource, status=201, headers={"Location": location})
