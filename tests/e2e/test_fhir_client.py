"""End to end with a FHIR client written by others (fhirpy), against Carnet served by uvicorn over real HTTP.

A doctor opens a record with the patient's card, deposits a document bundle, searches, reads the Binary; the
patient signs in, authorises a second doctor, masks the document; the second doctor no longer sees it; the
patient reads who accessed the record.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fhirpy import SyncFHIRClient

from carnet.app import create_app
from carnet.fhir.codes import CONFIDENTIALITY_SYSTEM, MASKED, RPPS_SYSTEM
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.runtime import Runtime
from tests.api import flows
from tests.api.flows import card_shown
from tests.factories import finess, rpps
from tests.fhir.conftest import new_patient
from tests.fhir.documents import TEXT, bundle
from tests.fhir.test_patient_controls import consent
from tests.http_fixtures import MASTER_KEY, Person, make_settings


@pytest.fixture
def server(http_database: str, tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(tmp_path, cookie_secure=False, public_url=url)
    engine = make_engine(http_database)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="test"))
    served = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield url, runtime
    served.should_exit = True
    thread.join(10)
    engine.dispose()


def test_a_practice_software_and_a_patient_app_through_fhirpy(server: tuple[str, Runtime], person: Person) -> None:
    url, runtime = server
    web = create_app(runtime).state.web
    doctor_token = web.issuer.for_professional(rpps=rpps(41), profession="10", organisation=finess(41))
    with httpx.Client(base_url=url) as http:
        doctor = SyncFHIRClient(f"{url}/fhir", authorization=f"Bearer {doctor_token}")
        # The patient presents their card: the doctor's software opens the record.
        opened = doctor.resource("Patient", **new_patient(person, card_shown(http, doctor_token, person.card)))
        opened.save()
        pid = opened["id"]
        code = opened["extension"][0]["extension"][0]["valueString"]
        # A document bundle, then a search, then the content.
        answer = doctor.execute("", method="post", data=bundle(pid, count=1))
        assert answer["type"] == "transaction-response"
        found = doctor.resources("DocumentReference").search(patient=pid).fetch_all()
        assert len(found) == 1
        document_id = found[0]["id"]
        content = http.get(f"/fhir/Binary/{document_id}", headers={"Authorization": f"Bearer {doctor_token}"})
        assert content.content == TEXT

        # The patient activates their account, signs in, and gets a token for their app.
        login = f"patient-{uuid.uuid4().hex[:8]}"
        activation = http.post("/auth/activate", json=flows.activation(person, code, login))
        assert activation.status_code == 201, activation.text
        flows.sign_in(http, login, activation.json()["totp_uri"])
        patient_token = http.post("/auth/token").json()["access_token"]
        patient = SyncFHIRClient(f"{url}/fhir", authorization=f"Bearer {patient_token}")

        # The patient authorises a second doctor, who reads the document...
        second_token = web.issuer.for_professional(rpps=rpps(42), profession="10")
        second = SyncFHIRClient(f"{url}/fhir", authorization=f"Bearer {second_token}")
        patient.resource("Consent", **consent(pid, "permit", rpps_value=rpps(42))).save()
        assert [d["id"] for d in second.resources("DocumentReference").search(patient=pid).fetch_all()] == [document_id]

        # ...until the patient masks it.
        mine = patient.reference("DocumentReference", document_id).to_resource()
        mine["meta"]["security"] = [{"system": CONFIDENTIALITY_SYSTEM, "code": MASKED}]
        mine.save()
        assert second.resources("DocumentReference").search(patient=pid).fetch_all() == []
        assert doctor.resources("DocumentReference").search(patient=pid).fetch_all()  # its author still sees it

        # The patient reads who accessed the record.
        trail = patient.resources("AuditEvent").search(patient=pid).limit(100).fetch()
        readers = {
            e["agent"][0]["who"].get("identifier", {}).get("value")
            for e in trail
            if e["agent"][0]["who"].get("identifier", {}).get("system") == RPPS_SYSTEM
        }
        assert {rpps(41), rpps(42)} <= readers
