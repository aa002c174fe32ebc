"""Card presence (SPEC §5): the patient's carte Vitale signs a fresh server challenge for a card reader.

That proves the patient is there. Shown to a professional, it grants a normal-mode authorisation; at an
insurance desk or a pharmacy counter it lets the agent open the patient's record, or give a new activation
code for the online account. The reader is named in what the card signs, so a signature made for one
reader is worth nothing to another.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, update

from carnet.access import gate
from carnet.access.actor import Actor, ActorKind
from carnet.access.policy import Action, RecordState
from carnet.access.schemas import AuthorisationView
from carnet.access.service import grant_authorisation
from carnet.context import Context
from carnet.identity import accounts, registry
from carnet.identity.models import CardChallenge, VitaleCard
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.kit.identifiers import parse_ins
from carnet.records import repository as records_repository
from carnet.records.codes import Channel
from carnet.records.models import Record
from carnet.records.schemas import PatientIdentity
from carnet.records.service import load_record, open_record
from carnet.settings import ensure_key_file

CHALLENGE_LIFETIME = timedelta(minutes=2)
_SERIAL = re.compile(r"^[0-9A-Z]{8,20}$")


def development_card(data_dir: Path, ins: str) -> SimulatedCard:
    """The development card of an INS: the same serial and keys every time, from the data folder's secret.

    The demo registers it for its patients (cli_identity), and the portal's development card reader signs with
    it; in production a patient's card is a chip no server holds.
    """
    secret = ensure_key_file(data_dir / "dev-cards.key").read_bytes()
    serial = "SIM" + hashlib.sha256(ins.encode()).hexdigest()[:12].upper()
    return SimulatedCard.derived(secret, serial)


def reader_of(actor: Actor) -> str:
    """The card reader's name in what the card signs: the professional's RPPS, or the desk agent's id."""
    return actor.ref if actor.kind is ActorKind.PROFESSIONAL else f"desk:{actor.ref}"


def presence_message(nonce: bytes, reader: str, serial: str) -> bytes:
    """What the card signs: the nonce, bound to the reader it is shown to and to the card itself."""
    return b"carnet-card-presence\x00" + nonce + b"\x00" + reader.encode() + b"\x00" + serial.encode()


@dataclass(frozen=True, slots=True)
class Challenge:
    id: uuid.UUID
    nonce: bytes
    expires_at: datetime


@dataclass(frozen=True)
class SimulatedCard:
    """A carte Vitale for development, tests and demos: what a real card's chip does, in software."""

    serial: str
    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def new(cls, serial: str) -> SimulatedCard:
        return cls(serial, Ed25519PrivateKey.generate())

    @classmethod
    def derived(cls, secret: bytes, serial: str) -> SimulatedCard:
        """The same card every time for one development secret and serial, so scripts can present it."""
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"carnet-simulated-card:" + serial.encode())
        return cls(serial, Ed25519PrivateKey.from_private_bytes(seed.derive(secret)))

    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, challenge: Challenge, reader: str) -> bytes:
        return self.private_key.sign(presence_message(challenge.nonce, reader, self.serial))


@dataclass(frozen=True, slots=True)
class CardShown:
    """A card presentation: who read it and the signature it gave."""

    challenge_id: uuid.UUID
    serial: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class OpenedRecord:
    patient_id: uuid.UUID
    ins: str
    activation_code: str
    activation_expires_at: datetime
    authorisation: AuthorisationView | None


def register_card(
    ctx: Context,
    actor: Actor,
    ins: str,
    serial: str,
    public_key: bytes,
    *,
    email: str | None = None,
    phone: str | None = None,
    minors: Sequence[tuple[str, date]] = (),
) -> None:
    """The insurer's systems record a card issued to an insured person, record or not, with the contact it
    holds for them, if any (an online opening's code goes there: identity.opening), and the minors it covers
    (INS and birth date: their parent becomes their legal representative in Carnet, identity.registry)."""
    canonical = parse_ins(ins).value
    if not _SERIAL.match(serial):
        raise Invalid("A card serial has 8 to 20 digits or capital letters.", code="invalid-serial")
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise Invalid("A card's public key is 32 bytes of Ed25519.", code="invalid-card-key") from None
    gate.authorize_unscoped(ctx, actor, Action.CARD_REGISTER)
    if ctx.session.get(VitaleCard, serial) is not None:
        raise Conflict("A card with this serial is already registered.", code="duplicate-card")
    card = VitaleCard(serial=serial, ins=canonical, public_key=public_key, issued_at=clock.now(), revoked_at=None)
    if email or phone:
        registry.set_contact(ctx, card, email=email, phone=phone)
    ctx.session.add(card)
    ctx.session.flush()
    if minors:
        registry.cover_minors(ctx, actor, card, minors)


def cover_minors(ctx: Context, actor: Actor, serial: str, minors: Sequence[tuple[str, date]]) -> None:
    """The insurer adds minors to a card already registered (a birth, a new cover)."""
    gate.authorize_unscoped(ctx, actor, Action.CARD_REGISTER)
    card = ctx.session.get(VitaleCard, serial)
    if card is None or card.revoked_at is not None:
        raise NotFound("No card with this serial is registered.", code="unknown-card")
    registry.cover_minors(ctx, actor, card, minors)


def issue_challenge(ctx: Context, actor: Actor) -> Challenge:
    """A fresh nonce for a card reader (a professional's, or an insurance desk's)."""
    gate.authorize_unscoped(ctx, actor, Action.CARD_CHALLENGE)
    now = clock.now()
    challenge = CardChallenge(
        id=uuid.uuid4(),
        professional_rpps=reader_of(actor),
        nonce=os.urandom(32),
        created_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
        used_at=None,
    )
    ctx.session.add(challenge)
    ctx.session.flush()
    return Challenge(challenge.id, challenge.nonce, challenge.expires_at)


def holder_ins(ctx: Context, actor: Actor, shown: CardShown) -> str:
    """Check the card's signature of the reader's challenge, spending the challenge; the holder's INS."""
    now = clock.now()
    reader = reader_of(actor)
    # Consumed atomically: a replay, even a concurrent one, finds it used.
    nonce = ctx.session.scalar(
        update(CardChallenge)
        .where(
            CardChallenge.id == shown.challenge_id,
            CardChallenge.professional_rpps == reader,
            CardChallenge.used_at.is_(None),
            CardChallenge.expires_at > now,
        )
        .values(used_at=now)
        .returning(CardChallenge.nonce)
    )
    if nonce is None:
        raise Forbidden(
            "This card challenge is unknown, expired or already used: ask for a new one.", code="bad-challenge"
        )
    card = ctx.session.scalars(
        select(VitaleCard).where(VitaleCard.serial == shown.serial, VitaleCard.revoked_at.is_(None))
    ).one_or_none()
    if card is None:
        raise Forbidden("This card is not a valid carte Vitale.", code="bad-card")
    try:
        Ed25519PublicKey.from_public_bytes(card.public_key).verify(
            shown.signature, presence_message(nonce, reader, shown.serial)
        )
    except InvalidSignature:
        raise Forbidden("The card's signature does not match: present the card again.", code="bad-card") from None
    return card.ins


def holder_record(ctx: Context, actor: Actor, action: Action, ins: str) -> Record:
    record = records_repository.living_record_for_ins(ctx.session, ins)
    if record is None:
        gate.record_unknown_record(ctx, actor, action, uuid.UUID(int=0), f"ins-card:{ins[:2]}")
        raise NotFound("This patient has no record yet: it can be opened with their agreement.", code="no-record")
    return record


def present_card(
    ctx: Context, actor: Actor, challenge_id: uuid.UUID, serial: str, signature: bytes
) -> tuple[uuid.UUID, AuthorisationView]:
    """Check the card's signature of the challenge; authorise the professional on the card holder's record."""
    return authorise_holder(ctx, actor, holder_ins(ctx, actor, CardShown(challenge_id, serial, signature)))


def authorise_holder(ctx: Context, actor: Actor, ins: str) -> tuple[uuid.UUID, AuthorisationView]:
    """Authorise the professional on the record of the holder whose card they just read (the caller checked it)."""
    patient_id = holder_record(ctx, actor, Action.CARD_PRESENCE, ins).patient_id
    load_record(ctx, actor, Action.CARD_PRESENCE, patient_id)
    return patient_id, grant_authorisation(ctx, patient_id, actor.ref, scope="read_write", via="card")


def _channel(actor: Actor, requested: Channel | None = None) -> tuple[Channel, str]:
    """The opening channel and the opener: a desk, a pharmacy counter, a hospital, or a professional."""
    if actor.kind is ActorKind.DESK:
        allowed = {Channel.INSURANCE_DESK: actor.ref}
    elif actor.kind is ActorKind.PROFESSIONAL and actor.profession == "21" and actor.organisation:
        allowed = {Channel.PHARMACY: actor.organisation}  # the counter: the pharmacy is paid per record opened
    elif actor.kind is ActorKind.PROFESSIONAL:
        allowed = {Channel.PROFESSIONAL: actor.ref}
        if actor.organisation:
            allowed[Channel.HOSPITAL] = actor.organisation
    else:
        raise Forbidden("Only a desk agent or a health professional opens a record with the patient's card.")
    if requested is None:
        return next(iter(allowed.items()))
    if requested not in allowed:
        raise Invalid(
            f"This opener opens records through {', '.join(c.value for c in allowed)}, not {requested.value}.",
            code="invalid-channel",
        )
    return requested, allowed[requested]


def open_record_with_card(
    ctx: Context,
    actor: Actor,
    shown: CardShown,
    identity: PatientIdentity,
    *,
    channel: Channel | None = None,
    patient_resource: Mapping[str, Any] | None = None,
) -> OpenedRecord:
    """Open the record of the patient who presents their card, with their agreement, and hand them their
    activation code. A professional who opens it is authorised by the same presentation. A Patient resource
    sent over FHIR is kept as written (records.service.open_record)."""
    ins = holder_ins(ctx, actor, shown)
    return open_holder_record(ctx, actor, ins, identity, channel=channel, patient_resource=patient_resource)


def open_holder_record(
    ctx: Context,
    actor: Actor,
    ins: str,
    identity: PatientIdentity,
    *,
    channel: Channel | None = None,
    patient_resource: Mapping[str, Any] | None = None,
) -> OpenedRecord:
    """Open the record of the holder whose card the caller just checked (open_record_with_card, identity.visits)."""
    channel, opened_by = _channel(actor, channel)
    patient_id = open_record(
        ctx,
        actor,
        ins=ins,
        identity=identity,
        channel=channel,
        opened_by=opened_by,
        card_presented=True,
        patient_resource=patient_resource,
    )
    registry.link_family(ctx, ins)  # a parent or a child the registry knows, with a record already
    code = accounts.issue_activation_code(ctx, patient_id, issued_by=reader_of(actor))
    authorisation = None
    if actor.kind is ActorKind.PROFESSIONAL:
        load_record(ctx, actor, Action.CARD_PRESENCE, patient_id)
        authorisation = grant_authorisation(ctx, patient_id, actor.ref, scope="read_write", via="card")
    return OpenedRecord(patient_id, ins, code.code, code.expires_at, authorisation)


def reissue_activation_code(ctx: Context, actor: Actor, shown: CardShown) -> accounts.IssuedCode:
    """A new activation code for a patient who lost their password or second factor: the card proves them.

    The old codes stop working; the account, if any, is replaced when the new code is used.
    """
    return reissue_for_holder(ctx, actor, holder_ins(ctx, actor, shown))


def reissue_for_holder(ctx: Context, actor: Actor, ins: str) -> accounts.IssuedCode:
    """A new activation code for the holder whose card the caller just checked."""
    record = holder_record(ctx, actor, Action.ACTIVATION_CODE_ISSUE, ins)
    gate.authorize(
        ctx,
        actor,
        Action.ACTIVATION_CODE_ISSUE,
        patient_id=record.patient_id,
        state=RecordState(record.state),
        card_presented=True,
    )
    return accounts.issue_activation_code(ctx, record.patient_id, issued_by=reader_of(actor))
