"""Opening one's own record online (SPEC §2's `online` channel): the carte Vitale's serial and the NIR, then a
one-time code sent to the contact the insurer's card registry holds for that card.

Nothing answers differently for an unknown card, a wrong serial, a card with no contact or a holder who
already has a record: the request always hands back a token and says a code was sent if the details match.
Whether a record already exists is said only once the code is proven, to whoever holds the card's contact.
The record is opened by the online opening service (a system actor, as the insurer's other feeds are) on
the holder's proven request, with channel `online`; the activation code it issues stays on the server
(encrypted under the new record's key) and is spent by the activation that follows in the same journey.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import delete, select

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.audit.chain import NO_RECORD
from carnet.context import Context
from carnet.identity import accounts, registry, sessions
from carnet.identity.accounts import Activation, SecondFactor, Step
from carnet.identity.models import OnlineOpening, VitaleCard
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.kit.identifiers import nir_key, parse_ins
from carnet.kit.secrets import digest, new_numeric_code, new_token, same
from carnet.notify.service import enqueue_to_card
from carnet.records import repository as records_repository
from carnet.records.codes import Channel
from carnet.records.keys import data_key
from carnet.records.schemas import PatientIdentity
from carnet.records.service import open_record

CODE_LIFETIME = timedelta(minutes=15)
JOURNEY_LIFETIME = timedelta(minutes=30)  # from the code proven to the account activated
MAX_CODE_ATTEMPTS = 5
ONLINE_OPENING = Actor.system("online-opening")
BAD_CODE = "This code is wrong or has expired."
ENDED = "This opening has expired: start again with your carte Vitale."


@dataclass(frozen=True, slots=True)
class Proof:
    """A code proven (or refused): `already_open` when the card's holder has a record (sign in or activate)."""

    refusal: CarnetError | None = None
    already_open: bool = False


def canonical_ins(nir: str) -> str:
    """The INS from a NIR typed with or without its key (Invalid when malformed, saying nothing of anyone)."""
    text = "".join(nir.split()).upper()
    if len(text) == 13:
        text += nir_key(text)
    return parse_ins(text).value


def _sex(ins: str) -> Literal["F", "M", "U"]:
    return "M" if ins[0] == "1" else "F" if ins[0] == "2" else "U"


def _aad(patient_id: uuid.UUID) -> str:
    return f"online_openings.activation:{patient_id}"


def request_opening(ctx: Context, *, nir: str, card_serial: str, address: str) -> str:
    """Send a code to the card's registered contact when the NIR is its holder's; a token for the journey
    either way (the browser keeps it), and the same answer: nobody learns whether the card exists."""
    ins = canonical_ins(nir)
    serial = "".join(card_serial.split()).upper()[:20]
    keys = [sessions.throttle_key("opening", ins), sessions.throttle_key("address", address)]
    sessions.check_throttle(ctx.session, keys)
    sessions.record_failure(ctx.session, keys)  # every request counts: it bounds the messages one can cause
    token, now, anonymous = new_token(), clock.now(), Actor.anonymous(address)
    card = ctx.session.get(VitaleCard, serial) if serial else None
    if card is None or card.revoked_at is not None or card.ins != ins:
        gate.trace_authentication(ctx, anonymous, "record.open-online", NO_RECORD, allowed=False, reason="no-match")
        return token
    code = new_numeric_code()
    ctx.session.add(
        OnlineOpening(
            token_hash=digest(token),
            card_serial=serial,
            code_hash=digest(code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
            code_attempts=0,
        )
    )
    ctx.session.flush()
    body = f"Votre code pour ouvrir votre dossier Carnet : {code}. Il expire dans 15 minutes. Ne le donnez à personne."
    sent = any(
        enqueue_to_card(
            ctx,
            card,
            channel=channel,
            kind="opening-code",
            subject="Votre code Carnet",
            body=body,
            expires_at=now + CODE_LIFETIME,
        )
        for channel in ("email", "sms")
    )
    reason = "code-sent" if sent else "no-contact"
    gate.trace_authentication(ctx, anonymous, "record.open-online", NO_RECORD, allowed=sent, reason=reason)
    return token


def _journey(ctx: Context, token: str) -> OnlineOpening | None:
    return ctx.session.scalars(
        select(OnlineOpening).where(OnlineOpening.token_hash == digest(token)).with_for_update()
    ).one_or_none()


def prove_code(ctx: Context, *, token: str, code: str, address: str) -> Proof:
    """The code from the card's contact. A wrong one counts (five end the journey); unknown token, wrong code
    and expired code get the same refusal. Proven: whether the holder already has a record."""
    now, anonymous = clock.now(), Actor.anonymous(address)
    row = _journey(ctx, token) if token else None
    code = "".join(code.split())
    fresh = row is not None and row.proven_at is None and row.expires_at > now
    good = fresh and row is not None and row.code_attempts < MAX_CODE_ATTEMPTS and same(row.code_hash, digest(code))
    if not good or row is None:
        if row is not None:
            row.code_attempts += 1
        sessions.record_failure(ctx.session, [sessions.throttle_key("address", address)])
        gate.trace_authentication(ctx, anonymous, "record.open-online", NO_RECORD, allowed=False, reason="bad-code")
        return Proof(refusal=Unauthenticated(BAD_CODE, code="bad-code"))
    row.proven_at, row.expires_at = now, now + JOURNEY_LIFETIME
    card = ctx.session.get(VitaleCard, row.card_serial)
    record = records_repository.living_record_for_ins(ctx.session, card.ins) if card is not None else None
    if record is not None:
        gate.trace_authentication(
            ctx, anonymous, "record.open-online", record.patient_id, allowed=False, reason="already-open"
        )
        ctx.session.delete(row)
        return Proof(already_open=True)
    return Proof()


def _proven(ctx: Context, token: str) -> tuple[OnlineOpening, VitaleCard]:
    row = _journey(ctx, token) if token else None
    card = ctx.session.get(VitaleCard, row.card_serial) if row is not None else None
    if row is None or card is None or row.proven_at is None or row.expires_at <= clock.now():
        raise Unauthenticated(ENDED, code="opening-ended")
    return row, card


def open_online(
    ctx: Context, *, token: str, family_name: str, given_names: str, birth_date: date, postcode: str
) -> uuid.UUID:
    """Open the record of the card's holder, whose code was proven, with channel `online`; its activation
    code is kept for the activation that follows. The sex is the NIR's first digit, as the insurer knows it."""
    row, card = _proven(ctx, token)
    if row.patient_id is not None:
        return row.patient_id  # a second click: the record this journey opened
    identity = PatientIdentity(
        family_name=family_name,
        given_names=given_names,
        birth_date=birth_date,
        sex=_sex(card.ins),
        postcode=postcode,
    )
    patient_id = open_record(
        ctx, ONLINE_OPENING, ins=card.ins, identity=identity, channel=Channel.ONLINE, opened_by="patient"
    )
    registry.link_family(ctx, card.ins)
    issued = accounts.issue_activation_code(ctx, patient_id, issued_by="online")
    row.patient_id = patient_id
    row.activation_ct = data_key(ctx, patient_id).encrypt_text(issued.code, aad=_aad(patient_id))
    gate.trace_authentication(
        ctx, Actor.patient(patient_id), "record.open-online", patient_id, allowed=True, reason="card-and-code"
    )
    return patient_id


def opened_record(ctx: Context, *, token: str) -> uuid.UUID | None:
    """The record this journey opened, if any yet (the activation page asks)."""
    row, _ = _proven(ctx, token)
    return row.patient_id


def activate_online(
    ctx: Context,
    *,
    token: str,
    login: str,
    password: str,
    second_factor: SecondFactor,
    email: str | None,
    phone: str | None,
    address: str,
) -> Step:
    """The account of the record this journey opened: `accounts.activate` with the journey's own proofs
    (the card, the NIR, the activation code kept here), which the patient does not type again."""
    row, card = _proven(ctx, token)
    if row.patient_id is None or row.activation_ct is None:
        raise Unauthenticated(ENDED, code="opening-ended")
    code = data_key(ctx, row.patient_id).decrypt_text(row.activation_ct, aad=_aad(row.patient_id))
    form = Activation(card.ins, card.serial, code, login, password, second_factor, email=email, phone=phone)
    step = accounts.activate(ctx, form, address=address, confirm_here=True)
    if step.refusal is None:
        ctx.session.execute(delete(OnlineOpening).where(OnlineOpening.token_hash == row.token_hash))
    return step
