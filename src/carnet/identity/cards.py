"""Card presence (SPEC §5): the patient's carte Vitale signs a fresh server challenge for a professional,
which proves the patient is there and grants that professional a normal-mode authorisation."""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select, update

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.policy import Action
from carnet.access.schemas import AuthorisationView
from carnet.access.service import grant_authorisation
from carnet.context import Context
from carnet.identity.models import CardChallenge, VitaleCard
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid
from carnet.records.service import load_record

CHALLENGE_LIFETIME = timedelta(minutes=2)
_SERIAL = re.compile(r"^[0-9A-Z]{8,20}$")


def presence_message(nonce: bytes, rpps: str, serial: str) -> bytes:
    """What the card signs: the nonce, bound to the professional it is shown to and to the card itself."""
    return b"carnet-card-presence\x00" + nonce + b"\x00" + rpps.encode() + b"\x00" + serial.encode()


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

    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, challenge: Challenge, rpps: str) -> bytes:
        return self.private_key.sign(presence_message(challenge.nonce, rpps, self.serial))


def register_card(ctx: Context, actor: Actor, patient_id: uuid.UUID, serial: str, public_key: bytes) -> None:
    """The insurer's systems record a card issued to a patient."""
    load_record(ctx, actor, Action.CARD_REGISTER, patient_id)
    if not _SERIAL.match(serial):
        raise Invalid("A card serial has 8 to 20 digits or capital letters.", code="invalid-serial")
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise Invalid("A card's public key is 32 bytes of Ed25519.", code="invalid-card-key") from None
    if ctx.session.get(VitaleCard, serial) is not None:
        raise Conflict("A card with this serial is already registered.", code="duplicate-card")
    ctx.session.add(
        VitaleCard(serial=serial, patient_id=patient_id, public_key=public_key, issued_at=clock.now(), revoked_at=None)
    )
    ctx.session.flush()


def issue_challenge(ctx: Context, actor: Actor) -> Challenge:
    """A fresh nonce for a professional's card reader."""
    gate.authorize_unscoped(ctx, actor, Action.CARD_CHALLENGE)
    now = clock.now()
    challenge = CardChallenge(
        id=uuid.uuid4(),
        professional_rpps=actor.ref,
        nonce=os.urandom(32),
        created_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
        used_at=None,
    )
    ctx.session.add(challenge)
    ctx.session.flush()
    return Challenge(challenge.id, challenge.nonce, challenge.expires_at)


def present_card(
    ctx: Context, actor: Actor, challenge_id: uuid.UUID, serial: str, signature: bytes
) -> tuple[uuid.UUID, AuthorisationView]:
    """Check the card's signature of the challenge; authorise the professional on the card holder's record."""
    now = clock.now()
    # Consumed atomically: a replay, even a concurrent one, finds it used.
    nonce = ctx.session.scalar(
        update(CardChallenge)
        .where(
            CardChallenge.id == challenge_id,
            CardChallenge.professional_rpps == actor.ref,
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
        select(VitaleCard).where(VitaleCard.serial == serial, VitaleCard.revoked_at.is_(None))
    ).one_or_none()
    if card is None:
        raise Forbidden("This card is not a valid carte Vitale.", code="bad-card")
    try:
        Ed25519PublicKey.from_public_bytes(card.public_key).verify(
            signature, presence_message(nonce, actor.ref, serial)
        )
    except InvalidSignature:
        raise Forbidden("The card's signature does not match: present the card again.", code="bad-card") from None
    load_record(ctx, actor, Action.CARD_PRESENCE, card.patient_id)
    return card.patient_id, grant_authorisation(ctx, card.patient_id, actor.ref, scope="read_write", via="card")
