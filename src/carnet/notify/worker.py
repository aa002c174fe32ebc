"""Delivery of the outbox: one message per transaction, at least once, with a stable Message-ID.

A message is marked sent only after its sender accepted it. If the worker dies in between, the message is
still pending and goes again, with the same Message-ID, so the receiving side can recognise the resend.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carnet.context import Context
from carnet.identity import registry
from carnet.identity.directory import address_of
from carnet.identity.models import VitaleCard
from carnet.kit import clock
from carnet.kit.crypto import DataKey, DecryptionError, KeyProvider
from carnet.kit.errors import CarnetError
from carnet.notify.messages import TEXTS
from carnet.notify.models import OutboxMessage
from carnet.notify.service import MAX_ATTEMPTS, contact_aad, content_aad, next_attempt_delay, notice_text
from carnet.records.keys import data_key

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: str
    channel: str
    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    def send(self, message: Outgoing) -> None: ...


class SmtpEmailSender:
    """E-mail over SMTP (a local relay in production, a test server in the tests)."""

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 15) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Message-ID"] = message.message_id
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(email)


class LogSmsSender:
    """SMS through the log, until a provider is plugged in: the number is masked, the text has no medical data."""

    def send(self, message: Outgoing) -> None:
        _log.info("SMS %s to %s: %s", message.message_id, mask(message.recipient), message.body)


class ConsoleEmailSender:
    """`carnet demo` only: each e-mail printed whole in the demo's terminal, so a sign-in code sent by e-mail
    reaches the person trying Carnet with no mail relay to set up. Never used outside development."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self.write = write

    def send(self, message: Outgoing) -> None:
        self.write(f"E-mail to {message.recipient}: {message.subject}\n  {message.body}")


def mask(recipient: str) -> str:
    return recipient[:3] + "*" * max(0, len(recipient) - 5) + recipient[-2:]


def deliver_one(sessions: sessionmaker[Session], keys: KeyProvider, senders: dict[str, Sender]) -> bool:
    """Deliver the oldest due message, if any; True when one was handled (sent, retried later, or failed)."""
    with sessions() as session, session.begin():
        now = clock.now()
        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        if row is None:
            return False
        ctx = Context(session=session, keys=keys, max_document_bytes=0)
        if row.expires_at is not None and row.expires_at <= now:
            _give_up(row, "expired before it could be delivered: the code or link it carried is dead")
            return True
        recipient, content = _recipient(ctx, row), message_content(ctx, row)
        if recipient is None or content is None:
            _give_up(row, "no address for the recipient (record destroyed, or not in the directory)")
            return True
        subject, body = content
        try:
            senders[row.channel].send(Outgoing(row.message_id, row.channel, recipient, subject, body))
        except (OSError, smtplib.SMTPException) as exc:
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {str(exc)[:200]}".replace(recipient, mask(recipient))
            if row.attempts >= MAX_ATTEMPTS:
                _give_up(row, row.last_error)
            else:
                row.next_attempt_at = now + next_attempt_delay(row.attempts)
            _log.warning("delivery of %s failed (attempt %d): %s", row.message_id, row.attempts, row.last_error)
            return True
        row.state, row.sent_at, row.attempts = "sent", clock.now(), row.attempts + 1
        row.content_ct = None  # delivered: the code or link it carried is kept nowhere any more
        return True


def _give_up(row: OutboxMessage, reason: str) -> None:
    row.state, row.last_error, row.content_ct = "failed", reason, None


def message_content(ctx: Context, row: OutboxMessage) -> tuple[str, str] | None:
    """The subject and body: a notice's from its kind, a personal message's decrypted (None if it cannot be)."""
    if row.content_ct is None:
        return notice_text(row.kind, row.channel) if row.kind in TEXTS else None
    try:
        key = _key(ctx, row)
        if key is None:
            return None
        content = json.loads(key.decrypt_text(row.content_ct, aad=content_aad(row.id)))
    except (CarnetError, DecryptionError):
        return None
    return str(content["subject"]), str(content["body"])


def _recipient(ctx: Context, row: OutboxMessage) -> str | None:
    """The address to write to: a professional's from the directory, a patient's decrypted (a system job
    reading only that, never medical content)."""
    if row.recipient_rpps is not None:
        return address_of(ctx.session, row.recipient_rpps)
    if row.recipient_ct is None:
        return None
    try:
        if row.card_serial is not None:
            card = ctx.session.get(VitaleCard, row.card_serial)
            return None if card is None else registry.read_contact(ctx, card, row.channel)
        if row.patient_id is None:
            return None
        return data_key(ctx, row.patient_id).decrypt_text(
            row.recipient_ct, aad=contact_aad(row.channel, row.patient_id)
        )
    except (CarnetError, DecryptionError):
        return None


def _key(ctx: Context, row: OutboxMessage) -> DataKey | None:
    """The key a personal message's content is under: its record's, or its card's (before any record)."""
    if row.card_serial is not None:
        card = ctx.session.get(VitaleCard, row.card_serial)
        return None if card is None or card.wrapped_key is None else registry.card_key(ctx, card)
    return None if row.patient_id is None else data_key(ctx, row.patient_id)


def run_worker(
    sessions: sessionmaker[Session],
    keys: KeyProvider,
    senders: dict[str, Sender],
    *,
    once: bool,
    interval: float,
    stop: threading.Event | None = None,
) -> int:
    """Deliver until the outbox is empty (once) or until stopped; return how many messages were handled."""
    handled = 0
    stop = stop or threading.Event()
    while not stop.is_set():
        if deliver_one(sessions, keys, senders):
            handled += 1
            continue
        if once:
            break
        stop.wait(interval)
    return handled
