"""What clients do over HTTP, step by step, for the tests to reuse."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from carnet.identity.cards import Challenge, SimulatedCard
from carnet.notify.models import OutboxMessage
from carnet.notify.worker import message_content
from carnet.runtime import Runtime
from tests.http_fixtures import PASSWORD, Person, totp_now

IDENTITY = {
    "family_name": "Lefebvre",
    "given_names": "Anne",
    "birth_date": "1979-06-02",
    "sex": "F",
    "postcode": "35000",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def card_shown(client: httpx.Client, token: str, card: SimulatedCard) -> dict[str, str]:
    """The reader asks for a challenge, the card signs it: what the reader sends on."""
    response = client.post("/cards/challenges", headers=bearer(token))
    assert response.status_code == 201, response.text
    body = response.json()
    challenge = Challenge(
        uuid.UUID(body["challenge_id"]), base64.b64decode(body["nonce"]), datetime.fromisoformat(body["expires_at"])
    )
    signature = card.sign(challenge, body["reader"])
    return {
        "challenge_id": body["challenge_id"],
        "serial": card.serial,
        "signature": base64.b64encode(signature).decode(),
    }


def open_at_desk(client: TestClient, desk_token: str, person: Person) -> dict[str, Any]:
    card = card_shown(client, desk_token, person.card)
    response = client.post(
        "/records", headers=bearer(desk_token), json={"card": card, "identity": IDENTITY, "consent": True}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def activation(person: Person, code: str, login: str, **overrides: Any) -> dict[str, Any]:
    return {
        "nir": person.ins[:13],
        "card_serial": person.card.serial,
        "activation_code": code,
        "login": login,
        "password": PASSWORD,
        "second_factor": "totp",
        **overrides,
    }


def sign_in(client: httpx.Client, login: str, totp_uri: str, password: str = PASSWORD) -> None:
    first = client.post("/auth/login", json={"login": login, "password": password})
    assert first.status_code == 200, first.text
    second = client.post("/auth/login/second-factor", json={"code": totp_now(totp_uri)})
    assert second.status_code == 204, second.text


def new_login() -> str:
    return f"patient-{uuid.uuid4().hex[:10]}"


def outbox_text(runtime: Runtime, patient_id: uuid.UUID, kind: str) -> str:
    """The body of the one message of this kind waiting for the patient, as the worker would send it."""
    with runtime.unit_of_work() as ctx:
        row = ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.patient_id == patient_id, OutboxMessage.kind == kind)
        ).one()
        content = message_content(ctx, row)
    assert content is not None
    return content[1]
