"""The CapabilityStatement tells the truth: each interaction, search parameter and operation it lists answers,
and every route under /fhir is listed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.feeds.schemas import ReimbursementLine
from carnet.feeds.service import add_reimbursements
from carnet.fhir.capability import SERVED
from carnet.fhir.codes import INS_SYSTEM, LOINC, RPPS_SYSTEM, URI
from carnet.fhir.profile import EXT_FIELD, KIND_SYSTEM, PROFESSION_SYSTEM
from carnet.identity.tokens import TokenIssuer
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.fhir.conftest import Fhir, Opened, checked
from tests.fhir.documents import bundle, document

FEED = Actor.system("insurer-feed")


def feed(runtime: Runtime, patient_id: str) -> None:
    line = ReimbursementLine(
        claim_ref=f"C{uuid.uuid4().hex[:12]}",
        service_date=clock.today(),
        code_system="NGAP",
        code="G",
        label="Consultation de médecine générale",
        amount_cents=3000,
        reimbursed_cents=2100,
        prescriber="Dr Martin",
    )
    with runtime.unit_of_work() as ctx:
        add_reimbursements(ctx, FEED, uuid.UUID(patient_id), [line])


def samples(pid: str, rpps: str) -> dict[str, dict[str, Any]]:
    subject = {"reference": f"Patient/{pid}"}
    return {
        "DocumentReference": document(pid),
        "AllergyIntolerance": {
            "resourceType": "AllergyIntolerance",
            "patient": subject,
            "code": {"text": "pénicilline"},
        },
        "Condition": {"resourceType": "Condition", "subject": subject, "code": {"text": "asthme"}},
        "Observation": {
            "resourceType": "Observation",
            "status": "final",
            "subject": subject,
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
            "effectiveDateTime": "2026-01-10",
            "valueQuantity": {"value": 64.5, "unit": "kg"},
        },
        "MedicationStatement": {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Ventoline"},
        },
        "MedicationRequest": {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Amoxicilline 1 g"},
            "authoredOn": "2026-02-01",
        },
        "MedicationDispense": {
            "resourceType": "MedicationDispense",
            "status": "completed",
            "subject": subject,
            "medicationCodeableConcept": {"text": "Amoxicilline 1 g"},
            "whenHandedOver": "2026-02-02",
        },
        "Immunization": {
            "resourceType": "Immunization",
            "status": "completed",
            "patient": subject,
            "vaccineCode": {"text": "DTP"},
            "occurrenceDateTime": "2015-03-01",
        },
        "RelatedPerson": {
            "resourceType": "RelatedPerson",
            "patient": subject,
            "name": [{"text": "Paul Dupont"}],
            "relationship": [{"text": "frère"}],
            "telecom": [{"system": "phone", "value": "0612345678"}],
        },
        "Procedure": {
            "resourceType": "Procedure",
            "status": "completed",
            "subject": subject,
            "code": {"text": "appendicectomie"},
        },
        "FamilyMemberHistory": {
            "resourceType": "FamilyMemberHistory",
            "status": "completed",
            "patient": subject,
            "relationship": {"text": "mère"},
            "condition": [{"code": {"text": "diabète de type 2"}}],
        },
        "CareTeam": {
            "resourceType": "CareTeam",
            "subject": subject,
            "participant": [
                {"role": [{"coding": [{"system": PROFESSION_SYSTEM, "code": "40"}]}], "member": {"display": "Dr Petit"}}
            ],
        },
        "Basic": {
            "resourceType": "Basic",
            "subject": subject,
            "code": {"coding": [{"system": KIND_SYSTEM, "code": "organ_donation"}]},
            "extension": [{"url": f"{EXT_FIELD}choice", "valueString": "accepts"}],
        },
        "Consent": {
            "resourceType": "Consent",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
            "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
            "patient": subject,
            "provision": {
                "type": "permit",
                "actor": [
                    {
                        "role": {"text": "soignant"},
                        "reference": {"identifier": {"system": RPPS_SYSTEM, "value": "10000000090"}},
                    }
                ],
            },
        },
    }


def examples(name: str, pid: str, ins: str, rpps: str, master: str) -> dict[str, str]:
    return {
        "patient": f"Patient/{pid}",
        "identifier": f"{INS_SYSTEM}|{ins}" if name == "Patient" else f"{URI}|{master}",
        "category": "10",
        "type": "11488-4",
        "date": "ge2020-01-01",
        "status": "current",
        "author": f"{RPPS_SYSTEM}|{rpps}",
        "_lastUpdated": "ge2020-01-01",
        "_sort": "-date",
        "_count": "5",
        "_offset": "0",
    }


def test_the_statement_lists_only_what_answers(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient], runtime: Runtime, app: FastAPI
) -> None:
    client = client_for()
    statement = checked(client.get("/fhir/metadata")).json()
    assert statement["fhirVersion"] == "4.0.1"
    pid, doctor = opened.patient_id, opened.doctor
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    operator = Fhir(client_for(), issuer.for_operator(uuid.uuid4()))
    feed(runtime, pid)
    bodies = samples(pid, opened.doctor_rpps)
    ids: dict[str, str] = {"Patient": pid}
    called: set[tuple[str, str]] = set()
    for entry in statement["rest"][0]["resource"]:
        name = entry["type"]
        caller = patient if name == "Consent" else doctor
        for interaction in (i["code"] for i in entry["interaction"]):
            called.add((name, interaction))
            if interaction == "create" and name != "Patient":  # Patient create is walked in test_patient
                made = caller.post(name, bodies[name])
                assert made.status_code == 201, (name, made.text)
                ids[name] = made.json()["id"]
        if name == "Binary":
            ids["Binary"] = ids["DocumentReference"]
        if name == "ExplanationOfBenefit":
            ids[name] = doctor.get(name, patient=pid).json()["entry"][0]["resource"]["id"]
        for interaction in (i["code"] for i in entry["interaction"]):
            path = f"{name}/{ids.get(name, '')}"
            if interaction == "read":
                assert caller.get(path).status_code == 200, (name, interaction)
            elif interaction == "vread":
                assert caller.get(f"{path}/_history/1").status_code == 200
            elif interaction == "history-instance":
                assert caller.get(f"{path}/_history").json()["type"] == "history"
            elif interaction == "update":
                current = caller.get(path).json()
                assert (
                    caller.put(path, current, headers={"If-Match": f'W/"{current["meta"]["versionId"]}"'}).status_code
                    == 200
                )
            elif interaction == "delete":
                assert client.delete(f"/fhir/{path}", headers=caller.headers()).status_code == 204
            elif interaction == "search-type":
                reader = operator if name == "AuditEvent" else caller
                master = bodies["DocumentReference"]["masterIdentifier"]["value"]
                values = examples(name, pid, opened.person.ins, opened.doctor_rpps, master)
                for param in entry.get("searchParam", []):
                    key = "author:identifier" if param["name"] == "author" else param["name"]
                    query = {key: values[param["name"]]}
                    if param["name"] != "patient" and name != "Patient":
                        query["patient"] = pid
                    if name == "Patient":
                        query["identifier"] = values["identifier"]
                    found = reader.get(name, **query)
                    assert found.status_code == 200, (name, param["name"], found.text)
                    assert found.json()["type"] == "searchset"
                    if param["name"] in ("patient", "identifier") and name not in ("AuditEvent",):
                        assert found.json().get("entry"), (name, param["name"])
            elif interaction != "create":
                raise AssertionError(f"the test does not know how to call {interaction}")
    # The operation, once the record holds one of everything.
    for operation in statement["rest"][0]["resource"][0].get("operation", []):
        assert operation["name"] == "everything"
        whole = doctor.get(f"Patient/{pid}/$everything").json()
        kinds = {e["resource"]["resourceType"] for e in whole["entry"]}
        assert {"Patient", "DocumentReference", "ExplanationOfBenefit", *SERVED} - {
            "Binary",
            "Consent",
            "AuditEvent",
        } <= kinds
        called.add(("Patient", "$everything"))
    assert ("Patient", "$everything") in called
    assert [i["code"] for i in statement["rest"][0]["interaction"]] == ["transaction"]
    assert doctor.post("", bundle(pid, count=1)).status_code == 200
    listed = {(name, code) for name, (codes, _, _) in SERVED.items() for code in codes}
    assert listed <= called
    # Every route under /fhir belongs to a listed resource (or is the base or the metadata).
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/fhir/"):
            first = path.removeprefix("/fhir/").split("/")[0]
            assert first in SERVED or first == "metadata", path
