"""The rules for desks, operators and unproven callers: a record opens only with the card; the rest is refused."""

from __future__ import annotations

import uuid

import pytest

from carnet.access.actor import Actor
from carnet.access.policy import Action, RecordFacts, RecordState, Relation, Standing, decide, decide_unscoped

DESK = Actor.desk("AGENT1")
PHARMACIST = Actor.professional("10000000017", "21", "750000018")
OPERATOR = Actor.operator(uuid.uuid4())
ANONYMOUS = Actor.anonymous("203.0.113.9")


@pytest.mark.parametrize("actor", [DESK, PHARMACIST])
@pytest.mark.parametrize("action", [Action.RECORD_OPEN, Action.ACTIVATION_CODE_ISSUE, Action.CARD_READ])
def test_opening_activation_codes_and_whether_a_record_exists_need_the_card(actor: Actor, action: Action) -> None:
    relation = Relation.PROFESSIONAL if actor is PHARMACIST else Relation.NONE
    assert decide(actor, action, RecordFacts(RecordState.OPEN, card_presented=True), Standing(relation)).allowed
    assert not decide(actor, action, RecordFacts(RecordState.OPEN), Standing(relation)).allowed
    destroyed = RecordFacts(RecordState.DESTROYED, card_presented=True)
    assert not decide(actor, action, destroyed, Standing(relation)).allowed


@pytest.mark.parametrize("actor", [DESK, OPERATOR, ANONYMOUS])
def test_no_medical_content_for_desks_operators_or_the_unproven(actor: Actor) -> None:
    facts = RecordFacts(RecordState.OPEN, card_presented=True)
    for action in Action:
        if action in (Action.RECORD_OPEN, Action.ACTIVATION_CODE_ISSUE, Action.CARD_READ) and actor is DESK:
            continue
        if action is Action.REPRESENTATIVE_LINK and actor is DESK:
            continue  # a link between two records, not a read: below
        assert not decide(actor, action, facts, Standing(Relation.NONE)).allowed, action


def test_who_may_ask_for_challenges_and_register_cards() -> None:
    assert decide_unscoped(DESK, Action.CARD_CHALLENGE).allowed
    assert decide_unscoped(PHARMACIST, Action.CARD_CHALLENGE).allowed
    assert not decide_unscoped(OPERATOR, Action.CARD_CHALLENGE).allowed
    assert decide_unscoped(Actor.system("insurer"), Action.CARD_REGISTER).allowed
    assert not decide_unscoped(PHARMACIST, Action.CARD_REGISTER).allowed


def test_only_a_desk_links_a_parent_and_a_child_and_only_with_the_card_on_open_records() -> None:
    card = RecordFacts(RecordState.OPEN, card_presented=True)
    assert decide(DESK, Action.REPRESENTATIVE_LINK, card, Standing(Relation.NONE)).allowed
    assert not decide(DESK, Action.REPRESENTATIVE_LINK, RecordFacts(RecordState.OPEN), Standing(Relation.NONE)).allowed
    closed = RecordFacts(RecordState.CLOSED, card_presented=True)
    assert not decide(DESK, Action.REPRESENTATIVE_LINK, closed, Standing(Relation.NONE)).allowed
    assert not decide(PHARMACIST, Action.REPRESENTATIVE_LINK, card, Standing(Relation.PROFESSIONAL)).allowed
