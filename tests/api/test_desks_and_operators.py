"""Desks and counters open records for a patient who shows their card; operators sign in; neither reads content."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pyotp
import pytest
from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.identity.cards import SimulatedCard
from carnet.identity.operators import create_operator
from carnet.identity.tokens import TokenIssuer
from carnet.kit.errors import NotFound
from carnet.records.documents import list_documents
from carnet.records.models import Record
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from tests.api.flows import IDENTITY, activation, bearer, card_shown, new_login, open_at_desk
from tests.factories import finess, rpps
from tests.http_fixtures import PASSWORD, Person, totp_now

Client = Callable[..., TestClient]
PHARMACIST = rpps(601)


def test_a_desk_agent_opens_a_record_but_reads_nothing(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client, desk = client_for(), issuer.for_desk("AGENT99", "CPAM44")
    opened = open_at_desk(client, desk, person)
    patient_id = uuid.UUID(opened["patient_id"])
    assert opened["authorisation"] is None and len(opened["activation_code"]) == 14
    with runtime.unit_of_work() as ctx:
        record = ctx.session.get(Record, patient_id)
        assert record is not None and (record.channel, record.opened_by) == ("insurance_desk", "AGENT99")
    # The card shown again at the desk authorises nobody: a desk is not a health professional.
    refused = client.post("/cards/presentations", headers=bearer(desk), json=card_shown(client, desk, person.card))
    assert refused.status_code == 404
    with runtime.unit_of_work() as ctx, pytest.raises(NotFound):
        list_documents(ctx, Actor.desk("AGENT99"), patient_id, DocumentQuery())


def test_a_pharmacist_opens_at_the_counter_and_is_authorised(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    token = issuer.for_professional(rpps=PHARMACIST, profession="21", organisation=finess(21))
    shown = card_shown(client, token, person.card)
    opened = client.post("/records", headers=bearer(token), json={"card": shown, "identity": IDENTITY, "consent": True})
    assert opened.status_code == 201, opened.text
    assert opened.json()["authorisation"]["granted_via"] == "card"
    patient_id = uuid.UUID(opened.json()["patient_id"])
    with runtime.unit_of_work() as ctx:
        record = ctx.session.get(Record, patient_id)
        assert record is not None and (record.channel, record.opened_by) == ("pharmacy", finess(21))
        list_documents(ctx, Actor.professional(PHARMACIST, "21", finess(21)), patient_id, DocumentQuery())
    again = card_shown(client, token, person.card)
    duplicate = client.post(
        "/records", headers=bearer(token), json={"card": again, "identity": IDENTITY, "consent": True}
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate-record")


def test_cards_that_do_not_prove_presence_are_refused(client_for: Client, issuer: TokenIssuer, person: Person) -> None:
    client, desk = client_for(), issuer.for_desk("AGENT12")
    shown = card_shown(client, desk, SimulatedCard(person.card.serial, SimulatedCard.new("X" * 10).private_key))
    other = client.post("/records", headers=bearer(desk), json={"card": shown, "identity": IDENTITY, "consent": True})
    assert (other.status_code, other.json()["code"]) == (403, "bad-card")  # signed by another card
    shown = card_shown(client, desk, person.card)
    assert (
        client.post(
            "/records", headers=bearer(desk), json={"card": shown, "identity": IDENTITY, "consent": True}
        ).status_code
        == 201
    )
    replay = client.post("/records/activation-codes", headers=bearer(desk), json=shown)
    assert (replay.status_code, replay.json()["code"]) == (403, "bad-challenge")
    no_consent = client.post(
        "/records", headers=bearer(desk), json={"card": card_shown(client, desk, person.card), "identity": IDENTITY}
    )
    assert no_consent.status_code == 422
    patient = issuer.for_patient(uuid.uuid4())
    assert client.post("/cards/challenges", headers=bearer(patient)).status_code == 403


def test_a_new_activation_code_replaces_a_lost_account(client_for: Client, issuer: TokenIssuer, person: Person) -> None:
    client, desk = client_for(), issuer.for_desk("AGENT13")
    first = open_at_desk(client, desk, person)["activation_code"]
    login = new_login()
    assert client.post("/auth/activate", json=activation(person, first, login)).status_code == 201
    renewed = client.post("/records/activation-codes", headers=bearer(desk), json=card_shown(client, desk, person.card))
    assert renewed.status_code == 201
    fresh = renewed.json()["activation_code"]
    uri = client.post("/auth/activate", json=activation(person, fresh, login)).json()["totp_uri"]
    assert client.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    assert client.post("/auth/login/second-factor", json={"code": totp_now(uri)}).status_code == 204


def test_operators_sign_in_with_password_and_totp_and_read_no_record(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    login = f"ops-{uuid.uuid4().hex[:8]}"
    with runtime.unit_of_work() as ctx:
        created = create_operator(ctx, login=login, password=PASSWORD, roles=["statistics", "audit"])
    client = client_for()
    code = totp_now(pyotp.TOTP(created.totp_secret).provisioning_uri(name=login))
    wrong = client.post("/operator/login", json={"login": login, "password": PASSWORD, "code": "12345"})
    assert wrong.status_code == 401
    assert client.post("/operator/login", json={"login": login, "password": PASSWORD, "code": code}).status_code == 204
    assert client.get("/operator/session").json() == {
        "kind": "operator",
        "patient_id": None,
        "login": login,
        "roles": ["audit", "statistics"],
        "expires_at": None,
    }
    assert client.get("/auth/session").status_code == 401  # an operator's session is not a patient's
    patient_id = uuid.UUID(open_at_desk(client, issuer.for_desk("AGENT14"), person)["patient_id"])
    with runtime.unit_of_work() as ctx, pytest.raises(NotFound):
        list_documents(ctx, Actor.operator(created.id), patient_id, DocumentQuery())
    assert client.post("/operator/logout").status_code == 204
    assert client.get("/operator/session").status_code == 401


def test_strangers_failing_against_an_operator_lock_only_themselves(client_for: Client, runtime: Runtime) -> None:
    """Item 8 of issue 11 for operators too: the name alone never locks, the guesser's address does."""
    login = f"ops-{uuid.uuid4().hex[:8]}"
    with runtime.unit_of_work() as ctx:
        created = create_operator(ctx, login=login, password=PASSWORD, roles=["audit"])
    attacker = client_for()
    answers = [
        attacker.post("/operator/login", json={"login": login, "password": f"guess-{n}", "code": "000000"}).status_code
        for n in range(12)
    ]
    assert answers[0] == 401 and answers[-1] == 429, answers
    code = totp_now(pyotp.TOTP(created.totp_secret).provisioning_uri(name=login))
    right = {"login": login, "password": PASSWORD, "code": code}
    assert attacker.post("/operator/login", json=right).status_code == 429  # locked: not even the right one
    operator = client_for()  # the operator at their own desk is not kept out
    assert operator.post("/operator/login", json=right).status_code == 204


def test_an_operators_totp_code_is_spent_once_used(client_for: Client, runtime: Runtime) -> None:
    login = f"ops-{uuid.uuid4().hex[:8]}"
    with runtime.unit_of_work() as ctx:
        created = create_operator(ctx, login=login, password=PASSWORD, roles=["audit"])
    code = totp_now(pyotp.TOTP(created.totp_secret).provisioning_uri(name=login))
    right = {"login": login, "password": PASSWORD, "code": code}
    assert client_for().post("/operator/login", json=right).status_code == 204
    assert client_for().post("/operator/login", json=right).status_code == 401  # the same code, again
