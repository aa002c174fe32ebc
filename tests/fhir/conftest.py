"""FHIR API tests: the real application over HTTP; every response body is checked against the FHIR models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from carnet.fhir.codes import EXT_CARD, EXT_CHANNEL
from carnet.fhir.wire import model_of
from carnet.identity.tokens import TokenIssuer
from tests.api.flows import bearer, card_shown
from tests.factories import finess, rpps
from tests.http_fixtures import Person

FHIR_JSON = "application/fhir+json"


def checked(response: Response) -> Response:
    """Every answer of /fhir is FHIR JSON that validates, success or failure."""
    assert response.headers["content-type"].startswith(FHIR_JSON), (response.status_code, response.text)
    body = response.json()
    model_of(body["resourceType"]).model_validate(body)
    if response.status_code >= 400:
        assert body["resourceType"] == "OperationOutcome", body
    return response


class Fhir:
    """A FHIR caller with one token; each answer is validated before the test sees it."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**bearer(self.token), "Accept": FHIR_JSON, **(extra or {})}

    def get(self, path: str, **params: Any) -> Response:
        return checked(self.client.get(f"/fhir/{path}", params=params, headers=self.headers()))

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Response:
        extra = {"Content-Type": FHIR_JSON, **(headers or {})}
        return checked(self.client.post(f"/fhir/{path}", json=body, headers=self.headers(extra)))

    def put(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Response:
        extra = {"Content-Type": FHIR_JSON, **(headers or {})}
        return checked(self.client.put(f"/fhir/{path}", json=body, headers=self.headers(extra)))

    def delete(self, path: str) -> Response:
        return checked(self.client.delete(f"/fhir/{path}", headers=self.headers()))


def new_patient(person: Person, card: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"family": "Lefebvre", "given": ["Anne"]}],
        "gender": "female",
        "birthDate": "1979-06-02",
        "address": [{"postalCode": "35000"}],
        "extension": [
            {
                "url": EXT_CARD,
                "extension": [
                    {"url": "challenge", "valueString": card["challenge_id"]},
                    {"url": "serial", "valueString": card["serial"]},
                    {"url": "signature", "valueBase64Binary": card["signature"]},
                ],
            },
            *extra.get("extensions", []),
        ],
    }


def channel(code: str) -> dict[str, str]:
    return {"url": EXT_CHANNEL, "valueCode": code}


@dataclass
class Opened:
    """A record a doctor opened with the patient's card through the FHIR API; the doctor is authorised."""

    patient_id: str
    person: Person
    doctor: Fhir
    doctor_rpps: str
    activation_code: str


@pytest.fixture
def doctor_token(issuer: TokenIssuer) -> Callable[..., str]:
    def make(seed: int = 7, profession: str = "10", **extra: Any) -> str:
        return issuer.for_professional(rpps=rpps(seed), profession=profession, organisation=finess(seed), **extra)

    return make


@pytest.fixture
def opened(client_for: Callable[..., TestClient], person: Person, doctor_token: Callable[..., str]) -> Opened:
    client = client_for()
    token = doctor_token()
    card = card_shown(client, token, person.card)
    doctor = Fhir(client, token)
    response = doctor.post("Patient", new_patient(person, card))
    assert response.status_code == 201, response.text
    body = response.json()
    code = body["extension"][0]["extension"][0]["valueString"]
    return Opened(body["id"], person, doctor, rpps(7), code)
