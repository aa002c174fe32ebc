"""A Patient resource refused for its content leaves the card's challenge it carried good for the next try."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.api.flows import bearer, card_shown
from tests.fhir.conftest import new_patient
from tests.http_fixtures import Person


def test_a_bad_patient_resource_is_refused_and_the_challenge_still_serves(
    client_for: Callable[..., TestClient], person: Person, doctor_token: Callable[..., str]
) -> None:
    client, token = client_for(), doctor_token()
    headers = {**bearer(token), "Content-Type": "application/fhir+json"}
    shown = card_shown(client, token, person.card)
    sent: dict[str, Any] = new_patient(person, shown)
    bad = {**sent, "birthDate": "2099-01-01"}
    refused = client.post("/fhir/Patient", headers=headers, json=bad)
    assert refused.status_code == 422, refused.text
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert client.post("/fhir/Patient", headers=headers, json=sent).status_code == 201
