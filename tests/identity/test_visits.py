"""A visit at a counter or a desk: the card read once says whether a record exists, and serves the visit's steps."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carnet.access import repository as access_repository
from carnet.access.actor import Actor
from carnet.context import Context
from carnet.identity import visits
from carnet.identity.cards import CardShown, SimulatedCard, issue_challenge, reader_of, register_card
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.records.models import Record
from carnet.records.service import close_record
from tests.factories import IDENTITY, SYSTEM, finess, new_ins, open_test_record, rpps

DESK = Actor.desk("AGENT7", "CPAM44")
OTHER_DESK = Actor.desk("AGENT8", "CPAM44")
PHARMACIST = Actor.professional(rpps(31), "21", finess(31))


def _card(ctx: Context, *, with_record: bool) -> tuple[str, SimulatedCard, uuid.UUID | None]:
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**10:010d}")
    register_card(ctx, SYSTEM, ins, card.serial, card.public_key())
    return ins, card, open_test_record(ctx, ins=ins) if with_record else None


def _shown(ctx: Context, actor: Actor, card: SimulatedCard) -> CardShown:
    challenge = issue_challenge(ctx, actor)
    return CardShown(challenge.id, card.serial, card.sign(challenge, reader_of(actor)))


def test_the_card_says_at_once_whether_its_holder_has_a_record(ctx: Context) -> None:
    _, without, _ = _card(ctx, with_record=False)
    _, holder, patient_id = _card(ctx, with_record=True)
    assert visits.read_card(ctx, DESK, _shown(ctx, DESK, without)).state is None
    visit = visits.read_card(ctx, DESK, _shown(ctx, DESK, holder))
    assert visit.state == "open"
    ctx.session.flush()
    traced = ctx.audit[-1]
    assert (traced.chain_id, traced.action, traced.allowed) == (patient_id, "card.read", True)


def test_a_typo_needs_no_second_reading_and_the_record_opens_once(ctx: Context) -> None:
    ins, card, _ = _card(ctx, with_record=False)
    visit = visits.read_card(ctx, PHARMACIST, _shown(ctx, PHARMACIST, card))
    opened = visits.open_record(ctx, PHARMACIST, visit.id, IDENTITY)
    record = ctx.session.scalars(select(Record).where(Record.ins == ins)).one()
    assert (record.channel, record.patient_id) == ("pharmacy", opened.patient_id)
    assert visits.current(ctx, PHARMACIST, visit.id).state == "open"
    with pytest.raises(Conflict):
        visits.open_record(ctx, PHARMACIST, visit.id, IDENTITY)
    letter = visits.activation_letter(ctx, PHARMACIST, visit.id, opened.activation_code)
    assert (letter.family_name, letter.code) == (IDENTITY.family_name, opened.activation_code)
    with pytest.raises(Invalid):
        visits.activation_letter(ctx, PHARMACIST, visit.id, "AAAA-BBBB-CCCC")
    renewed = visits.new_activation_code(ctx, PHARMACIST, visit.id)
    with pytest.raises(Invalid):  # the first code stopped working: no letter for it
        visits.activation_letter(ctx, PHARMACIST, visit.id, opened.activation_code)
    assert visits.activation_letter(ctx, PHARMACIST, visit.id, renewed.code).code == renewed.code


def test_a_visit_serves_only_its_reader_and_only_while_it_lasts(ctx: Context) -> None:
    _, card, _ = _card(ctx, with_record=False)
    visit = visits.read_card(ctx, DESK, _shown(ctx, DESK, card))
    with pytest.raises(Forbidden) as other:
        visits.open_record(ctx, OTHER_DESK, visit.id, IDENTITY)
    assert other.value.code == "visit-ended"
    with clock.pinned_at(clock.now() + visits.VISIT_LIFETIME + timedelta(seconds=1)), pytest.raises(Forbidden):
        visits.open_record(ctx, DESK, visit.id, IDENTITY)
    visits.end(ctx, DESK, visit.id)
    with pytest.raises(Forbidden):
        visits.current(ctx, DESK, visit.id)
    with pytest.raises(Forbidden):
        visits.current(ctx, DESK, uuid.uuid4())


def test_a_desk_links_a_parent_to_their_child_when_the_papers_match(ctx: Context) -> None:
    _, parent_card, parent_id = _card(ctx, with_record=True)
    assert parent_id is not None
    child_ins = new_ins()
    born = date(clock.today().year - 8, 6, 15)
    child = IDENTITY.model_copy(update={"given_names": "Léa", "birth_date": born})
    child_id = open_test_record(ctx, ins=child_ins, identity=child)
    visit = visits.read_card(ctx, DESK, _shown(ctx, DESK, parent_card))
    with pytest.raises(NotFound) as wrong_date:
        visits.link_child(ctx, DESK, visit.id, child_ins, born - timedelta(days=1))
    with pytest.raises(NotFound) as no_record:
        visits.link_child(ctx, DESK, visit.id, new_ins(), born)
    assert str(wrong_date.value) == str(no_record.value)  # an INS with no record answers the same: no probing
    assert not access_repository.is_representative(ctx.session, child_id, parent_id, clock.today())
    until = visits.link_child(ctx, DESK, visit.id, child_ins, born)
    assert until == date(born.year + 18, born.month, born.day)
    assert access_repository.is_representative(ctx.session, child_id, parent_id, clock.today())
    with pytest.raises(Forbidden):  # a pharmacist does not make this link, even with the card read
        pharmacy = visits.read_card(ctx, PHARMACIST, _shown(ctx, PHARMACIST, parent_card))
        visits.link_child(ctx, PHARMACIST, pharmacy.id, child_ins, born)


def test_a_desk_links_no_adult_and_no_closed_record(ctx: Context) -> None:
    _, parent_card, parent_id = _card(ctx, with_record=True)
    adult_ins = new_ins()
    open_test_record(ctx, ins=adult_ins)  # born in 1985
    visit = visits.read_card(ctx, DESK, _shown(ctx, DESK, parent_card))
    with pytest.raises(Invalid) as of_age:
        visits.link_child(ctx, DESK, visit.id, adult_ins, IDENTITY.birth_date)
    assert of_age.value.code == "not-a-minor"
    assert parent_id is not None
    close_record(ctx, Actor.patient(parent_id), parent_id)
    with pytest.raises(Conflict):
        visits.link_child(ctx, DESK, visit.id, adult_ins, IDENTITY.birth_date)
