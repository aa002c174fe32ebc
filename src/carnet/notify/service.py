"""The patient's notification settings, and the outbox fed from a unit of work's decisions."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carnet.access import repository as access_repository
from carnet.access.actor import Actor
from carnet.access.policy import Action
from carnet.audit.chain import AuditEvent
from carnet.audit.models import AuditEntry
from carnet.context import Context
from carnet.identity import registry
from carnet.identity.directory import address_of
from carnet.identity.models import VitaleCard
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import Invalid
from carnet.kit.identifiers import EMAIL
from carnet.notify.messages import CHANNELS, DEFAULT_WANTED, KINDS, TEXTS, Notice, notices
from carnet.notify.models import NotificationSettings, OutboxMessage
from carnet.records.keys import data_key
from carnet.records.service import load_record

_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")


def contact_aad(channel: str, patient_id: uuid.UUID) -> str:
    return f"notification_settings.{channel}:{patient_id}"


@dataclass(frozen=True, slots=True)
class NotificationSettingsView:
    email: str | None
    phone: str | None
    wanted: list[str]


def set_notification_settings(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    email: str | None,
    phone: str | None,
    wanted: Sequence[str],
) -> None:
    """Where to reach the patient (e-mail, mobile in international form) and which notices by which channel."""
    email = email.strip() if email else None
    phone = re.sub(r"[\s.\-]", "", phone) if phone else None
    if email is not None and not EMAIL.match(email):
        raise Invalid("The e-mail address is not valid.", code="invalid-email")
    if phone is not None and not _PHONE.match(phone):
        raise Invalid("A mobile number is written in international form, e.g. +33612345678.", code="invalid-phone")
    allowed = {f"{kind}:{channel}" for kind in KINDS for channel in CHANNELS}
    unknown = sorted(set(wanted) - allowed)
    if unknown:
        raise Invalid(f"Unknown notices: {', '.join(unknown)}; choose among {', '.join(sorted(allowed))}.")
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject="notifications")
    key = data_key(ctx, patient_id)
    row = ctx.session.get(NotificationSettings, patient_id)
    if row is None:
        row = NotificationSettings(patient_id=patient_id)
        ctx.session.add(row)
    row.email_ct = key.encrypt_text(email, aad=contact_aad("email", patient_id)) if email else None
    row.phone_ct = key.encrypt_text(phone, aad=contact_aad("sms", patient_id)) if phone else None
    row.wanted = sorted(set(wanted))
    row.updated_at = clock.now()


def read_notification_settings(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> NotificationSettingsView:
    load_record(ctx, actor, Action.SETTINGS_READ, patient_id, subject="notifications")
    row = ctx.session.get(NotificationSettings, patient_id)
    if row is None:
        return NotificationSettingsView(None, None, list(DEFAULT_WANTED))
    key = data_key(ctx, patient_id)
    return NotificationSettingsView(
        email=key.decrypt_text(row.email_ct, aad=contact_aad("email", patient_id)) if row.email_ct else None,
        phone=key.decrypt_text(row.phone_ct, aad=contact_aad("sms", patient_id)) if row.phone_ct else None,
        wanted=list(row.wanted),
    )


def message_id(unit_id: uuid.UUID, event_index: int, kind: str, channel: str) -> str:
    """Stable, unique, and short enough to fit on one header line."""
    return f"<{uuid.uuid5(unit_id, f'{event_index}.{kind}.{channel}').hex}@carnet.invalid>"


def enqueue_for(session: Session, events: Sequence[AuditEvent], *, unit_id: uuid.UUID) -> int:
    """Put in the outbox, in the unit of work's own transaction, the notices its decisions call for.

    Runs before the unit's decisions are written to the trail, which it reads to tell a first access.
    """
    if not any(event.allowed for event in events):
        return 0

    def first_access(patient_id: uuid.UUID, rpps: str) -> bool:
        # Called before this unit's own entries are written: any allowed entry found is an earlier access.
        earlier = (
            select(AuditEntry.seq)
            .where(AuditEntry.chain_id == patient_id, AuditEntry.actor_ref == rpps, AuditEntry.allowed)
            .exists()
        )
        return not session.scalar(select(earlier))

    due = notices(events, first_access)
    if not due:
        return 0
    settings = {
        row.patient_id: row
        for row in session.scalars(
            select(NotificationSettings).where(NotificationSettings.patient_id.in_({n.patient_id for n in due}))
        )
    }
    now, queued = clock.now(), 0

    def queue(notice: Notice, channel: str, kind: str, recipient_ct: bytes | None, rpps: str | None) -> None:
        session.add(
            OutboxMessage(
                id=uuid.uuid4(),
                patient_id=notice.patient_id,
                message_id=message_id(unit_id, notice.event_index, kind, channel),
                kind=kind,
                channel=channel,
                recipient_ct=recipient_ct,
                recipient_rpps=rpps,
                content_ct=None,  # a notice's words follow from its kind: nothing to keep
                expires_at=None,
                state="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
                sent_at=None,
                last_error=None,
            )
        )

    for notice in due:
        if notice.kind == "emergency-access":
            doctor = access_repository.get_settings(session, notice.patient_id)
            if doctor is not None and doctor.regular_doctor_rpps and address_of(session, doctor.regular_doctor_rpps):
                queue(notice, "email", "emergency-access-doctor", None, doctor.regular_doctor_rpps)
                queued += 1
        row = settings.get(notice.patient_id)
        if row is None:
            continue  # no address given: nothing can be sent
        for channel, recipient in (("email", row.email_ct), ("sms", row.phone_ct)):
            if recipient is None or f"{notice.kind}:{channel}" not in row.wanted:
                continue
            queue(notice, channel, notice.kind, recipient, None)
            queued += 1
    return queued


RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 8


def next_attempt_delay(attempts: int) -> timedelta:
    """Exponential backoff: 30 s, 1 min, 2 min ... capped at an hour."""
    delay: timedelta = RETRY_BASE * (2 ** max(0, attempts - 1))
    return min(delay, RETRY_CAP)


def content_aad(message: uuid.UUID) -> str:
    return f"outbox.content:{message}"


def notice_text(kind: str, channel: str) -> tuple[str, str]:
    """A notice's subject and body: fixed by its kind, the SMS keeping the first (French) line only."""
    subject, body = TEXTS[kind]
    return subject, body if channel == "email" else body.split("\n")[0]


def enqueue_personal(
    ctx: Context,
    patient_id: uuid.UUID,
    *,
    channel: str,
    kind: str,
    subject: str,
    body: str,
    expires_at: datetime,
) -> bool:
    """A message about the patient's own account (a sign-in code, a reset link) to their own address.

    It goes whatever notices they chose; False when they gave no address for this channel. What it says
    grants access, so it is kept encrypted under the record's key, never sent once `expires_at` is past (the
    secret it carries is dead by then), and erased as soon as it is delivered or given up.
    """
    row = ctx.session.get(NotificationSettings, patient_id)
    recipient = None if row is None else (row.email_ct if channel == "email" else row.phone_ct)
    if recipient is None:
        return False
    key = data_key(ctx, patient_id)
    ctx.session.add(_personal_message(kind, channel, recipient, key, subject, body, expires_at, patient_id=patient_id))
    return True


def enqueue_to_card(
    ctx: Context, card: VitaleCard, *, channel: str, kind: str, subject: str, body: str, expires_at: datetime
) -> bool:
    """A message to the contact the insurer registered for a card, before any record exists (an online
    opening's code): kept and erased as `enqueue_personal`'s, under the card's key. False: no such contact."""
    recipient = registry.contact_ct(card, channel)
    if recipient is None:
        return False
    key = registry.card_key(ctx, card)
    ctx.session.add(_personal_message(kind, channel, recipient, key, subject, body, expires_at, card=card.serial))
    return True


def _personal_message(
    kind: str,
    channel: str,
    recipient: bytes,
    key: DataKey,
    subject: str,
    body: str,
    expires_at: datetime,
    *,
    patient_id: uuid.UUID | None = None,
    card: str | None = None,
) -> OutboxMessage:
    """A message to one person's contact, for a record (`patient_id`) or a card before any record (`card`)."""
    now, message = clock.now(), uuid.uuid4()
    content = json.dumps({"subject": subject, "body": body}, ensure_ascii=False)
    return OutboxMessage(
        id=message,
        patient_id=patient_id,
        card_serial=card,
        message_id=message_id(uuid.uuid4(), 0, kind, channel),
        kind=kind,
        channel=channel,
        recipient_ct=recipient,
        recipient_rpps=None,
        content_ct=key.encrypt_text(content, aad=content_aad(message)),
        expires_at=expires_at,
        state="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        sent_at=None,
        last_error=None,
    )


def forget_record(session: Session, patient_id: uuid.UUID) -> int:
    """A destroyed record's notification settings and the messages still waiting for it."""
    removed = int(session.execute(delete(OutboxMessage).where(OutboxMessage.patient_id == patient_id)).rowcount)  # type: ignore[attr-defined]
    statement = delete(NotificationSettings).where(NotificationSettings.patient_id == patient_id)
    return removed + int(session.execute(statement).rowcount)  # type: ignore[attr-defined]
