"""What the insurer's card registry holds beyond the card: its holder's contact (where an online opening's code
goes) and the minors covered on the card (where a legal representative's link comes from).

A card may have no record yet, hence no record key: its contact is encrypted under a key of the card's own,
wrapped by the master key (as an operator's TOTP seed is). Only the outbox's worker reads it, to deliver.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from carnet.access import repository as access_repository
from carnet.access.actor import Actor
from carnet.access.service import link_representative
from carnet.context import Context
from carnet.identity.models import CardMinor, VitaleCard
from carnet.kit import clock
from carnet.kit.crypto import DataKey, new_data_key
from carnet.kit.errors import Invalid
from carnet.kit.identifiers import EMAIL, parse_ins
from carnet.records import repository as records_repository

PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")
CONTACT_CHANNELS = ("email", "sms")


def contact_aad(channel: str, serial: str) -> str:
    return f"vitale_cards.{channel}:{serial}"


def card_key(ctx: Context, card: VitaleCard) -> DataKey:
    """The card's own key, made on first use."""
    if card.wrapped_key is None or card.master_key_id is None:
        master, key = ctx.keys.current(), new_data_key()
        card.master_key_id, card.wrapped_key = master.key_id, master.wrap(key, context=f"vitale_card:{card.serial}")
        return key
    return ctx.keys.get(card.master_key_id).unwrap(card.wrapped_key, context=f"vitale_card:{card.serial}")


def set_contact(ctx: Context, card: VitaleCard, *, email: str | None, phone: str | None) -> None:
    """The holder's e-mail and mobile number as the insurer knows them (the caller passed the gate)."""
    email = email.strip() if email else None
    phone = re.sub(r"[\s.\-]", "", phone) if phone else None
    if email is not None and not EMAIL.match(email):
        raise Invalid("The e-mail address is not valid.", code="invalid-email")
    if phone is not None and not PHONE.match(phone):
        raise Invalid("A mobile number is written in international form, e.g. +33612345678.", code="invalid-phone")
    key = card_key(ctx, card)
    card.contact_email_ct = key.encrypt_text(email, aad=contact_aad("email", card.serial)) if email else None
    card.contact_phone_ct = key.encrypt_text(phone, aad=contact_aad("sms", card.serial)) if phone else None


def card_keys_by_master(session: Session) -> dict[str, int]:
    """How many cards' contact keys each master key id wraps (for `carnet keys status`)."""
    column = VitaleCard.master_key_id
    statement = select(column, func.count()).where(column.is_not(None)).group_by(column)
    return {str(key_id): int(count) for key_id, count in session.execute(statement)}


def contact_ct(card: VitaleCard, channel: str) -> bytes | None:
    return card.contact_email_ct if channel == "email" else card.contact_phone_ct


def read_contact(ctx: Context, card: VitaleCard, channel: str) -> str | None:
    """The registered address for this channel, for the worker that delivers a message to it."""
    sealed = contact_ct(card, channel)
    if sealed is None:
        return None
    return card_key(ctx, card).decrypt_text(sealed, aad=contact_aad(channel, card.serial))


# Links between a parent and a minor come from the insurer's registry: the minors covered on the parent's card.
REGISTRY = Actor.system("card-registry")
log = logging.getLogger(__name__)


def cover_minors(ctx: Context, actor: Actor, card: VitaleCard, minors: Sequence[tuple[str, date]]) -> None:
    """The minors the insurer covers on this card (INS and birth date); each one's record is then linked to the
    holder's, when both exist (the caller passed the gate for registering cards)."""
    now = clock.now()
    for raw, birth in minors:
        ins = parse_ins(raw).value
        if ins == card.ins:
            raise Invalid("A card's holder is not a minor covered on their own card.", code="invalid-minor")
        if _majority(birth) <= clock.today():
            raise Invalid("This person is of age: a card does not cover them as a minor.", code="not-a-minor")
        ctx.session.execute(
            insert(CardMinor)
            .values(card_serial=card.serial, minor_ins=ins, birth_date=birth, registered_at=now)
            .on_conflict_do_update(index_elements=["card_serial", "minor_ins"], set_={"birth_date": birth})
        )
    ctx.session.flush()
    link_family(ctx, card.ins)


def _majority(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:  # born on 29 February
        return date(birth.year + 18, 3, 1)


def link_family(ctx: Context, ins: str) -> int:
    """Make each parent the registry names the legal representative of each minor it covers, where both have an
    open record and the link is not there yet: after a record opens (either side's) or a card's minors change.
    Returns how many links were made; each one is audited on both records by access.service."""
    today = clock.today()
    covered = (
        select(CardMinor.minor_ins, VitaleCard.ins, CardMinor.birth_date)
        .join(VitaleCard, VitaleCard.serial == CardMinor.card_serial)
        .where(VitaleCard.revoked_at.is_(None), or_(VitaleCard.ins == ins, CardMinor.minor_ins == ins))
    )
    made = 0
    for minor_ins, holder_ins, birth in ctx.session.execute(covered).all():
        if _majority(birth) <= today:
            continue
        minor = records_repository.living_record_for_ins(ctx.session, minor_ins)
        holder = records_repository.living_record_for_ins(ctx.session, holder_ins)
        if minor is None or holder is None or minor.state != "open" or holder.state != "open":
            continue
        if access_repository.is_representative(ctx.session, minor.patient_id, holder.patient_id, today):
            continue
        try:
            link_representative(ctx, REGISTRY, minor.patient_id, holder.patient_id)
        except Invalid as refused:  # the record's birth date says of age: the registry's is wrong; no link
            log.warning("No representative link for a covered minor: %s", refused.code)
            continue
        made += 1
    return made
