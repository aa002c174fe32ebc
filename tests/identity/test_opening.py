"""Opening one's record online (identity.opening), on the services: the code reaches the contact the card
registry holds, through the outbox's worker; the record opens with channel `online`; nothing leaks before."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select

from carnet.identity import opening
from carnet.identity.cards import SimulatedCard, register_card
from carnet.identity.models import OnlineOpening, VitaleCard
from carnet.kit.errors import Invalid, Unauthenticated
from carnet.notify.models import OutboxMessage
from carnet.notify.worker import Outgoing, run_worker
from carnet.records.models import Record
from carnet.runtime import Runtime
from tests.factories import new_ins
from tests.http_fixtures import INSURER, PASSWORD

ADDRESS = "192.0.2.77"


@dataclass
class Collecting:
    sent: list[Outgoing] = field(default_factory=list)

    def send(self, message: Outgoing) -> None:
        self.sent.append(message)


def _card(runtime: Runtime, email: str | None) -> tuple[str, str]:
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key(), email=email)
    return ins, card.serial


def test_the_code_reaches_the_registered_contact_and_the_record_opens_online(runtime: Runtime) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    ins, serial = _card(runtime, email)
    with runtime.unit_of_work() as ctx:
        card = ctx.session.get(VitaleCard, serial)
        assert card is not None and card.contact_email_ct is not None
        assert email.encode() not in card.contact_email_ct  # encrypted under the card's own key
        token = opening.request_opening(ctx, nir=ins[:13], card_serial=serial.lower(), address=ADDRESS)
    collected = Collecting()
    run_worker(runtime.sessions, runtime.keys, {"email": collected, "sms": collected}, once=True, interval=0)
    (message,) = [m for m in collected.sent if m.recipient == email]
    found = re.search(r" : (\d{6})\.", message.body)
    assert found and message.subject == "Votre code Carnet"
    with runtime.unit_of_work() as ctx:
        row = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.card_serial == serial)).one()
        assert (row.state, row.content_ct, row.patient_id) == ("sent", None, None)

    with runtime.unit_of_work() as ctx, pytest.raises(Unauthenticated):
        opening.open_online(
            ctx, token=token, family_name="X", given_names="Y", birth_date=date(1980, 1, 1), postcode="75011"
        )  # not before the code is proven
    with runtime.unit_of_work() as ctx:
        proof = opening.prove_code(ctx, token=token, code=found.group(1), address=ADDRESS)
    assert proof.refusal is None and not proof.already_open
    with runtime.unit_of_work() as ctx:
        patient_id = opening.open_online(
            ctx, token=token, family_name="Dupont", given_names="Claire", birth_date=date(1985, 4, 12), postcode="75011"
        )
        record = ctx.session.get(Record, patient_id)
        assert record is not None and (record.channel, record.opened_by, record.ins) == ("online", "patient", ins)
        kept = ctx.session.scalars(select(OnlineOpening).where(OnlineOpening.patient_id == patient_id)).one()
        assert kept.activation_ct is not None  # the activation code, encrypted, never handed out
    with runtime.unit_of_work() as ctx:
        step = opening.activate_online(
            ctx,
            token=token,
            login=f"claire-{uuid.uuid4().hex[:8]}",
            password=PASSWORD,
            second_factor="email",
            email=email,
            phone=None,
            address=ADDRESS,
        )
    assert step.refusal is None
    with runtime.unit_of_work() as ctx:
        assert ctx.session.scalars(select(OnlineOpening).where(OnlineOpening.patient_id == patient_id)).all() == []


def test_no_code_is_sent_for_a_wrong_serial_or_a_card_without_contact(runtime: Runtime) -> None:
    ins, serial = _card(runtime, None)
    other_ins, other_serial = _card(runtime, "someone@example.org")
    with runtime.unit_of_work() as ctx:
        tokens = [
            opening.request_opening(ctx, nir=ins[:13], card_serial=serial, address=ADDRESS),
            opening.request_opening(ctx, nir=ins[:13], card_serial=other_serial, address=ADDRESS),
            opening.request_opening(ctx, nir=other_ins, card_serial="NOSUCHCARD1", address=ADDRESS),
        ]
        assert all(len(token) >= 40 for token in tokens)
        queued = ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.card_serial.in_([serial, other_serial]))
        ).all()
    assert queued == []


def test_a_malformed_nir_is_refused_before_anything(runtime: Runtime) -> None:
    with runtime.unit_of_work() as ctx, pytest.raises(Invalid):
        opening.request_opening(ctx, nir="12345", card_serial="VIT000000000001", address=ADDRESS)
