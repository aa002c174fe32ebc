"""Each bad input the FHIR API has a path for: a clear OperationOutcome with its code, and nothing stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carnet.fhir.codes import CONFIDENTIALITY_SYSTEM, LOINC
from carnet.identity.tokens import TokenIssuer
from tests.api.flows import card_shown
from tests.fhir.conftest import Fhir, Opened, channel, new_patient
from tests.fhir.documents import bundle, document
from tests.fhir.test_patient_controls import consent

Body = Callable[[str], Any]


def _without_data(pid: str) -> Any:
    sent = document(pid)
    del sent["content"][0]["attachment"]["data"]
    sent["content"][0]["attachment"]["url"] = "Binary/elsewhere"
    return sent


def _labelled(pid: str, code: str) -> Any:
    return {**document(pid), "meta": {"security": [{"system": CONFIDENTIALITY_SYSTEM, "code": code}]}}


def _replacing(pid: str, target: str, code: str = "replaces") -> Any:
    return document(pid, relatesTo=[{"code": code, "target": {"reference": f"DocumentReference/{target}"}}])


def _bundle(pid: str, change: Callable[[dict[str, Any]], None]) -> Any:
    sent = bundle(pid, count=1)
    change(sent)
    return sent


def _observation(pid: str, code: str) -> Any:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": {"value": 1},
    }


OTHER = str(uuid.uuid4())
CREATES: list[tuple[str, str, Body, int, str]] = [
    ("not an object", "DocumentReference", lambda p: [1, 2], 400, "not-a-resource"),
    ("content elsewhere", "DocumentReference", _without_data, 422, "invalid-content"),
    ("unknown label", "DocumentReference", lambda p: _labelled(p, "SECRET"), 422, "invalid-label"),
    ("hidden without a date", "DocumentReference", lambda p: _labelled(p, "INVISIBLE_PATIENT"), 422, "invalid-label"),
    ("replaces what is not a document", "DocumentReference", lambda p: _replacing(p, "nothing"), 404, "not-found"),
    (
        "transforms instead of replaces",
        "DocumentReference",
        lambda p: _replacing(p, "x.y", "transforms"),
        422,
        "invalid-relation",
    ),
    (
        "subject is not a patient",
        "DocumentReference",
        lambda p: document(p, subject={"reference": "Group/1"}),
        400,
        "invalid-reference",
    ),
    ("no status current", "DocumentReference", lambda p: document(p, status="superseded"), 422, "invalid-status"),
    ("a batch", "", lambda p: _bundle(p, lambda b: b.update(type="batch")), 400, "invalid-bundle-type"),
    ("no submission set", "", lambda p: _bundle(p, lambda b: b["entry"].pop(0)), 422, "missing-submission-set"),
    (
        "an orphan binary",
        "",
        lambda p: _bundle(p, lambda b: b["entry"].append({**b["entry"][2], "fullUrl": f"urn:uuid:{uuid.uuid4()}"})),
        422,
        "orphan-binary",
    ),
    ("a missing binary", "", lambda p: _bundle(p, lambda b: b["entry"].pop(2)), 422, "missing-binary"),
    (
        "an entry without request",
        "",
        lambda p: _bundle(p, lambda b: b["entry"][1].pop("request")),
        400,
        "invalid-entry",
    ),
    (
        "a patient in a bundle",
        "",
        lambda p: _bundle(
            p,
            lambda b: b["entry"].append(
                {"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}}
            ),
        ),
        422,
        "invalid-entry",
    ),
    (
        "two patients",
        "",
        lambda p: _bundle(p, lambda b: b["entry"].extend(bundle(OTHER, count=1)["entry"][1:])),
        422,
        "several-patients",
    ),
    (
        "an observation of another patient",
        "Observation",
        lambda p: {**_observation(p, "1234-5"), "performer": [{"reference": f"Patient/{OTHER}"}]},
        422,
        "other-patient",
    ),
    (
        "a quantity without value",
        "Observation",
        lambda p: {**_observation(p, "29463-7"), "valueQuantity": {"unit": "kg"}},
        422,
        "quantity-without-value",
    ),
    (
        "an unknown basic kind",
        "Basic",
        lambda p: {"resourceType": "Basic", "subject": {"reference": f"Patient/{p}"}, "code": {"text": "x"}},
        422,
        "unknown-kind",
    ),
    (
        "a vaccination in the future",
        "Immunization",
        lambda p: {
            "resourceType": "Immunization",
            "status": "completed",
            "patient": {"reference": f"Patient/{p}"},
            "vaccineCode": {"text": "DTP"},
            "occurrenceDateTime": "2999-01-01",
        },
        422,
        "invalid-date",
    ),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), [c[1:] for c in CREATES], ids=[c[0] for c in CREATES])
def test_a_bad_creation_is_refused_and_stores_nothing(
    opened: Opened, path: str, body: Body, status: int, code: str
) -> None:
    refused = opened.doctor.post(path, body(opened.patient_id))
    assert (refused.status_code, refused.json()["issue"][0]["details"]["coding"][0]["code"]) == (status, code), (
        refused.text
    )
    assert "entry" not in opened.doctor.get("DocumentReference", patient=opened.patient_id).json()
    assert "entry" not in opened.doctor.get(path or "DocumentReference", patient=opened.patient_id).json()


SEARCHES: list[tuple[str, str, dict[str, str], str]] = [
    ("no patient", "DocumentReference", {}, "missing-patient"),
    ("bad sort", "DocumentReference", {"_sort": "title"}, "invalid-parameter"),
    ("bad status", "DocumentReference", {"status": "lost"}, "invalid-parameter"),
    ("class of another system", "DocumentReference", {"category": "http://x|10"}, "unknown-system"),
    ("page of nothing", "DocumentReference", {"_count": "0"}, "invalid-parameter"),
    ("xml asked for", "DocumentReference", {"status": "current", "_format": "xml"}, "unsupported-format"),
    ("a patient not named", "Patient", {}, "missing-identifier"),
    ("a patient by another identifier", "Patient", {"identifier": "urn:oid:1.2.3|123"}, "unknown-system"),
    ("a reference that is none", "Condition", {"patient": "Group/abc"}, "invalid-reference"),
]


@pytest.mark.parametrize(("path", "params", "code"), [c[1:] for c in SEARCHES], ids=[c[0] for c in SEARCHES])
def test_a_bad_search_gets_400(opened: Opened, path: str, params: dict[str, str], code: str) -> None:
    if path != "Patient" and "patient" not in params and code != "missing-patient":
        params = {**params, "patient": opened.patient_id}
    refused = opened.doctor.get(path, **params)
    assert (refused.status_code, refused.json()["issue"][0]["details"]["coding"][0]["code"]) == (400, code)


def test_bad_updates_and_conditions(opened: Opened) -> None:
    created = opened.doctor.post("DocumentReference", document(opened.patient_id)).json()
    path = f"DocumentReference/{created['id']}"
    elsewhere = opened.doctor.put(path, {**created, "id": "x.y"})
    assert (elsewhere.status_code, elsewhere.json()["issue"][0]["details"]["coding"][0]["code"]) == (400, "id-mismatch")
    assert opened.doctor.put(path, created, headers={"If-Match": "yesterday"}).status_code == 400
    assert opened.doctor.put(path, {**created, "status": "superseded"}).status_code == 422
    condition = {"If-None-Exist": "type=11488-4"}
    assert opened.doctor.post("DocumentReference", document(opened.patient_id), headers=condition).status_code == 400
    assert opened.doctor.get(path).json()["meta"]["versionId"] == "1"  # nothing changed


def test_bad_consents_and_card_presentations(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient], doctor_token: Callable[..., str]
) -> None:
    pid = opened.patient_id
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    nobody = consent(pid, "permit")
    assert patient.post("Consent", nobody).json()["issue"][0]["details"]["coding"][0]["code"] == "invalid-consent"
    assert patient.delete(f"Consent/{pid}").status_code == 404
    kinds = [e["resource"]["id"].split(".")[1] for e in patient.get("Consent", patient=pid).json()["entry"]]
    assert kinds == [f"auth-{opened.doctor_rpps}"]
    client = client_for()
    token = doctor_token(seed=12)
    doctor = Fhir(client, token)
    card = card_shown(client, token, opened.person.card)
    broken = new_patient(opened.person, card)
    broken["extension"][0]["extension"].pop()  # no signature
    refused = doctor.post("Patient", broken)
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "invalid-card-presentation"
    elsewhere = doctor.post("Patient", new_patient(opened.person, card, extensions=[channel("by-post")]))
    assert elsewhere.json()["issue"][0]["details"]["coding"][0]["code"] == "invalid-channel"
