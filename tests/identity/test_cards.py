from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from carnet.access.actor import Actor
from carnet.access.service import block
from carnet.context import Context
from carnet.identity.cards import SimulatedCard, issue_challenge, present_card, register_card
from carnet.identity.models import CardChallenge
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from tests.factories import SYSTEM, new_ins, open_test_record, rpps

DOCTOR = Actor.professional(rpps(11), "10")
PHARMACIST = Actor.professional(rpps(12), "21")


@pytest.fixture
def card_holder(ctx: Context) -> tuple[uuid.UUID, SimulatedCard]:
    ins = new_ins()
    patient_id = open_test_record(ctx, ins=ins)
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**10:010d}")
    register_card(ctx, SYSTEM, ins, card.serial, card.public_key())
    return patient_id, card


def test_presenting_the_card_authorises_the_professional(
    ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]
) -> None:
    patient_id, card = card_holder
    with pytest.raises(Forbidden):
        list_documents(ctx, PHARMACIST, patient_id, DocumentQuery())
    challenge = issue_challenge(ctx, PHARMACIST)
    found, authorisation = present_card(
        ctx, PHARMACIST, challenge.id, card.serial, card.sign(challenge, PHARMACIST.ref)
    )
    assert found == patient_id
    assert (authorisation.granted_via, authorisation.scope) == ("card", "read_write")
    list_documents(ctx, PHARMACIST, patient_id, DocumentQuery())


def test_a_replayed_challenge_is_refused(ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]) -> None:
    _, card = card_holder
    challenge = issue_challenge(ctx, DOCTOR)
    signature = card.sign(challenge, DOCTOR.ref)
    present_card(ctx, DOCTOR, challenge.id, card.serial, signature)
    with pytest.raises(Forbidden, match="already used"):
        present_card(ctx, DOCTOR, challenge.id, card.serial, signature)


def test_an_expired_challenge_is_refused(ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]) -> None:
    _, card = card_holder
    challenge = issue_challenge(ctx, DOCTOR)
    ctx.session.execute(
        update(CardChallenge)
        .where(CardChallenge.id == challenge.id)
        .values(expires_at=clock.now() - timedelta(seconds=1))
    )
    with pytest.raises(Forbidden, match="expired"):
        present_card(ctx, DOCTOR, challenge.id, card.serial, card.sign(challenge, DOCTOR.ref))


def test_a_challenge_signed_by_another_card_is_refused(
    ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]
) -> None:
    patient_id, card = card_holder
    impostor = SimulatedCard.new("FAKE000001")
    challenge = issue_challenge(ctx, DOCTOR)
    with pytest.raises(Forbidden, match="signature does not match"):
        present_card(ctx, DOCTOR, challenge.id, card.serial, impostor.sign(challenge, DOCTOR.ref))
    with pytest.raises(Forbidden):
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())


def test_a_signature_for_another_professional_or_their_challenge_is_refused(
    ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]
) -> None:
    _, card = card_holder
    challenge = issue_challenge(ctx, DOCTOR)
    with pytest.raises(Forbidden, match="signature does not match"):  # signed for the doctor, shown by a pharmacist
        present_card(ctx, DOCTOR, challenge.id, card.serial, card.sign(challenge, PHARMACIST.ref))
    other = issue_challenge(ctx, DOCTOR)
    with pytest.raises(Forbidden, match="unknown"):  # the doctor's challenge, used by the pharmacist
        present_card(ctx, PHARMACIST, other.id, card.serial, card.sign(other, PHARMACIST.ref))


def test_unknown_card_and_blocked_professional(ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]) -> None:
    patient_id, card = card_holder
    challenge = issue_challenge(ctx, DOCTOR)
    stranger = SimulatedCard.new("UNKNOWN0001")
    with pytest.raises(Forbidden, match="not a valid carte Vitale"):
        present_card(ctx, DOCTOR, challenge.id, stranger.serial, stranger.sign(challenge, DOCTOR.ref))
    block(ctx, Actor.patient(patient_id), patient_id, DOCTOR.ref)
    challenge = issue_challenge(ctx, DOCTOR)
    with pytest.raises(Forbidden, match="not authorised"):
        present_card(ctx, DOCTOR, challenge.id, card.serial, card.sign(challenge, DOCTOR.ref))


def test_card_registration_checks_its_input(ctx: Context, card_holder: tuple[uuid.UUID, SimulatedCard]) -> None:
    patient_id, card = card_holder
    ins = new_ins()
    with pytest.raises(Conflict):
        register_card(ctx, SYSTEM, ins, card.serial, card.public_key())
    with pytest.raises(Invalid, match="serial"):
        register_card(ctx, SYSTEM, ins, "bad serial", card.public_key())
    with pytest.raises(Invalid, match="32 bytes"):
        register_card(ctx, SYSTEM, ins, "VIT0000000001", b"short")
    with pytest.raises(Invalid, match="INS"):
        register_card(ctx, SYSTEM, "123", "VIT0000000001", card.public_key())
    with pytest.raises(Forbidden):  # only the insurer's systems register cards
        register_card(ctx, DOCTOR, ins, "VIT0000000002", card.public_key())
    with pytest.raises(Forbidden):
        issue_challenge(ctx, Actor.patient(patient_id))


def test_a_card_without_a_record_cannot_authorise(ctx: Context) -> None:
    card = SimulatedCard.new("VIT7777777701")
    register_card(ctx, SYSTEM, new_ins(), card.serial, card.public_key())
    challenge = issue_challenge(ctx, DOCTOR)
    with pytest.raises(NotFound, match="no record yet"):
        present_card(ctx, DOCTOR, challenge.id, card.serial, card.sign(challenge, DOCTOR.ref))
