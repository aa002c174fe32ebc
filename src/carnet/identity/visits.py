"""A visit at a pharmacy counter, an insurance desk or a surgery, from the carte Vitale's reading on.

The card signs the reader's challenge once (identity.cards checks it). The visit then says at once whether its
holder has a record, and keeps the holder's INS for fifteen minutes, for that reader only, so what follows needs
no second reading: opening the record after a typo in the identity, a new activation code, its letter, a
pharmacist's reading of the record, a desk's link between the holder and their minor child. Each step passes
the gate with the card shown, and is audited in the record's trail. A visit shows nothing of a record's content:
whether it exists, its state, and the identity a letter is addressed to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.policy import Action, RecordState
from carnet.access.schemas import AuthorisationView
from carnet.access.service import NO_MATCHING_CHILD, link_representative
from carnet.context import Context
from carnet.identity import accounts, cards
from carnet.identity.cards import CardShown, OpenedRecord
from carnet.identity.models import ActivationCode, CardVisit
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.kit.identifiers import parse_ins
from carnet.kit.secrets import digest, normalize_code
from carnet.records import repository as records_repository
from carnet.records.codes import Channel
from carnet.records.schemas import PatientIdentity
from carnet.records.service import record_identity

VISIT_LIFETIME = timedelta(minutes=15)
ENDED = "This card reading has ended: read the card again."
WRONG_CODE = "This is not the patient's current activation code: print the letter from the page that showed it."


@dataclass(frozen=True, slots=True)
class Visit:
    """The card just read: whether its holder has a record ("open" or "closed"), or none (None)."""

    id: uuid.UUID
    state: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Letter:
    """What an activation letter says: to whom, the code, until when."""

    given_names: str
    family_name: str
    code: str
    expires_at: datetime


def read_card(ctx: Context, actor: Actor, shown: CardShown) -> Visit:
    """Check the card's signature of the reader's challenge (spending it), and say whether its holder has a record."""
    ins = cards.holder_ins(ctx, actor, shown)
    record = records_repository.living_record_for_ins(ctx.session, ins)
    if record is None:
        gate.record_unknown_record(ctx, actor, Action.CARD_READ, uuid.UUID(int=0), f"ins-card:{ins[:2]}")
        state = None
    else:
        state = RecordState(record.state)
        gate.authorize(ctx, actor, Action.CARD_READ, patient_id=record.patient_id, state=state, card_presented=True)
    now = clock.now()
    visit = CardVisit(
        id=uuid.uuid4(),
        reader=cards.reader_of(actor),
        card_serial=shown.serial,
        ins=ins,
        read_at=now,
        expires_at=now + VISIT_LIFETIME,
        ended_at=None,
    )
    ctx.session.add(visit)
    ctx.session.flush()
    return Visit(visit.id, state, visit.expires_at)


def _visit(ctx: Context, actor: Actor, visit_id: uuid.UUID) -> CardVisit:
    """This reader's visit, while it lasts; a visit of another reader answers as an ended one."""
    visit = ctx.session.get(CardVisit, visit_id)
    if visit is None or visit.reader != cards.reader_of(actor) or visit.ended_at is not None:
        raise Forbidden(ENDED, code="visit-ended")
    if visit.expires_at <= clock.now():
        raise Forbidden(ENDED, code="visit-ended")
    return visit


def current(ctx: Context, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """The visit again (after a refused form), with its holder's record state as it is now."""
    visit = _visit(ctx, actor, visit_id)
    record = records_repository.living_record_for_ins(ctx.session, visit.ins)
    return Visit(visit.id, record.state if record is not None else None, visit.expires_at)


def end(ctx: Context, actor: Actor, visit_id: uuid.UUID) -> None:
    """The visitor leaves: the visit serves no further step (an ended or unknown one is left as it is)."""
    ctx.session.execute(
        update(CardVisit)
        .where(CardVisit.id == visit_id, CardVisit.reader == cards.reader_of(actor), CardVisit.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


def open_record(
    ctx: Context, actor: Actor, visit_id: uuid.UUID, identity: PatientIdentity, *, channel: Channel | None = None
) -> OpenedRecord:
    """Open the holder's record with their agreement; their activation code, once."""
    return cards.open_holder_record(ctx, actor, _visit(ctx, actor, visit_id).ins, identity, channel=channel)


def new_activation_code(ctx: Context, actor: Actor, visit_id: uuid.UUID) -> accounts.IssuedCode:
    """A new activation code for the holder's account (a lost password or second factor); the old ones end."""
    return cards.reissue_for_holder(ctx, actor, _visit(ctx, actor, visit_id).ins)


def authorise(ctx: Context, actor: Actor, visit_id: uuid.UUID) -> tuple[uuid.UUID, AuthorisationView]:
    """A pharmacist or a professional is authorised on the holder's record by this reading of the card."""
    return cards.authorise_holder(ctx, actor, _visit(ctx, actor, visit_id).ins)


def activation_letter(ctx: Context, actor: Actor, visit_id: uuid.UUID, code: str) -> Letter:
    """The letter for the code this visit just gave: only the holder's current code makes one."""
    visit = _visit(ctx, actor, visit_id)
    record = cards.holder_record(ctx, actor, Action.CARD_READ, visit.ins)
    state = RecordState(record.state)
    gate.authorize(
        ctx,
        actor,
        Action.CARD_READ,
        patient_id=record.patient_id,
        state=state,
        card_presented=True,
        subject="activation-letter",
    )
    normalized = normalize_code(code)
    issued = ctx.session.scalars(
        select(ActivationCode).where(
            ActivationCode.patient_id == record.patient_id,
            ActivationCode.code_hash == digest(normalized),
            ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > clock.now(),
        )
    ).one_or_none()
    if issued is None:
        raise Invalid(WRONG_CODE, code="not-the-current-code")
    identity = record_identity(ctx, record.patient_id)
    return Letter(identity.given_names, identity.family_name, code.strip(), issued.expires_at)


def link_child(ctx: Context, actor: Actor, visit_id: uuid.UUID, child_ins: str, birth_date: date) -> date:
    """At an insurance desk, the holder becomes the legal representative of their minor child, both present with
    the papers that prove it (the agent copies the child's INS and birth date from them). Until the child's 18th
    birthday, which is returned. A child with no record, or another birth date, gets the same answer."""
    visit = _visit(ctx, actor, visit_id)  # who may make the link is the gate's to say (access.policy)
    child = parse_ins(child_ins).value
    if child == visit.ins:
        raise Invalid("The child's INS is the card holder's own.", code="invalid-representative")
    parent = records_repository.living_record_for_ins(ctx.session, visit.ins)
    if parent is None or parent.state != RecordState.OPEN.value:
        raise Conflict("The parent needs an open record first: open it, then link the child.", code="parent-no-record")
    minor = records_repository.living_record_for_ins(ctx.session, child)
    if minor is None:
        gate.record_unknown_record(ctx, actor, Action.REPRESENTATIVE_LINK, uuid.UUID(int=0), f"ins-child:{child[:2]}")
        raise NotFound(NO_MATCHING_CHILD, code="no-matching-child")
    return link_representative(
        ctx, actor, minor.patient_id, parent.patient_id, card_presented=True, expected_birth_date=birth_date
    )
