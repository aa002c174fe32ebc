"""The contact the insurer's card registry holds for a card's holder: where an online opening's code goes.

A card may have no record yet, hence no record key: its contact is encrypted under a key of the card's own,
wrapped by the master key (as an operator's TOTP seed is). Only the outbox's worker reads it, to deliver.
"""

from __future__ import annotations

import re

from carnet.context import Context
from carnet.identity.models import VitaleCard
from carnet.kit.crypto import DataKey, new_data_key
from carnet.kit.errors import Invalid
from carnet.kit.identifiers import EMAIL

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


def contact_ct(card: VitaleCard, channel: str) -> bytes | None:
    return card.contact_email_ct if channel == "email" else card.contact_phone_ct


def read_contact(ctx: Context, card: VitaleCard, channel: str) -> str | None:
    """The registered address for this channel, for the worker that delivers a message to it."""
    sealed = contact_ct(card, channel)
    if sealed is None:
        return None
    return card_key(ctx, card).decrypt_text(sealed, aad=contact_aad(channel, card.serial))
