"""Patient: read, search by INS, and create, which opens the record of a patient presenting their card.

The Patient resource the opener sends is kept as written (encrypted with the record, records.service) and read
back as sent. Carnet sets only: `id`; `meta.versionId` and `meta.lastUpdated` (the rest of meta is kept); the
INS identifier (the card holder's, first, unless the writer wrote it); `active` (the record is open); and, in
the answer to create, the extension activation-code. The extensions card-presentation and opening-channel are
read and not kept. The record opens with the identity read from the resource (name, gender, birth date, French
postcode); what Carnet cannot honour is refused naming the element (docs/fhir-patient.md). A record opened
at a desk has no resource and reads as its identity.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fhir.resources.R4B.patient import Patient
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from carnet.api.deps import unit
from carnet.fhir import search
from carnet.fhir.codes import (
    CARNET,
    EXT_ACTIVATION,
    EXT_CARD,
    EXT_CHANNEL,
    GENDER_FROM_FHIR,
    GENDER_TO_FHIR,
    INS_SYSTEM,
)
from carnet.fhir.ids import patient_id_of
from carnet.fhir.support import base_url, caller, enter, fhir_body, refusals_as_missing, searchset
from carnet.fhir.wire import FhirResponse, Resource, respond, structure_problem
from carnet.identity import cards
from carnet.identity.cards import CardShown
from carnet.kit import clock
from carnet.kit.errors import BadRequest, Invalid
from carnet.records.codes import Channel
from carnet.records.profile_checks import (
    CONFIDENTIALITY,
    NO_MORE_THAN_THE_RULES,
    patient_of,
    refuse_unreferenced,
    walk,
)
from carnet.records.schemas import PatientIdentity
from carnet.records.service import PatientRecord, find_patient_by_ins, patient_record

router = APIRouter(prefix="/fhir", tags=["FHIR"])

READ_ONLY_EXTENSIONS = (EXT_CARD, EXT_CHANNEL)  # what the opener says to Carnet, not about the patient
FRANCE = ("fr", "fra", "france", "250")  # ISO 3166 alpha-2, alpha-3, numeric, and the name


def patient_resource(patient_id: uuid.UUID, ins: str, identity: PatientIdentity | None, active: bool) -> Resource:
    """A record opened at a desk, which has no Patient resource: built from its identity, as it always was."""
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


def as_written(patient_id: uuid.UUID, ins: str, written: Mapping[str, Any], active: bool) -> Resource:
    """The Patient resource as its opener sent it (meta stamped when it was kept), with the elements Carnet sets."""
    resource: Resource = {"resourceType": "Patient", "id": str(patient_id)}
    resource.update((k, v) for k, v in written.items() if k not in resource)
    identifiers = list(written.get("identifier") or [])
    if not any(i.get("system") == INS_SYSTEM for i in identifiers):
        resource["identifier"] = [{"use": "official", "system": INS_SYSTEM, "value": ins}, *identifiers]
    resource["active"] = active
    return resource


def patient_view(found: PatientRecord) -> Resource:
    summary, active = found.summary, found.summary.state == "open"
    if found.written is None:
        return patient_resource(summary.patient_id, summary.ins, summary.identity, active)
    return as_written(summary.patient_id, summary.ins, found.written, active)


def accept_patient(body: Any) -> tuple[Patient, Resource]:
    """The body as a valid R4 Patient, and what Carnet keeps of it: all but id, meta's version and time and
    its own read-only extensions; refused, naming the element, when Carnet cannot honour it as written."""
    if not isinstance(body, dict):
        raise BadRequest("The body is not a JSON object.", code="not-a-resource")
    if body.get("resourceType") != "Patient":
        raise BadRequest(
            f"Expected a resource of type Patient, received {str(body.get('resourceType'))[:40]!r}.",
            code="wrong-resource-type",
            expression="resourceType",
        )
    try:
        patient = Patient.model_validate(body)
    except ValidationError as exc:
        where, message = structure_problem("Patient", exc)
        raise BadRequest(f"{where}: {message}", code="invalid-resource", expression=where) from None
    written = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("id", "meta", "extension")}
    meta = {k: v for k, v in (body.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    extensions = [e for e in _extensions(body) if e.get("url") not in READ_ONLY_EXTENSIONS]
    if meta:
        written = {"meta": copy.deepcopy(meta), **written}
    if extensions:
        written["extension"] = copy.deepcopy(extensions)
    _check_honourable(body)
    return patient, written


def _extensions(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = body.get("extension")
    return [e for e in found if isinstance(e, Mapping)] if isinstance(found, list) else []


def _check_honourable(body: Mapping[str, Any]) -> None:
    for index, extension in enumerate(_extensions(body)):
        url = str(extension.get("url", ""))
        if url.startswith(CARNET) and url not in READ_ONLY_EXTENSIONS:
            raise Invalid(
                f"Patient.extension[{index}] ({url}) is set by Carnet, not by the writer: leave it out.",
                code="carnet-extension",
                expression=f"Patient.extension[{index}]",
            )
    if body.get("active") is False:
        raise Invalid(
            "Patient.active is false: a record is opened for an active patient, and Carnet sets active from the "
            "record's state (closing is the patient's choice).",
            code="inactive-patient",
            expression="Patient.active",
        )
    if body.get("link"):
        raise Invalid(
            "Patient.link cannot be honoured: Carnet keeps one Patient per INS, opened with the patient's card, "
            "and does not link or merge it with other Patient or RelatedPerson resources.",
            code="patient-link",
            expression="Patient.link[0]",
        )
    _check_references(body)
    _check_security(body)


def _check_references(body: Mapping[str, Any]) -> None:
    local: set[str] = set()
    for where, element in walk(body, "Patient"):
        reference = element.get("reference")
        if not isinstance(reference, str):
            continue
        local.add(reference.removeprefix("#"))
        if patient_of(reference) is not None:
            raise Invalid(
                f"{where}.reference names a Patient: a record holds one patient, whose id Carnet assigns, and "
                "cannot point at another.",
                code="other-patient",
                expression=f"{where}.reference",
            )
    refuse_unreferenced(body, "Patient", local)


def _check_security(body: Mapping[str, Any]) -> None:
    for index, label in enumerate((body.get("meta") or {}).get("security") or []):
        if label.get("system") == CONFIDENTIALITY and label.get("code") in NO_MORE_THAN_THE_RULES:
            continue
        where = f"Patient.meta.security[{index}]"
        raise Invalid(
            f"{where} ({label.get('system')}|{label.get('code')}) cannot be honoured: the Patient is shown by the "
            f"access rules of its record, which it cannot restrict further (kept: {CONFIDENTIALITY} "
            f"{', '.join(NO_MORE_THAN_THE_RULES)}).",
            code="unknown-label",
            expression=where,
        )


def _french_address(addresses: Sequence[Any]) -> tuple[int, Any]:
    """The first address in France (country FR, or none written) that has a postcode, and its index."""
    french = [(i, a) for i, a in enumerate(addresses) if str(a.country or "fr").strip().lower() in FRANCE]
    for index, address in french:
        if address.postalCode:
            return index, address
    if french:
        where = f"Patient.address[{french[0][0]}].postalCode"
        raise Invalid(
            f"{where} is missing: a record is opened with the patient's French postcode (it gives the département).",
            code="incomplete-identity",
            expression=where,
        )
    raise Invalid(
        "Patient.address has no address in France: a record is opened with the patient's French postcode, which "
        "gives the département it is counted in; add that address (postalCode, country FR or none) beside the "
        "others, which are kept as written.",
        code="incomplete-identity",
        expression="Patient.address",
    )


def identity_of(patient: Any) -> PatientIdentity:
    """The identity a new record is opened with: the official (else the first) name, gender, full birth date and
    the French postcode of the resource; each missing or refused part named."""
    names = patient.name or []
    index = next((i for i, n in enumerate(names) if n.use == "official"), 0)
    name = names[index] if names else None
    fields: dict[str, Any] = {
        "family_name": (getattr(name, "family", None), f"Patient.name[{index}].family"),
        "given_names": (" ".join(getattr(name, "given", None) or []) or None, f"Patient.name[{index}].given"),
        "sex": (GENDER_FROM_FHIR.get(patient.gender or ""), "Patient.gender"),
        "birth_date": (patient.birthDate, "Patient.birthDate"),
    }
    if name is None:
        fields["family_name"] = (None, "Patient.name")
    for value, where in fields.values():
        if value is None:
            raise Invalid(
                f"{where} is missing: a record is opened with the patient's name (family and given), gender, "
                "full birth date and French postcode.",
                code="incomplete-identity",
                expression=where,
            )
    if len(str(patient.birthDate)) != len("1979-06-02"):
        raise Invalid(
            "Patient.birthDate is partial: a record is opened with the full date of birth (year, month and day).",
            code="incomplete-identity",
            expression="Patient.birthDate",
        )
    address_index, address = _french_address(patient.address or [])
    fields["postcode"] = (address.postalCode, f"Patient.address[{address_index}].postalCode")
    try:
        return PatientIdentity.model_validate({k: v for k, (v, _) in fields.items()})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = fields[str(first["loc"][0])][1]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise Invalid(f"{where}: {message}", code="invalid-identity", expression=where) from None


def _extension(model: FHIRAbstractModel, url: str) -> tuple[int, Any]:
    found = [(i, e) for i, e in enumerate(getattr(model, "extension", None) or []) if e.url == url]
    return found[0] if found else (-1, None)


def card_of(patient: Any) -> CardShown:
    """The card presentation carried by the Patient resource (challenge, serial, signature)."""
    index, card = _extension(patient, EXT_CARD)
    if card is None:
        raise Invalid(
            f"Opening a record needs the patient's card: add the {EXT_CARD} extension (challenge, serial, signature).",
            code="card-required",
            expression="Patient.extension",
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
            expression=f"Patient.extension[{index}]",
        ) from None
    return CardShown(challenge, serial, signature)


def channel_of(patient: Any) -> Channel | None:
    index, found = _extension(patient, EXT_CHANNEL)
    if found is None:
        return None
    try:
        return Channel(found.valueCode)
    except ValueError:
        raise Invalid(
            f"Unknown opening channel '{found.valueCode}'; channels: {', '.join(c.value for c in Channel)}.",
            code="invalid-channel",
            expression=f"Patient.extension[{index}].valueCode",
        ) from None


@router.get("/Patient/{resource_id}")
def read_patient(resource_id: str, request: Request) -> FhirResponse:
    principal = caller(request, "Patient", "read")
    patient_id = patient_id_of(resource_id)
    with unit(request) as ctx, refusals_as_missing():
        enter(ctx, principal, patient_id)
        found = patient_record(ctx, principal.actor, patient_id)
    return respond(patient_view(found))


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
        found = find_patient_by_ins(ctx, principal.actor, ins)
    resources = [] if found is None else [patient_view(found)]
    return respond(searchset(request, resources, next_offset=None, total=len(resources)))


@router.post("/Patient", status_code=201)
def create_patient(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """Open the record of the patient whose card signed the reader's challenge, with their agreement; the
    Patient resource is kept as written.

    The answer carries the patient's activation code (extension activation-code), to hand to them.
    """
    principal = caller(request, "Patient", "write")
    patient, written = accept_patient(body)
    identity, shown, channel = identity_of(patient), card_of(patient), channel_of(patient)
    stamp = {"versionId": "1", "lastUpdated": clock.now().isoformat(timespec="milliseconds")}
    written = {"meta": {**written.get("meta", {}), **stamp}, **{k: v for k, v in written.items() if k != "meta"}}
    with unit(request) as ctx:
        opened = cards.open_record_with_card(
            ctx, principal.actor, shown, identity, channel=channel, patient_resource=written
        )
    resource = as_written(opened.patient_id, opened.ins, written, active=True)
    activation = {
        "url": EXT_ACTIVATION,
        "extension": [
            {"url": "code", "valueString": opened.activation_code},
            {"url": "expires", "valueDateTime": opened.activation_expires_at.isoformat()},
        ],
    }
    resource["extension"] = [*resource.get("extension", []), activation]
    location = f"{base_url(request)}/Patient/{opened.patient_id}"
    return respond(resource, status=201, headers={"Location": location})
