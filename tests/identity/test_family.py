"""Legal representatives from the insurer's registry: a minor covered on a parent's card is linked to them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from carnet.access.actor import Actor
from carnet.access.models import Representative
from carnet.access.service import represented, represents
from carnet.context import Context
from carnet.identity.cards import (
    CardShown,
    SimulatedCard,
    cover_minors,
    issue_challenge,
    open_record_with_card,
    register_card,
)
from carnet.identity.registry import link_family
from carnet.kit import clock
from carnet.kit.errors import Invalid
from carnet.records.schemas import PatientIdentity
from tests.factories import SYSTEM, new_ins, open_test_record

DESK = Actor.desk("AGENT7", "CPAM44")


def _child(born: date) -> PatientIdentity:
    return PatientIdentity(family_name="Dupont", given_names="Léa", birth_date=born, sex="F", postcode="44000")


def _years_ago(years: int, days: int = 0) -> date:
    today = clock.today()
    return today.replace(year=today.year - years) - timedelta(days=days)


def _card(ctx: Context, ins: str, minors: list[tuple[str, date]] | None = None) -> SimulatedCard:
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**10:010d}")
    register_card(ctx, SYSTEM, ins, card.serial, card.public_key(), minors=minors or [])
    return card


def _links(ctx: Context, minor_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        ctx.session.scalars(select(Representative.representative_id).where(Representative.patient_id == minor_id))
    )


def test_a_minor_covered_on_a_parents_card_gets_the_parent_as_representative(ctx: Context) -> None:
    parent_ins, child_ins = new_ins(), new_ins()
    parent_id = open_test_record(ctx, ins=parent_ins)
    child_id = open_test_record(ctx, ins=child_ins, identity=_child(_years_ago(8)))
    _card(ctx, parent_ins, [(child_ins, _years_ago(8))])
    assert _links(ctx, child_id) == [parent_id]
    parent = Actor.patient(parent_id)
    assert represents(ctx, parent, child_id) and not represents(ctx, Actor.patient(child_id), parent_id)
    [minor] = represented(ctx, parent)
    assert (minor.patient_id, minor.given_names) == (child_id, "Léa")
    assert minor.until == _years_ago(8).replace(year=_years_ago(8).year + 18)


def test_the_link_is_made_when_the_second_record_opens_and_only_once(ctx: Context) -> None:
    parent_ins, child_ins = new_ins(), new_ins()
    parent_id = open_test_record(ctx, ins=parent_ins)
    _card(ctx, parent_ins, [(child_ins, _years_ago(13))])  # the child has no record yet: nothing to link
    child_card = _card(ctx, child_ins)  # a teenager has a card of their own
    challenge = issue_challenge(ctx, DESK)
    shown = CardShown(challenge.id, child_card.serial, child_card.sign(challenge, "desk:AGENT7"))
    opened = open_record_with_card(ctx, DESK, shown, _child(_years_ago(13)))
    assert _links(ctx, opened.patient_id) == [parent_id]
    assert link_family(ctx, child_ins) == 0  # already linked: nothing new, nothing audited again


def test_an_adult_is_not_covered_as_a_minor_and_a_grown_up_minor_is_not_linked(ctx: Context) -> None:
    parent_ins, adult_ins = new_ins(), new_ins()
    open_test_record(ctx, ins=parent_ins)
    with pytest.raises(Invalid, match="of age"):
        _card(ctx, parent_ins, [(adult_ins, _years_ago(18))])
    with pytest.raises(Invalid):
        _card(ctx, parent_ins, [(parent_ins, _years_ago(5))])  # the holder is not their own minor


def test_the_registry_and_the_record_disagreeing_on_the_age_makes_no_link(ctx: Context) -> None:
    parent_ins, child_ins = new_ins(), new_ins()
    open_test_record(ctx, ins=parent_ins)
    child_id = open_test_record(ctx, ins=child_ins, identity=_child(_years_ago(30)))  # the record says adult
    card = _card(ctx, parent_ins)
    cover_minors(ctx, SYSTEM, card.serial, [(child_ins, _years_ago(10))])
    assert _links(ctx, child_id) == []


def test_only_the_insurers_systems_register_minors(ctx: Context) -> None:
    parent_ins = new_ins()
    open_test_record(ctx, ins=parent_ins)
    card = _card(ctx, parent_ins)
    with pytest.raises(Exception, match="not allowed"):
        cover_minors(ctx, Actor.patient(uuid.uuid4()), card.serial, [(new_ins(), _years_ago(3))])
