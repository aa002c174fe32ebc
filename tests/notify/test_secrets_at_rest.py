"""Nothing that grants access sits readable in the database: read as a superuser would, row by row.

Whoever holds a copy of the database (a backup, a replica, an operator's SQL) must find no sign-in code,
reset link or activation code in it; and a delivered or dead message keeps not even its ciphertext.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from carnet.identity.tokens import TokenIssuer
from carnet.kit import clock
from carnet.kit.db import make_engine
from carnet.notify.models import OutboxMessage
from carnet.notify.worker import Outgoing, run_worker
from carnet.runtime import Runtime
from tests.api.flows import activation, open_at_desk, outbox_text
from tests.http_fixtures import PASSWORD, Person

Client = Callable[..., TestClient]


@dataclass
class Collecting:
    """The e-mail provider's side of the boundary: what it was handed."""

    sent: list[Outgoing] = field(default_factory=list)

    def send(self, message: Outgoing) -> None:
        self.sent.append(message)


def database_text(url: str) -> str:
    """Every row of every table of the application, as text: what a superuser's dump would show."""
    engine = make_engine(url, role=None)
    try:
        with engine.connect() as connection:
            tables = connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            ).all()
            rows = [
                str(row)
                for table in tables
                for row in connection.scalars(text(f'SELECT t::text FROM "{table}" t'))  # noqa: S608 - catalog names
            ]
    finally:
        engine.dispose()
    return "\n".join(rows)


def _messages(runtime: Runtime, patient_id: uuid.UUID, kind: str) -> list[OutboxMessage]:
    with runtime.unit_of_work() as ctx:
        found = ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.patient_id == patient_id, OutboxMessage.kind == kind)
        ).all()
        ctx.session.expunge_all()
    return list(found)


@pytest.fixture
def account(client_for: Client, issuer: TokenIssuer, person: Person) -> tuple[TestClient, uuid.UUID, str, str]:
    client = client_for()
    opened = open_at_desk(client, issuer.for_desk("AGENT42"), person)
    login = f"{uuid.uuid4().hex[:8]}@example.org"
    form = activation(person, opened["activation_code"], login, second_factor="email", email=login)
    assert client.post("/auth/activate", json=form).status_code == 201
    return client, uuid.UUID(opened["patient_id"]), login, opened["activation_code"]


def test_codes_and_reset_links_are_nowhere_in_clear(
    account: tuple[TestClient, uuid.UUID, str, str], runtime: Runtime, http_database: str, person: Person
) -> None:
    client, patient_id, login, activation_code = account
    assert client.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    assert client.post("/auth/recovery", json={"login": login}).status_code == 202
    code = outbox_text(runtime, patient_id, "sign-in-code").split(" : ")[1][:6]
    link = outbox_text(runtime, patient_id, "recovery").split("#")[1]
    dump = database_text(http_database)
    assert str(patient_id) in dump and person.card.serial in dump  # the scan does read the rows
    for secret in (f"Carnet : {code}", link, activation_code, activation_code.replace("-", "")):
        assert secret not in dump
    # What is stored is still what the patient receives: the link read back resets the password.
    new_password = "nuage-orange-pivert-77"
    assert client.post("/auth/recovery/complete", json={"token": link, "password": new_password}).status_code == 204


def test_a_delivered_message_keeps_no_content_and_an_expired_one_is_never_sent(
    account: tuple[TestClient, uuid.UUID, str, str], runtime: Runtime
) -> None:
    client, patient_id, login, _ = account
    assert client.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    assert client.post("/auth/recovery", json={"login": login}).status_code == 202
    (code_message,) = _messages(runtime, patient_id, "sign-in-code")
    with runtime.unit_of_work() as ctx:  # the reset link waited past its hour: its secret is dead
        ctx.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.patient_id == patient_id, OutboxMessage.kind == "recovery")
            .values(expires_at=clock.now() - timedelta(seconds=1))
        )
    provider = Collecting()
    run_worker(runtime.sessions, runtime.keys, {"email": provider, "sms": provider}, once=True, interval=0.1)
    delivered = [m for m in provider.sent if m.message_id == code_message.message_id]
    assert len(delivered) == 1 and "code de connexion" in delivered[0].body
    assert not any("mot de passe" in m.subject for m in provider.sent if m.recipient == login)
    (sent,) = _messages(runtime, patient_id, "sign-in-code")
    (expired,) = _messages(runtime, patient_id, "recovery")
    assert (sent.state, sent.content_ct) == ("sent", None)
    assert (expired.state, expired.content_ct) == ("failed", None)
    assert expired.last_error is not None and "expired" in expired.last_error
