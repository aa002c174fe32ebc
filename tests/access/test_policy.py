"""The first rule set, exhaustively: every actor relation x action x record state."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.access.actor import Actor, ActorKind
from carnet.access.gate import authorize
from carnet.access.policy import Action, Decision, Reason, RecordState, decide
from carnet.kit.errors import Conflict, Forbidden, Gone, NotFound

A = Action
PATIENT_OPEN = {
    A.RECORD_READ,
    A.DOCUMENT_LIST,
    A.DOCUMENT_READ,
    A.PROFILE_READ,
    A.RECORD_CLOSE,
    A.RECORD_REQUEST_DESTRUCTION,
    A.DOCUMENT_DEPOSIT,
    A.DOCUMENT_REPLACE,
    A.DOCUMENT_WITHDRAW,
    A.PROFILE_WRITE,
    A.PROFILE_RETIRE,
}
PATIENT_CLOSED = {
    A.RECORD_READ,
    A.DOCUMENT_LIST,
    A.DOCUMENT_READ,
    A.PROFILE_READ,
    A.RECORD_REOPEN,
    A.RECORD_REQUEST_DESTRUCTION,
}
SYSTEM_OPEN = {A.RECORD_OPEN, A.DOCUMENT_DEPOSIT, A.PROFILE_WRITE}
SYSTEM_CLOSED = {A.RECORD_DESTROY}

EXPECTED_ALLOWED = {
    ("own-patient", RecordState.OPEN): PATIENT_OPEN,
    ("own-patient", RecordState.CLOSED): PATIENT_CLOSED,
    ("system", RecordState.OPEN): SYSTEM_OPEN,
    ("system", RecordState.CLOSED): SYSTEM_CLOSED,
}

ACTORS = {
    "own-patient": (Actor(ActorKind.PATIENT, "p1"), True),
    "other-patient": (Actor(ActorKind.PATIENT, "p2"), False),
    "professional": (Actor.professional("10000000018", "10"), False),
    "system": (Actor.system("job"), False),
}


@pytest.mark.parametrize(("relation", "action", "state"), list(itertools.product(ACTORS, Action, RecordState)))
def test_decision_table(relation: str, action: Action, state: RecordState) -> None:
    actor, own = ACTORS[relation]
    decision = decide(actor, action, state=state, own_record=own)
    assert decision.allowed == (action in EXPECTED_ALLOWED.get((relation, state), set()))
    if state is RecordState.DESTROYED and relation in ("own-patient", "system"):
        assert decision.reason is Reason.RECORD_DESTROYED
    if relation in ("other-patient", "professional"):
        assert decision == Decision(False, Reason.NO_RULE)


@given(
    st.sampled_from(list(ActorKind)),
    st.text(max_size=5),
    st.sampled_from(list(Action)),
    st.sampled_from(list(RecordState)),
    st.booleans(),
)
def test_invariants(kind: ActorKind, ref: str, action: Action, state: RecordState, own: bool) -> None:
    decision = decide(Actor(kind, ref), action, state=state, own_record=own)
    if state is RecordState.DESTROYED or kind is ActorKind.PROFESSIONAL:
        assert not decision.allowed
    if decision.allowed:
        assert decision.reason in (Reason.OWN_RECORD, Reason.SYSTEM_JOB)
    if kind is ActorKind.SYSTEM and action in (A.RECORD_READ, A.DOCUMENT_READ, A.DOCUMENT_LIST, A.PROFILE_READ):
        assert not decision.allowed  # jobs write and destroy; they never read medical content


def test_gate_errors_do_not_leak_to_strangers() -> None:
    import uuid

    patient_id = uuid.uuid4()
    stranger = Actor.professional("10000000018", "10")
    for state in RecordState:
        with pytest.raises(NotFound):
            authorize(stranger, A.DOCUMENT_READ, patient_id=patient_id, state=state)
    owner = Actor.patient(patient_id)
    with pytest.raises(Gone):
        authorize(owner, A.DOCUMENT_READ, patient_id=patient_id, state=RecordState.DESTROYED)
    with pytest.raises(Conflict):
        authorize(owner, A.DOCUMENT_DEPOSIT, patient_id=patient_id, state=RecordState.CLOSED)
    with pytest.raises(Forbidden):
        authorize(owner, A.RECORD_DESTROY, patient_id=patient_id, state=RecordState.CLOSED)
    assert authorize(owner, A.DOCUMENT_READ, patient_id=patient_id, state=RecordState.OPEN).allowed
