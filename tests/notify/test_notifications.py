"""Notifications: settings, the outbox written with the event, delivery over real SMTP, retries, crashes."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from carnet.access.actor import Actor, Mode
from carnet.access.service import authorise, declare_emergency, set_regular_doctor
from carnet.context import Context
from carnet.identity.directory import address_of, set_entry
from carnet.kit import clock
from carnet.kit.crypto import StaticKeyProvider, generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.kit.errors import Invalid
from carnet.notify.messages import DEFAULT_WANTED
from carnet.notify.models import OutboxMessage
from carnet.notify.service import notice_text, read_notification_settings, set_notification_settings
from carnet.notify.worker import LogSmsSender, Sender, SmtpEmailSender, run_worker
from carnet.records.documents import deposit_document, list_documents
from carnet.records.schemas import DocumentQuery
from carnet.records.service import record_summary
from carnet.runtime import unit_of_work
from tests.factories import PDF, SYSTEM, document_meta, open_test_record, rpps

DOCTOR = Actor.professional(rpps(41), "10")
EMAIL, PHONE = "claire.dupont@example.org", "+33612345678"


def test_settings_are_checked_and_kept_encrypted(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    assert read_notification_settings(ctx, patient, patient_id).wanted == list(DEFAULT_WANTED)
    for bad, fragment in (
        ({"email": "not-an-address"}, "e-mail"),
        ({"phone": "0612"}, "international form"),
        ({"wanted": ["gossip:email"]}, "Unknown notices"),
    ):
        arguments: dict[str, Any] = {"email": EMAIL, "phone": PHONE, "wanted": DEFAULT_WANTED, **bad}
        with pytest.raises(Invalid, match=fragment):
            set_notification_settings(ctx, patient, patient_id, **arguments)
    set_notification_settings(
        ctx, patient, patient_id, email=EMAIL, phone="+33 6 12 34 56 78", wanted=["new-document:sms"]
    )
    view = read_notification_settings(ctx, patient, patient_id)
    assert (view.email, view.phone, view.wanted) == (EMAIL, PHONE, ["new-document:sms"])
    with pytest.raises(Exception):  # noqa: B017 - any refusal: a professional never reads the patient's contacts
        read_notification_settings(ctx, DOCTOR, patient_id)


@dataclass
class World:
    url: str
    engine: Engine
    keys: StaticKeyProvider
    key_text: str
    patient_id: uuid.UUID

    def work(self) -> Any:
        return unit_of_work(make_sessionmaker(self.engine), self.keys, max_document_bytes=1_000_000)

    def outbox(self) -> list[OutboxMessage]:
        with make_sessionmaker(self.engine)() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.kind)))


@pytest.fixture
def world(fresh_database: Callable[[], str]) -> Iterator[World]:
    url = fresh_database()
    engine = make_engine(url)
    key_text = generate_master_key_text()
    keys = parse_master_keys(key_text, source="test")
    with unit_of_work(make_sessionmaker(engine), keys, max_document_bytes=1) as ctx:
        patient_id = open_test_record(ctx)
        set_notification_settings(
            ctx, Actor.patient(patient_id), patient_id, email=EMAIL, phone=PHONE, wanted=DEFAULT_WANTED
        )
    yield World(url, engine, keys, key_text, patient_id)
    engine.dispose()


def test_the_outbox_is_written_with_the_event_and_says_nothing_medical(world: World) -> None:
    patient = Actor.patient(world.patient_id)
    with world.work() as ctx:
        deposit_document(ctx, SYSTEM, world.patient_id, document_meta(title="Sérologie VIH"), PDF)
    with pytest.raises(Invalid), world.work() as ctx:  # a deposit that fails sends nothing
        deposit_document(ctx, SYSTEM, world.patient_id, document_meta(format="text/plain"), b"")
    with world.work() as ctx:
        authorise(ctx, patient, world.patient_id, DOCTOR.ref)
    with world.work() as ctx:
        list_documents(ctx, DOCTOR, world.patient_id, DocumentQuery())
        list_documents(ctx, DOCTOR, world.patient_id, DocumentQuery())
    with world.work() as ctx:
        list_documents(ctx, DOCTOR, world.patient_id, DocumentQuery())  # not a first access any more
    with world.work() as ctx:
        nurse = Actor.professional(rpps(42), "60", mode=Mode.EMERGENCY)
        declare_emergency(ctx, nurse, world.patient_id, "Patient inconscient, recherche d'allergies")
    assert sorted((m.kind, m.channel) for m in world.outbox()) == [
        ("authorisation-change", "email"),
        ("emergency-access", "email"),
        ("emergency-access", "sms"),
        ("new-accessor", "email"),  # the doctor's first list, once although he listed twice
        ("new-accessor", "email"),  # the nurse's first access: her emergency declaration
        ("new-document", "email"),
    ]
    for message in world.outbox():
        assert message.content_ct is None  # a notice keeps no text: its words follow from its kind
        subject, body = notice_text(message.kind, message.channel)
        assert "VIH" not in subject + body
        assert EMAIL.encode() not in bytes(message.recipient_ct or b"")
    assert len({m.message_id for m in world.outbox()}) == len(world.outbox())


@dataclass
class Mailbox:
    received: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    hold: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.arrived.set()
        if self.hold:  # keep the sender waiting for its "250", as a slow relay would
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    mailbox.release.set()
    controller.stop()


def senders(port: int) -> dict[str, Sender]:
    return {"email": SmtpEmailSender("127.0.0.1", port, "carnet@test"), "sms": LogSmsSender()}


def test_delivery_over_smtp_and_sms_log(
    world: World, smtp: tuple[Mailbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    mailbox, port = smtp
    with world.work() as ctx:
        nurse = Actor.professional(rpps(43), "60", mode=Mode.EMERGENCY)
        declare_emergency(ctx, nurse, world.patient_id, "Patient inconscient, recherche d'allergies")
    caplog.set_level(logging.INFO, logger="carnet.notify")
    handled = run_worker(make_sessionmaker(world.engine), world.keys, senders(port), once=True, interval=0.1)
    assert handled == 3  # emergency by e-mail and SMS, first access by e-mail
    assert sorted(m["Subject"].split(" / ")[0] for m in mailbox.received) == [
        "Accès d'urgence à votre dossier",
        "Un nouveau professionnel a consulté votre dossier",
    ]
    by_id = {m.message_id: m for m in world.outbox()}
    assert {m["Message-ID"].strip() for m in mailbox.received} <= set(by_id)
    assert all(m["To"] == EMAIL for m in mailbox.received)
    assert all(message.state == "sent" and message.sent_at for message in world.outbox())
    assert PHONE not in caplog.text and "+33*******78" in caplog.text


def test_a_failed_delivery_is_retried_later_with_backoff(world: World) -> None:
    with world.work() as ctx:
        deposit_document(ctx, SYSTEM, world.patient_id, document_meta(), PDF)
    closed_port = free_port()
    run_worker(make_sessionmaker(world.engine), world.keys, senders(closed_port), once=True, interval=0.1)
    (message,) = world.outbox()
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.next_attempt_at - clock.now() > timedelta(seconds=20)
    assert message.last_error and "ConnectionRefusedError" in message.last_error and EMAIL not in message.last_error


def test_a_worker_killed_between_send_and_acknowledgement_loses_nothing(
    world: World, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    with world.work() as ctx:
        deposit_document(ctx, SYSTEM, world.patient_id, document_meta(), PDF)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(
        CARNET_DATABASE_URL=world.url,
        CARNET_MASTER_KEY=world.key_text,
        CARNET_SMTP_HOST="127.0.0.1",
        CARNET_SMTP_PORT=str(port),
    )
    carnet = shutil.which("carnet") or "carnet"
    mailbox.hold = True
    worker = subprocess.Popen(
        [carnet, "worker", "--interval", "0.2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert mailbox.arrived.wait(60), "the worker never sent"
        worker.send_signal(signal.SIGKILL)  # the message reached the relay; the worker never saw the "250"
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    mailbox.hold = False
    mailbox.release.set()
    (message,) = world.outbox()
    assert message.state == "pending"  # not acknowledged, so not lost
    again = subprocess.run(
        [carnet, "worker", "--once"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert again.returncode == 0, again.stderr
    (message,) = world.outbox()
    assert message.state == "sent"
    deadline = time.monotonic() + 10
    while len(mailbox.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    first, resent = mailbox.received
    assert first["Message-ID"] == resent["Message-ID"] == message.message_id


def test_the_regular_doctor_hears_of_every_emergency_access(world: World, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    regular = rpps(44)
    patient = Actor.patient(world.patient_id)
    with world.work() as ctx:
        set_regular_doctor(ctx, patient, world.patient_id, regular)
        set_entry(
            ctx.session,
            operator="ops-1",
            rpps=regular,
            name="Dr Anne Martin",
            profession="10",
            email="anne.martin@medecin.mssante.fr",
        )
    with world.work() as ctx:
        nurse = Actor.professional(rpps(45), "60", mode=Mode.EMERGENCY)
        declare_emergency(ctx, nurse, world.patient_id, "Chute avec perte de connaissance, antécédents ?")
    doctor_messages = [m for m in world.outbox() if m.kind == "emergency-access-doctor"]
    assert [(m.channel, m.recipient_rpps, m.recipient_ct) for m in doctor_messages] == [("email", regular, None)]
    run_worker(make_sessionmaker(world.engine), world.keys, senders(port), once=True, interval=0.1)
    (to_doctor,) = [m for m in mailbox.received if m["To"] == "anne.martin@medecin.mssante.fr"]
    assert "médecin traitant" in to_doctor.get_content()
    with world.work() as ctx:
        identity = record_summary(ctx, patient, world.patient_id).identity
    assert identity is not None
    for revealing in (identity.family_name, identity.given_names, "Chute"):
        assert revealing not in to_doctor.as_string()


def test_no_directory_entry_no_doctor_message(world: World) -> None:
    with world.work() as ctx:
        set_regular_doctor(ctx, Actor.patient(world.patient_id), world.patient_id, rpps(46))
    with world.work() as ctx:
        nurse = Actor.professional(rpps(47), "60", mode=Mode.EMERGENCY)
        declare_emergency(ctx, nurse, world.patient_id, "Chute avec perte de connaissance, antécédents ?")
    assert [m.kind for m in world.outbox() if m.kind == "emergency-access-doctor"] == []


def test_directory_entries_are_checked(ctx: Context) -> None:
    for bad, fragment in (
        ({"email": "nope"}, "messaging address"),
        ({"rpps": "123"}, "RPPS"),
        ({"profession": "99"}, "profession"),
        ({"operator": " "}, "operator"),
        ({"name": ""}, "name"),
    ):
        arguments: dict[str, Any] = {
            "operator": "ops-1",
            "rpps": rpps(48),
            "name": "Dr B",
            "profession": "10",
            "email": "b@medecin.mssante.fr",
            **bad,
        }
        with pytest.raises(Invalid, match=fragment):
            set_entry(ctx.session, **arguments)
    set_entry(ctx.session, operator="ops-1", rpps=rpps(48), name="Dr B", profession="10", email="b@x.fr")
    set_entry(ctx.session, operator="ops-2", rpps=rpps(48), name="Dr B", profession="10", email="b@y.fr")
    assert address_of(ctx.session, rpps(48)) == "b@y.fr"
