"""The one gate: every service function that touches patient data asks it before doing anything.

It runs the pure `decide()` and turns a refusal into an error that does not leak existence: an actor
with no relation to the record is told the record does not exist, whatever the reason.
"""

from __future__ import annotations

import uuid

from carnet.access.actor import Actor, ActorKind
from carnet.access.policy import Action, Decision, Reason, RecordState, decide
from carnet.kit.errors import CarnetError, Conflict, Forbidden, Gone, NotFound

NO_SUCH_RECORD = "No record was found for this patient."


def authorize(actor: Actor, action: Action, *, patient_id: uuid.UUID, state: RecordState) -> Decision:
    """Allow, or raise the error the actor may be shown."""
    own_record = actor.is_patient_of(patient_id)
    decision = decide(actor, action, state=state, own_record=own_record)
    if decision.allowed:
        return decision
    raise _refusal(decision, related=own_record or actor.kind is ActorKind.SYSTEM)


def _refusal(decision: Decision, *, related: bool) -> CarnetError:
    if not related:
        return NotFound(NO_SUCH_RECORD, code=decision.reason.value)
    if decision.reason is Reason.RECORD_DESTROYED:
        return Gone("This record was destroyed; nothing in it can be read or changed.", code=decision.reason)
    if decision.reason is Reason.RECORD_CLOSED:
        return Conflict(
            "This record is closed: it can be read by its patient and reopened, not changed.",
            code=decision.reason,
        )
    return Forbidden("This action is not allowed on this record.", code=decision.reason)
