"""Every failure under /fhir is an OperationOutcome with the right status; bad input stores nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.app import create_app
from carnet.identity.tokens import TokenIssuer
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.records.service import destroy_record, request_destruction
from carnet.runtime import Runtime
from tests.fhir.conftest import FHIR_JSON, Fhir, Opened, checked
from tests.fhir.documents import document
from tests.http_fixtures import BASE_URL, MASTER_KEY, make_settings


def code_of(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    return str(body["issue"][0]["details"]["coding"][0]["code"])


def raw_post(fhir: Fhir, path: str, content: bytes, content_type: str = FHIR_JSON) -> object:
    headers = {**fhir.headers(), "Content-Type": content_type}
    return checked(fhir.client.post(f"/fhir/{path}", content=content, headers=headers))


def test_malformed_input_gets_400_415_or_422(opened: Opened) -> None:
    doctor, pid = opened.doctor, opened.patient_id
    malformed = raw_post(doctor, "DocumentReference", b'{"resourceType": "DocumentReference",')
    assert (malformed.status_code, code_of(malformed)) == (400, "malformed-json")  # type: ignore[attr-defined]
    wrong_type = doctor.post("DocumentReference", {**document(pid), "resourceType": "Observation"})
    assert (wrong_type.status_code, code_of(wrong_type)) == (400, "wrong-resource-type")
    unknown = doctor.post("DocumentReference", {**document(pid), "colour": "blue"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["issue"][0]["diagnostics"]
    as_xml = raw_post(doctor, "DocumentReference", b"<DocumentReference/>", "application/fhir+xml")
    assert as_xml.status_code == 415  # type: ignore[attr-defined]
    unknown_class = document(pid)
    unknown_class["category"][0]["coding"][0]["code"] = "77"
    assert doctor.post("DocumentReference", unknown_class).status_code == 422
    assert "entry" not in doctor.get("DocumentReference", patient=pid).json()


def test_who_is_asking_and_what_the_token_allows(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    client = client_for()
    anonymous = checked(client.get(f"/fhir/Patient/{opened.patient_id}"))
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    narrow = issuer.for_professional(rpps=opened.doctor_rpps, profession="10", scopes=frozenset({"user/Patient.read"}))
    reader = Fhir(client, narrow)
    assert reader.get(f"Patient/{opened.patient_id}").status_code == 200
    refused = reader.get("DocumentReference", patient=opened.patient_id)
    assert (refused.status_code, code_of(refused)) == (403, "insufficient-scope")
    assert "insufficient_scope" in refused.headers["www-authenticate"]
    assert reader.get("Nothing/here").status_code == 404
    assert checked(client.delete(f"/fhir/Patient/{opened.patient_id}", headers=reader.headers())).status_code == 405


def test_conflicts_preconditions_and_a_destroyed_record(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient], runtime: Runtime
) -> None:
    sent = document(opened.patient_id)
    created = opened.doctor.post("DocumentReference", sent).json()
    assert opened.doctor.post("DocumentReference", sent).status_code == 409
    stale = opened.doctor.put(f"DocumentReference/{created['id']}", created, headers={"If-Match": 'W/"2"'})
    assert (stale.status_code, code_of(stale)) == (412, "version-conflict")
    patient_id = uuid.UUID(opened.patient_id)
    with runtime.unit_of_work() as ctx:
        request_destruction(ctx, Actor.patient(patient_id), patient_id)
        destroy_record(ctx, Actor.system("destruction"), patient_id)
    patient = Fhir(client_for(), issuer.for_patient(patient_id))
    assert patient.get(f"Patient/{opened.patient_id}").status_code == 410
    # The professional is told no more than for a record that never existed.
    assert opened.doctor.get(f"Patient/{opened.patient_id}").status_code == 404


def test_an_oversized_document_gets_413(
    http_database: str, tmp_path: Path, opened: Opened, issuer: TokenIssuer
) -> None:
    settings = make_settings(tmp_path, max_document_bytes=2000)
    engine = make_engine(http_database)
    small = create_app(
        Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="test"))
    )
    try:
        with TestClient(small, base_url=BASE_URL, raise_server_exceptions=False) as client:
            doctor = Fhir(client, opened.doctor.token)
            just_over = doctor.post("DocumentReference", document(opened.patient_id, content=b"x" * 2001))
            assert (just_over.status_code, code_of(just_over)) == (413, "too-large")
            huge = raw_post(doctor, "DocumentReference", b" " * (2000 * 4 // 3 + 1024 * 1024 + 1))
            assert huge.status_code == 413  # type: ignore[attr-defined]
    finally:
        engine.dispose()
