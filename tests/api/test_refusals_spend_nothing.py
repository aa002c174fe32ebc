"""A refused request spends nothing: the card's challenge, the activation code, the reset link stay good.

Each bad input answers 4xx with a sentence naming the field, and the single-use thing it came with works
on the next, corrected, request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from carnet.identity.tokens import TokenIssuer
from carnet.runtime import Runtime
from tests.api.flows import IDENTITY, activation, bearer, card_shown, new_login, open_at_desk, outbox_text
from tests.http_fixtures import Person

Client = Callable[..., TestClient]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"postcode": "2A004"}, "postcode"),  # a commune code, not a postcode
        ({"postcode": "99999"}, "postcode"),
        ({"family_name": ""}, "family_name"),
        ({"given_names": "   "}, "given_names"),
        ({"birth_date": "2099-01-01"}, "birth_date"),
        ({"birth_date": "2023-02-30"}, "birth_date"),
        ({"sex": "X"}, "sex"),
    ],
)
def test_a_bad_identity_at_the_desk_is_refused_and_the_challenge_still_serves(
    client_for: Client, issuer: TokenIssuer, person: Person, change: dict[str, str], field: str
) -> None:
    client, desk = client_for(), issuer.for_desk("AGENT77", "CPAM35")
    shown = card_shown(client, desk, person.card)
    refused = client.post(
        "/records", headers=bearer(desk), json={"card": shown, "identity": {**IDENTITY, **change}, "consent": True}
    )
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["message"]
    opened = client.post("/records", headers=bearer(desk), json={"card": shown, "identity": IDENTITY, "consent": True})
    assert opened.status_code == 201, opened.text


def test_a_weak_new_password_leaves_the_reset_link_usable(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    opened = open_at_desk(client, issuer.for_desk("AGENT42"), person)
    login = new_login()
    form = activation(person, opened["activation_code"], login, email=f"{login}@example.org")
    assert client.post("/auth/activate", json=form).status_code == 201
    assert client.post("/auth/recovery", json={"login": login}).status_code == 202
    link = outbox_text(runtime, uuid.UUID(opened["patient_id"]), "recovery").split("#")[1]
    weak = client.post("/auth/recovery/complete", json={"token": link, "password": "azertyuiop"})
    assert weak.status_code == 422, weak.text
    good = client.post("/auth/recovery/complete", json={"token": link, "password": "nuage-orange-pivert-77"})
    assert good.status_code == 204, good.text
