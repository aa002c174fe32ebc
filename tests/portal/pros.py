"""A professional signed in to their space over HTTP, and patients whose development card the portal can sign with."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from fastapi.testclient import TestClient

from carnet.identity.cards import SimulatedCard, development_card, register_card
from carnet.runtime import Runtime
from tests.factories import new_ins, open_test_record
from tests.http_fixtures import INSURER
from tests.portal.forms import post
from tests.portal.professionals import Listed, listed

Client = Callable[..., TestClient]
FIELD = re.compile(r'name="(challenge_id|nonce)" value="([^"]*)"')


@dataclass(frozen=True)
class Pro:
    client: TestClient
    listed: Listed


def pro(client_for: Client, runtime: Runtime, family: str = "Morel", profession: str = "10", lang: str = "fr") -> Pro:
    doctor = listed(runtime, family, profession)
    client = client_for()
    if lang == "en":
        client.cookies.set("carnet_lang", "en", domain="carnet.test")
    done = post(client, "/staff/sign-in/development", {"space": "professional", "rpps": doctor.rpps})
    assert done.status_code == 303 and done.headers["location"] == "/pro", done.text
    return Pro(client, doctor)


@dataclass(frozen=True)
class Holder:
    """An insured person whose card is the development card the portal's simulated reader signs with."""

    ins: str
    card: SimulatedCard
    patient_id: uuid.UUID | None


def holder(runtime: Runtime, *, with_record: bool = True) -> Holder:
    ins = new_ins()
    card = development_card(runtime.settings.data_dir, ins)
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
        patient_id = open_test_record(ctx, ins=ins) if with_record else None
    return Holder(ins, card, patient_id)


def challenge_of(html: str) -> dict[str, str]:
    found = dict(FIELD.findall(html))
    assert set(found) == {"challenge_id", "nonce"}, html[:2000]
    return found


def present_card(client: TestClient, ins: str) -> httpx.Response:
    """Read the card (the page with the reader's challenge), then let the simulated card sign it."""
    page = post(client, "/pro/card", {"ins": ins}, token_from="/pro")
    assert page.status_code == 200, page.text
    return post(
        client, "/pro/card/present", {"ins": ins, "simulate": "1", **challenge_of(page.text)}, token_from="/pro"
    )
