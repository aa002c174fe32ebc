"""The access rules as one pure function. Deny by default: only what a rule names is allowed.

This first rule set knows two relations to a record: its own patient, and system jobs (imports,
seeding, scheduled destruction). Professionals, representatives and emergency modes come with the
full SPEC §4 rules; until then they are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carnet.access.actor import Actor, ActorKind


class Action(StrEnum):
    RECORD_OPEN = "record.open"
    RECORD_READ = "record.read"
    RECORD_CLOSE = "record.close"
    RECORD_REOPEN = "record.reopen"
    RECORD_REQUEST_DESTRUCTION = "record.request-destruction"
    RECORD_DESTROY = "record.destroy"
    DOCUMENT_DEPOSIT = "document.deposit"
    DOCUMENT_LIST = "document.list"
    DOCUMENT_READ = "document.read"
    DOCUMENT_REPLACE = "document.replace"
    DOCUMENT_WITHDRAW = "document.withdraw"
    PROFILE_WRITE = "profile.write"
    PROFILE_READ = "profile.read"
    PROFILE_RETIRE = "profile.retire"


class RecordState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DESTROYED = "destroyed"


class Reason(StrEnum):
    OWN_RECORD = "own-record"
    SYSTEM_JOB = "system-job"
    RECORD_DESTROYED = "record-destroyed"
    RECORD_CLOSED = "record-closed"
    NO_RULE = "no-rule"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason


READS = frozenset({Action.RECORD_READ, Action.DOCUMENT_LIST, Action.DOCUMENT_READ, Action.PROFILE_READ})

# What a patient may still do on their closed record: read it, reopen it, ask for its destruction.
_PATIENT_ON_CLOSED = READS | {Action.RECORD_REOPEN, Action.RECORD_REQUEST_DESTRUCTION}

_PATIENT_ON_OPEN = READS | {
    Action.RECORD_CLOSE,
    Action.RECORD_REQUEST_DESTRUCTION,
    Action.DOCUMENT_DEPOSIT,
    Action.DOCUMENT_REPLACE,
    Action.DOCUMENT_WITHDRAW,
    Action.PROFILE_WRITE,
    Action.PROFILE_RETIRE,
}

# System jobs write (imports, synthetic population) and carry out destruction; they never read content.
_SYSTEM_ON_OPEN = frozenset({Action.RECORD_OPEN, Action.DOCUMENT_DEPOSIT, Action.PROFILE_WRITE})
_SYSTEM_ON_CLOSED = frozenset({Action.RECORD_DESTROY})


def decide(actor: Actor, action: Action, *, state: RecordState, own_record: bool) -> Decision:
    """Whether `actor` may perform `action` on a record in `state`.

    `own_record` tells whether the actor is the record's patient; it is computed by the gate from
    stored data, never taken from the request.
    """
    if actor.kind is ActorKind.PATIENT and own_record:
        return _allowed_by_state(action, state, _PATIENT_ON_OPEN, _PATIENT_ON_CLOSED, Reason.OWN_RECORD)
    if actor.kind is ActorKind.SYSTEM:
        return _allowed_by_state(action, state, _SYSTEM_ON_OPEN, _SYSTEM_ON_CLOSED, Reason.SYSTEM_JOB)
    return Decision(False, Reason.NO_RULE)


def _allowed_by_state(
    action: Action,
    state: RecordState,
    on_open: frozenset[Action],
    on_closed: frozenset[Action],
    reason: Reason,
) -> Decision:
    if state is RecordState.DESTROYED:
        return Decision(False, Reason.RECORD_DESTROYED)
    allowed = on_open if state is RecordState.OPEN else on_closed
    if action in allowed:
        return Decision(True, reason)
    if state is RecordState.CLOSED and action in on_open:
        return Decision(False, Reason.RECORD_CLOSED)
    return Decision(False, Reason.NO_RULE)
