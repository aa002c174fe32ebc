"""The Patient resource a professional sends reads back as sent, apart from what Carnet sets (id, meta's version
and time, the INS identifier, active, its extensions), or is refused 4xx naming the element; nothing is kept."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.codes import CARNET, EXT_ACTIVATION, INS_SYSTEM
from carnet.fhir.patient import patient_resource, patient_view
from carnet.kit.identifiers import nir_key
from carnet.records.codes import Channel
from carnet.records.models import Record
from carnet.records.service import destroy_record, open_record, patient_record, request_destruction
from carnet.runtime import Runtime
from tests.api.flows import card_shown
from tests.conformance.examples import without_server_elements
from tests.factories import IDENTITY, SYSTEM, finess, new_ins, open_test_record
from tests.fhir.conftest import FHIR_JSON, Fhir, checked, new_patient
from tests.http_fixtures import Person

LIVED_ABROAD = {
    "use": "old",
    "line": ["1600 Amphitheatre Parkway"],
    "city": "Mountain View",
    "state": "CA",
    "postalCode": "94043",
    "country": "US",
}
HOME = {"use": "home", "line": ["12 rue de la Soif"], "city": "Rennes", "postalCode": "35000", "country": "FR"}


def written_patient(person: Person, card: dict[str, str]) -> dict[str, Any]:
    """A Patient as a hospital's software writes it: much more than the identity Carnet opens the record with."""
    patient = new_patient(person, card)
    patient["meta"] = {"tag": [{"system": "http://example.org/tags", "code": "admission"}]}
    patient["text"] = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Anne Lefebvre</div>'}
    patient["identifier"] = [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": "IPP-778899", "type": {"text": "IPP"}}]
    patient["name"] = [
        {"use": "official", "family": "Lefebvre", "given": ["Anne", "Marie"], "prefix": ["Mme"]},
        {"use": "maiden", "family": "Kerbrat"},
    ]
    patient["telecom"] = [{"system": "phone", "value": "+33 6 12 34 56 78", "use": "mobile", "rank": 1}]
    patient["address"] = [LIVED_ABROAD, HOME]
    patient["maritalStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]
    }
    patient["multipleBirthInteger"] = 2
    patient["communication"] = [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "fr"}]}, "preferred": True}
    ]
    patient["contact"] = [
        {
            "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
            "name": {"family": "Lefebvre", "given": ["Paul"]},
            "telecom": [{"system": "phone", "value": "+33 6 98 76 54 32"}],
        }
    ]
    patient["generalPractitioner"] = [{"display": "Dr Martin", "reference": "Practitioner/writer-side-id"}]
    patient["extension"].append(
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {"city": "Brest"}}
    )
    return patient


def sent_part(resource: dict[str, Any]) -> dict[str, Any]:
    """What the writer sent, out of an answer: the elements Carnet sets taken out."""
    kept = without_server_elements(resource)
    kept.pop("active", None)
    identifiers = [i for i in kept.pop("identifier", []) if i.get("system") != INS_SYSTEM]
    if identifiers:
        kept["identifier"] = identifiers
    return kept


def writer_part(sent: dict[str, Any]) -> dict[str, Any]:
    return sent_part(copy.deepcopy(sent))


@pytest.fixture
def doctor(client_for: Callable[..., TestClient], doctor_token: Callable[..., str]) -> Fhir:
    client = client_for()
    return Fhir(client, doctor_token(seed=12))


def card(doctor: Fhir, person: Person) -> dict[str, str]:
    return card_shown(doctor.client, doctor.token, person.card)


def test_a_written_patient_reads_back_as_sent_everywhere(doctor: Fhir, person: Person, runtime: Runtime) -> None:
    sent = written_patient(person, card(doctor, person))
    created = doctor.post("Patient", sent)
    assert created.status_code == 201, created.text
    body = created.json()
    pid = body["id"]
    assert body["extension"][-1]["url"] == EXT_ACTIVATION
    assert body["identifier"][0] == {"use": "official", "system": INS_SYSTEM, "value": person.ins}
    assert body["active"] is True and body["meta"]["versionId"] == "1"
    read = doctor.get(f"Patient/{pid}").json()
    found = doctor.get("Patient", identifier=f"{INS_SYSTEM}|{person.ins}").json()["entry"][0]["resource"]
    whole = doctor.get(f"Patient/{pid}/$everything").json()["entry"][0]["resource"]
    assert read == found == whole
    assert {**read, "extension": [*read["extension"], body["extension"][-1]]} == body
    assert sent_part(read) == writer_part(sent)
    assert read["address"] == [LIVED_ABROAD, HOME]  # the address abroad kept whole, the country not changed
    # Kept encrypted under the record's data key: the row holds no word of it.
    with runtime.unit_of_work() as ctx:
        row = ctx.session.get(Record, uuid.UUID(pid))
        assert row is not None and row.patient_resource_ct is not None
        assert b"Mountain View" not in row.patient_resource_ct and b"IPP-778899" not in row.patient_resource_ct


def test_decimals_of_a_patient_read_back_as_written(doctor: Fhir, person: Person) -> None:
    sent = new_patient(person, card(doctor, person))
    sent["extension"].append({"url": "http://example.org/StructureDefinition/weight-at-birth", "valueDecimal": 0})
    raw = json.dumps(sent, separators=(",", ":")).replace('"valueDecimal":0', '"valueDecimal":3.250').encode()
    headers = doctor.headers({"Content-Type": FHIR_JSON})
    created = checked(doctor.client.post("/fhir/Patient", content=raw, headers=headers))
    assert created.status_code == 201, created.text
    read = doctor.client.get(f"/fhir/Patient/{created.json()['id']}", headers=doctor.headers())
    assert b'"valueDecimal":3.250' in created.content and b'"valueDecimal":3.250' in read.content


def test_the_card_holders_ins_written_by_the_sender_is_kept_once(doctor: Fhir, person: Person) -> None:
    sent = new_patient(person, card(doctor, person))
    sent["identifier"] = [{"system": INS_SYSTEM, "value": person.ins, "use": "official", "type": {"text": "INS-NIR"}}]
    created = doctor.post("Patient", sent)
    assert created.status_code == 201, created.text
    assert doctor.get(f"Patient/{created.json()['id']}").json()["identifier"] == sent["identifier"]


def refusal(answer: Any) -> tuple[int, str, str]:
    issue = answer.json()["issue"][0]
    return answer.status_code, issue["expression"][0], issue["details"]["coding"][0]["code"]


def other_ins(ins: str) -> str:
    nir = ins[:12] + str((int(ins[12]) + 1) % 10)
    return nir + nir_key(nir)


def change(patient: dict[str, Any], **elements: Any) -> dict[str, Any]:
    changed = copy.deepcopy(patient)
    for name, value in elements.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    return changed


REFUSALS: list[tuple[str, dict[str, Any], tuple[int, str, str]]] = [
    ("unknown element", {"hairColour": "brown"}, (400, "Patient.hairColour", "invalid-resource")),
    ("a date that does not exist", {"birthDate": "1979-02-30"}, (400, "Patient.birthDate", "invalid-resource")),
    ("an address abroad only", {"address": [LIVED_ABROAD]}, (422, "Patient.address", "incomplete-identity")),
    ("no address", {"address": None}, (422, "Patient.address", "incomplete-identity")),
    (
        "a French address without postcode",
        {"address": [{"city": "Rennes", "country": "FRA"}]},
        (422, "Patient.address[0].postalCode", "incomplete-identity"),
    ),
    (
        "a postcode that is not French",
        {"address": [{"postalCode": "3999"}]},
        (422, "Patient.address[0].postalCode", "invalid-identity"),
    ),
    ("no family name", {"name": [{"given": ["Anne"]}]}, (422, "Patient.name[0].family", "incomplete-identity")),
    ("no name", {"name": None}, (422, "Patient.name", "incomplete-identity")),
    ("no gender", {"gender": None}, (422, "Patient.gender", "incomplete-identity")),
    ("a partial birth date", {"birthDate": "1979-06"}, (422, "Patient.birthDate", "incomplete-identity")),
    ("a birth date to come", {"birthDate": "2999-01-01"}, (422, "Patient.birthDate", "invalid-identity")),
    ("an inactive patient", {"active": False}, (422, "Patient.active", "inactive-patient")),
    (
        "a link to another patient",
        {"link": [{"other": {"reference": "Patient/pat2"}, "type": "seealso"}]},
        (422, "Patient.link[0]", "patient-link"),
    ),
    (
        "a reference to a patient",
        {"generalPractitioner": [{"reference": "Patient/someone"}]},
        (422, "Patient.generalPractitioner[0].reference", "other-patient"),
    ),
    (
        "a restricted label",
        {"meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}},
        (422, "Patient.meta.security[0]", "unknown-label"),
    ),
    (
        "an unreferenced contained resource",
        {"contained": [{"resourceType": "Organization", "id": "o1", "name": "Clinique"}]},
        (422, "Patient.contained[0]", "unreferenced-contained"),
    ),
]


@pytest.mark.parametrize(("why", "elements", "expected"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_what_carnet_cannot_honour_is_refused_naming_the_element_and_spends_nothing(
    doctor: Fhir, person: Person, why: str, elements: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    presented = card(doctor, person)
    answer = doctor.post("Patient", change(new_patient(person, presented), **elements))
    assert refusal(answer) == expected, (why, answer.text)
    # Nothing was opened and the card presentation is still good: the record opens with it once corrected.
    assert doctor.post("Patient", new_patient(person, presented)).status_code == 201


def test_an_ins_that_is_not_the_card_holders_is_refused_naming_the_identifier(doctor: Fhir, person: Person) -> None:
    presented = card(doctor, person)
    other = [{"system": "http://example.org/mrn", "value": "1"}, {"system": INS_SYSTEM, "value": other_ins(person.ins)}]
    answer = doctor.post("Patient", change(new_patient(person, presented), identifier=other))
    assert refusal(answer) == (422, "Patient.identifier[1].value", "ins-mismatch")
    malformed = [{"system": INS_SYSTEM, "value": "12345"}]
    answer = doctor.post("Patient", change(new_patient(person, presented), identifier=malformed))
    assert refusal(answer) == (422, "Patient.identifier[0].value", "invalid-ins")
    assert doctor.post("Patient", new_patient(person, presented)).status_code == 201  # rolled back, card still good


def test_carnets_own_extensions_are_not_the_writers_to_set(doctor: Fhir, person: Person) -> None:
    presented = card(doctor, person)
    sent = new_patient(person, presented)
    sent["extension"].append({"url": f"{CARNET}/StructureDefinition/activation-code", "valueString": "x"})
    assert refusal(doctor.post("Patient", sent)) == (422, "Patient.extension[1]", "carnet-extension")


def test_a_record_opened_at_a_desk_reads_as_its_identity(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    found = patient_record(ctx, Actor.patient(patient_id), patient_id)
    assert found.written is None
    assert patient_view(found) == patient_resource(patient_id, found.summary.ins, IDENTITY, True)


def test_destroying_the_record_leaves_no_patient_resource(ctx: Context) -> None:
    ins = new_ins()
    written = {"resourceType": "Patient", "telecom": [{"system": "phone", "value": "+33 6 12 34 56 78"}]}
    patient_id = open_record(
        ctx, SYSTEM, ins=ins, identity=IDENTITY, channel=Channel.PHARMACY, opened_by=finess(), patient_resource=written
    )
    found = patient_record(ctx, Actor.patient(patient_id), patient_id)
    assert found.written == written
    request_destruction(ctx, Actor.patient(patient_id), patient_id)
    destroy_record(ctx, SYSTEM, patient_id)
    row = ctx.session.get(Record, patient_id)
    assert row is not None and row.patient_resource_ct is None and row.identity_ct is None
