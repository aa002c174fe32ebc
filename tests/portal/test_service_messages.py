"""The services' refusals the portal shows are in its catalogue, so a reworded one cannot stay in English."""

from __future__ import annotations

import uuid

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.identity import accounts
from carnet.identity.passwords import check_strength
from carnet.kit.errors import CarnetError
from carnet.kit.identifiers import parse_ins
from carnet.notify.service import set_notification_settings
from carnet.portal.messages import BY_CODE, SERVICE_MESSAGES
from carnet.portal.web import known_messages, translations

WEAK = [
    ("court", ()),
    ("a" * 129, ()),
    ("aaaaaaaaaaaaaab", ()),
    ("claire-sous-la-pluie", ("Claire",)),
    ("9137-4620-58!?", ()),
    ("Motdepasse2024!", ()),
]


def _refusal(call: object) -> CarnetError:
    assert callable(call)
    with pytest.raises(CarnetError) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(("password", "personal"), WEAK)
def test_each_password_rule_is_translated(password: str, personal: tuple[str, ...]) -> None:
    refusal = _refusal(lambda: check_strength(password, personal=personal))
    assert refusal.message in SERVICE_MESSAGES
    assert translations("fr").gettext(refusal.message) != refusal.message


def test_the_sign_in_refusals_are_translated() -> None:
    for message in (accounts.NO_MATCH, accounts.BAD_CREDENTIALS):
        assert message in SERVICE_MESSAGES and message in known_messages("fr")


def test_identifier_refusals_are_translated() -> None:
    for raw in ("185127512345", "000000000000000", "285037512345699"):
        refusal = _refusal(lambda raw=raw: parse_ins(raw))
        assert refusal.message in SERVICE_MESSAGES or refusal.code in BY_CODE


def test_contact_refusals_are_translated(ctx: Context) -> None:
    patient = Actor.patient(uuid.uuid4())
    for email, phone in (("not-an-address", None), (None, "0612")):
        refusal = _refusal(
            lambda email=email, phone=phone: set_notification_settings(
                ctx, patient, uuid.UUID(patient.ref), email=email, phone=phone, wanted=[]
            )
        )
        assert refusal.message in SERVICE_MESSAGES


def test_every_listed_message_has_its_french() -> None:
    for message in (*SERVICE_MESSAGES, *BY_CODE.values()):
        assert translations("fr").gettext(message) != message, message
