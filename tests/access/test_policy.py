"""`decide()` over every profession x class x mode x flag x record state x relation, against a hand-written
table, and invariants that must hold whatever the input."""

from __future__ import annotations

import csv
import itertools
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.access.actor import Actor, ActorKind, Mode
from carnet.access.matrix import ADVANCE_DIRECTIVES, Matrix, shipped_cells
from carnet.access.policy import (
    ITEM_READS,
    READS,
    Action,
    Decision,
    ItemFacts,
    Reason,
    RecordFacts,
    RecordState,
    Relation,
    Standing,
    decide,
    decide_unscoped,
)
from carnet.kit.professions import PROFESSIONS
from carnet.records.codes import DOCUMENT_CLASSES

MATRIX = Matrix(version=1, cells=shipped_cells())
RPPS = "10000000018"
FLAGS = ("none", "masked", "hidden_from_patient", "hidden_from_representatives")
PATIENT_RELATIONS = ("own_patient", "representative")
PROFESSIONAL_RELATIONS = ("regular_doctor", "author", "authorised", "unauthorised", "blocked")
MODES = {
    "normal": Mode.NORMAL,
    "emergency": Mode.EMERGENCY,
    "regulation": Mode.REGULATION,
    "deposit_only": Mode.DEPOSIT_ONLY,
}


@dataclass(frozen=True)
class Row:
    relation: str
    mode: str
    profession: str
    flag: str
    state: str
    outcome: str

    def matches(self, relation: str, mode: str, profession: str, flag: str, state: str) -> bool:
        def field(pattern: str, value: str) -> bool:
            if pattern == "*":
                return True
            if pattern.startswith("!"):
                return value != pattern[1:]
            return pattern == value

        return all(
            field(p, v)
            for p, v in zip(
                (self.relation, self.mode, self.profession, self.flag, self.state),
                (relation, mode, profession, flag, state),
                strict=True,
            )
        )


def expected_rows() -> list[Row]:
    lines = (Path(__file__).parent / "expected_decisions.csv").read_text(encoding="utf-8").splitlines()
    return [Row(**row) for row in csv.DictReader(line for line in lines if not line.startswith("#"))]


ROWS = expected_rows()


def expected(relation: str, mode: str, profession: str, flag: str, state: str, class_code: str) -> tuple[bool, str]:
    outcome = next(r.outcome for r in ROWS if r.matches(relation, mode, profession, flag, state))
    matrix_allows = MATRIX.allows(profession, class_code)
    if outcome == "allow":
        return True, ""
    if outcome == "matrix":
        return (True, "") if matrix_allows else (False, "matrix")
    if outcome == "masked":
        return False, "masked" if matrix_allows else "matrix"
    return False, outcome.removeprefix("deny:")


def situation(
    relation: str, mode: str, profession: str, flag: str, class_code: str
) -> tuple[Actor, Standing, ItemFacts]:
    episode = MODES[mode] if mode in ("emergency", "regulation") else None
    if relation in PATIENT_RELATIONS:
        actor = Actor(ActorKind.PATIENT, "patient-ref")
        standing = Standing(Relation.OWN_PATIENT if relation == "own_patient" else Relation.REPRESENTATIVE)
    else:
        actor = Actor.professional(RPPS, profession, mode=MODES[mode])
        standing = Standing(
            Relation.PROFESSIONAL,
            blocked=relation == "blocked",
            authorisation="read_write" if relation in ("author", "authorised", "blocked") else None,
            regular_doctor=relation == "regular_doctor",
            episode=episode,
        )
    item = ItemFacts(
        class_code=class_code,
        authored_by_actor=relation == "author",
        masked=flag == "masked",
        hidden_from_patient=flag == "hidden_from_patient",
        hidden_from_representatives=flag == "hidden_from_representatives",
    )
    return actor, standing, item


def cases() -> list[tuple[str, str, str, str, str, str]]:
    out = []
    for state, flag, class_code in itertools.product(("open", "closed", "destroyed"), FLAGS, DOCUMENT_CLASSES):
        for relation in PATIENT_RELATIONS:
            out.append((relation, "normal", "-", flag, state, class_code))
        for relation, mode, profession in itertools.product(PROFESSIONAL_RELATIONS, MODES, PROFESSIONS):
            out.append((relation, mode, profession, flag, state, class_code))
    return out


CASES = cases()


def test_the_table_covers_every_combination() -> None:
    # 3 states x 4 flags x 11 classes x (2 patient relations + 5 relations x 4 modes x 22 professions)
    assert len(CASES) == 3 * 4 * 11 * (2 + 5 * 4 * 22) == 58_344


@pytest.mark.parametrize("state", ["open", "closed", "destroyed"])
def test_decide_matches_the_expected_table(state: str) -> None:
    mismatches: list[tuple[object, ...]] = []
    for relation, mode, profession, flag, case_state, class_code in CASES:
        if case_state != state:
            continue
        actor, standing, item = situation(relation, mode, profession, flag, class_code)
        decision = decide(actor, Action.DOCUMENT_READ, RecordFacts(RecordState(state)), standing, item, MATRIX)
        want_allowed, want_reason = expected(relation, mode, profession, flag, state, class_code)
        got = (decision.allowed, "" if decision.allowed else decision.reason.value)
        if got != (want_allowed, want_reason):
            mismatches.append((relation, mode, profession, flag, class_code, got, (want_allowed, want_reason)))
        warn = decision.allowed and relation in PROFESSIONAL_RELATIONS and flag == "hidden_from_patient"
        if decision.warn_hidden_from_patient != warn:
            mismatches.append((relation, mode, profession, flag, class_code, "warning", warn))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_the_specs_examples_hold_in_the_shipped_matrix() -> None:
    pharmacist = {c for p, c in MATRIX.cells if p == "21"}
    assert pharmacist == {"42", "43", "44", "45", "11", "10"}  # SPEC §4.4: reads these, not 31
    assert not MATRIX.allows("80", "44") and not MATRIX.allows("80", ADVANCE_DIRECTIVES)
    assert all(MATRIX.allows("10", c) for c in DOCUMENT_CLASSES)
    assert {p for p, _ in MATRIX.cells} == set(PROFESSIONS)


def test_advance_directives_need_their_own_column() -> None:
    item = ItemFacts(class_code="10", advance_directive=True)
    standing = Standing(Relation.PROFESSIONAL, authorisation="read_write")
    podiatrist = Actor.professional(RPPS, "80")
    nurse = Actor.professional(RPPS, "60")
    facts = RecordFacts(RecordState.OPEN)
    assert decide(podiatrist, Action.PROFILE_READ, facts, standing, item, MATRIX) == Decision(False, Reason.MATRIX)
    assert decide(nurse, Action.PROFILE_READ, facts, standing, item, MATRIX).allowed


# Invariants over arbitrary inputs -------------------------------------------------------------------------

actors = st.builds(
    Actor,
    kind=st.sampled_from(list(ActorKind)),
    ref=st.sampled_from(["a", RPPS]),
    profession=st.sampled_from([None, *PROFESSIONS]),
    mode=st.sampled_from(list(Mode)),
)
standings = st.builds(
    Standing,
    relation=st.sampled_from(list(Relation)),
    blocked=st.booleans(),
    authorisation=st.sampled_from([None, "read_write", "deposit"]),
    regular_doctor=st.booleans(),
    episode=st.sampled_from([None, Mode.EMERGENCY, Mode.REGULATION]),
)
records = st.builds(
    RecordFacts,
    state=st.sampled_from(list(RecordState)),
    emergency_opt_out=st.booleans(),
    regulation_opt_out=st.booleans(),
)
items = st.one_of(
    st.none(),
    st.builds(
        ItemFacts,
        class_code=st.sampled_from(list(DOCUMENT_CLASSES)),
        advance_directive=st.booleans(),
        authored_by_actor=st.booleans(),
        masked=st.booleans(),
        hidden_from_patient=st.booleans(),
        hidden_from_representatives=st.booleans(),
    ),
)
ALLOWING = {
    Reason.OWN_RECORD,
    Reason.REPRESENTATIVE,
    Reason.SYSTEM_JOB,
    Reason.AUTHORISED,
    Reason.REGULAR_DOCTOR,
    Reason.EMERGENCY,
    Reason.REGULATION,
    Reason.DEPOSIT_ONLY,
    Reason.CARD_PRESENCE,
}


def test_operators_read_trails_and_nothing_else() -> None:
    operator = Actor.operator(uuid.uuid4())
    assert decide_unscoped(operator, Action.TRAIL_READ) == Decision(True, Reason.AUDIT_DUTY)
    for someone in (Actor.professional("10000000007", "10"), Actor.patient(uuid.uuid4()), Actor.system("feed")):
        assert not decide_unscoped(someone, Action.TRAIL_READ).allowed


@given(actors, st.sampled_from(list(Action)), records, standings, items)
def test_invariants(
    actor: Actor, action: Action, record: RecordFacts, standing: Standing, item: ItemFacts | None
) -> None:
    decision = decide(actor, action, record, standing, item, MATRIX)
    if not decision.allowed:
        return
    # Nothing is allowed without a rule that names it.
    assert decision.reason in ALLOWING
    assert standing.relation is not Relation.NONE
    # A destroyed record allows one thing: a job removing what remains of it.
    assert record.state is not RecordState.DESTROYED or (action, actor.kind) == (Action.RECORD_PURGE, ActorKind.SYSTEM)
    if actor.kind is ActorKind.PROFESSIONAL:
        # A blocked professional is never allowed, in any mode.
        assert not standing.blocked
        assert record.state is RecordState.OPEN
        # An opted-out patient's record is never opened in that emergency mode.
        assert not (actor.mode is Mode.EMERGENCY and record.emergency_opt_out)
        assert not (actor.mode is Mode.REGULATION and record.regulation_opt_out)
        if item is not None and action in ITEM_READS and not item.authored_by_actor:
            # A masked document is never shown to a professional who is neither its author nor the regular doctor.
            assert not item.masked or standing.regular_doctor
            assert actor.profession is not None and MATRIX.allows(actor.profession, item.class_code)
    if actor.kind is ActorKind.SYSTEM:
        assert action not in READS
    if actor.kind is ActorKind.PATIENT and item is not None:
        assert not item.hidden_from_patient
        assert not (standing.relation is Relation.REPRESENTATIVE and item.hidden_from_representatives)
