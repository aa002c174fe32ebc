"""Patient over FHIR: opening a record with the card, reading it, finding it by INS, and what others see."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from carnet.fhir.codes import INS_SYSTEM
from tests.api.flows import card_shown
from tests.fhir.conftest import Fhir, Opened, channel, new_patient
from tests.http_fixtures import Person


def test_a_doctor_opens_a_record_with_the_card_and_reads_it(opened: Opened) -> None:
    read = opened.doctor.get(f"Patient/{opened.patient_id}")
    assert read.status_code == 200
    patient = read.json()
    assert patient["identifier"] == [{"use": "official", "system": INS_SYSTEM, "value": opened.person.ins}]
    assert patient["name"][0]["family"] == "Lefebvre"
    assert patient["birthDate"] == "1979-06-02"
    assert len(opened.activation_code) > 10

    found = opened.doctor.get("Patient", identifier=f"{INS_SYSTEM}|{opened.person.ins}").json()
    assert found["type"] == "searchset"
    assert [e["resource"]["id"] for e in found["entry"]] == [opened.patient_id]


def test_another_doctor_finds_nothing_and_reads_nothing(
    opened: Opened, client_for: Callable[..., TestClient], doctor_token: Callable[..., str]
) -> None:
    stranger = Fhir(client_for(), doctor_token(seed=8))
    assert "entry" not in stranger.get("Patient", identifier=opened.person.ins).json()
    refused = stranger.get(f"Patient/{opened.patient_id}")
    missing = stranger.get(f"Patient/{uuid.uuid4()}")
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["issue"] == missing.json()["issue"]


def test_opening_needs_a_card_the_right_channel_and_a_full_identity(
    person: Person, client_for: Callable[..., TestClient], doctor_token: Callable[..., str]
) -> None:
    client = client_for()
    token = doctor_token(seed=9)
    doctor = Fhir(client, token)
    card = card_shown(client, token, person.card)
    no_card = new_patient(person, card)
    no_card["extension"] = []
    assert doctor.post("Patient", no_card).json()["issue"][0]["details"]["coding"][0]["code"] == "card-required"
    wrong_channel = doctor.post("Patient", new_patient(person, card, extensions=[channel("pharmacy")]))
    assert wrong_channel.status_code == 422
    assert wrong_channel.json()["issue"][0]["details"]["coding"][0]["code"] == "invalid-channel"
    no_birth = new_patient(person, card)
    del no_birth["birthDate"]
    assert doctor.post("Patient", no_birth).status_code == 422
    # The channel a professional with an organisation may name: the hospital.
    opened = doctor.post("Patient", new_patient(person, card, extensions=[channel("hospital")]))
    assert opened.status_code == 201, opened.text
