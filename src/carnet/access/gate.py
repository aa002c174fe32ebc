"""The one gate: every service function that touches patient data asks it before doing anything.

It gathers the facts from stored data (never from the request), runs the pure `decide()`, and turns a
refusal into an error that does not leak existence: an item the actor may not read is "not found",
exactly like a missing one, and a stranger to a record is told the record does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from carnet.access import repository
from carnet.access.actor import Actor, ActorKind, Mode
from carnet.access.matrix import Matrix
from carnet.access.policy import (
    Action,
    Decision,
    ItemFacts,
    ListFilter,
    Reason,
    RecordFacts,
    RecordState,
    Relation,
    Standing,
    decide,
    decide_item,
    decide_unscoped,
    list_filter,
    shows,
)
from carnet.audit.chain import NO_RECORD, AuditEvent
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Conflict, Forbidden, Gone, NotFound

NO_SUCH_RECORD = "No record was found for this patient."
NO_SUCH_ITEM = "No such item in this record."

_MESSAGES = {
    Reason.NOT_AUTHORISED: "You are not authorised on this record: ask the patient to authorise you, or present "
    "their carte Vitale.",
    Reason.DEPOSIT_ONLY_MODE: "In deposit-only mode you can deposit, not read.",
    Reason.EMERGENCY_OPT_OUT: "The patient has refused emergency access to their record.",
    Reason.REGULATION_OPT_OUT: "The patient has refused access by the centre 15 regulation.",
    Reason.NOT_A_REGULATOR: "Only a doctor regulating a centre 15 call may use the regulation mode.",
    Reason.NO_EPISODE: "Declare the emergency access first, with its written justification.",
    Reason.NOT_AUTHOR: "Only the author of this item can do that.",
    Reason.NO_RULE: "This action is not allowed on this record.",
}


@dataclass(frozen=True, slots=True)
class Access:
    """An allowed record-level access: what later item checks and list filters are decided from."""

    actor: Actor
    patient_id: uuid.UUID
    facts: RecordFacts
    standing: Standing
    decision: Decision
    # The matrix in force for this actor's profession (None for patients and jobs, whom it does not bind).
    matrix: Matrix | None = None


def matrix(ctx: Context) -> Matrix:
    """The whole matrix in force, for operators."""
    if ctx.matrix is None:
        ctx.matrix = repository.current_matrix(ctx.session)
    return ctx.matrix


def _standing(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, state: RecordState, card_presented: bool = False
) -> tuple[RecordFacts, Standing, Matrix | None]:
    if actor.kind is ActorKind.SYSTEM:
        return RecordFacts(state), Standing(Relation.SYSTEM), None
    if actor.kind in (ActorKind.DESK, ActorKind.OPERATOR, ActorKind.ANONYMOUS):
        return RecordFacts(state, card_presented=card_presented), Standing(Relation.NONE), None
    if actor.kind is ActorKind.PATIENT:
        if actor.is_patient_of(patient_id):
            return RecordFacts(state), Standing(Relation.OWN_PATIENT), None
        representative = repository.is_representative(ctx.session, patient_id, uuid.UUID(actor.ref), clock.today())
        return RecordFacts(state), Standing(Relation.REPRESENTATIVE if representative else Relation.NONE), None
    facts = repository.professional_facts(ctx.session, patient_id, actor.ref, actor.profession or "", clock.now())
    record = RecordFacts(state, facts.emergency_opt_out, facts.regulation_opt_out, card_presented)
    standing = Standing(
        Relation.PROFESSIONAL,
        blocked=facts.blocked,
        authorisation=facts.authorisation,
        regular_doctor=facts.regular_doctor,
        episode=Mode(facts.episode) if facts.episode else None,
    )
    return record, standing, facts.matrix


def _audit(
    ctx: Context, actor: Actor, action: Action, chain_id: uuid.UUID, subject: str | None, decision: Decision
) -> None:
    """Every decision, allowed or refused, becomes one audit event; the unit of work writes them."""
    _append(ctx, actor, action.value, chain_id, subject, decision.allowed, decision.reason.value)


def _append(
    ctx: Context, actor: Actor, action: str, chain_id: uuid.UUID, subject: str | None, allowed: bool, reason: str
) -> None:
    ctx.audit.append(
        AuditEvent(
            chain_id=chain_id,
            at=clock.now(),
            actor_kind=actor.kind.value,
            actor_ref=actor.ref,
            profession=actor.profession,
            organisation=actor.organisation,
            mode=actor.mode.value,
            action=action,
            subject=subject,
            allowed=allowed,
            reason=reason,
            source=ctx.source,
            request_id=ctx.request_id,
        )
    )


def authorize(
    ctx: Context,
    actor: Actor,
    action: Action,
    *,
    patient_id: uuid.UUID,
    state: RecordState,
    subject: str | None = None,
    item_follows: bool = False,
    card_presented: bool = False,
) -> Access:
    """Allow a record-level action, or raise the error this actor may be shown.

    With `item_follows`, an allowed decision is not audited on its own: the decision on the item is.
    `card_presented` is said only by identity.cards, after it checked the card's signature.
    """
    facts, standing, profession_matrix = _standing(ctx, actor, patient_id, state, card_presented)
    decision = decide(actor, action, facts, standing)
    if not (decision.allowed and item_follows):
        _audit(ctx, actor, action, patient_id, subject, decision)
    if not decision.allowed:
        raise _refusal(decision, standing)
    return Access(actor, patient_id, facts, standing, decision, profession_matrix)


def authorize_unscoped(
    ctx: Context, actor: Actor, action: Action, *, chain_id: uuid.UUID = NO_RECORD, subject: str | None = None
) -> Decision:
    """Allow an action that involves no record's content, or refuse it.

    `chain_id` names the record the action concerns, when there is one (an operator reading its trail):
    the decision is kept in that record's trail, so its patient sees it.
    """
    decision = decide_unscoped(actor, action)
    _audit(ctx, actor, action, chain_id, subject, decision)
    if not decision.allowed:
        raise Forbidden(_MESSAGES[Reason.NO_RULE], code=decision.reason)
    return decision


def authorize_item(ctx: Context, access: Access, action: Action, item: ItemFacts, subject: str) -> Decision:
    """Allow an action on one item. An item the actor may not read answers like a missing one."""
    decision, visible_to_actor = decide_item(access.actor, action, access.facts, access.standing, item, access.matrix)
    _audit(ctx, access.actor, action, access.patient_id, subject, decision)
    if not visible_to_actor:
        raise NotFound(NO_SUCH_ITEM, code="not-found")
    if not decision.allowed:
        raise _refusal(decision, access.standing)
    return decision


def trace_authentication(
    ctx: Context,
    actor: Actor,
    event: str,
    chain_id: uuid.UUID,
    *,
    allowed: bool,
    reason: str,
    subject: str | None = None,
) -> None:
    """A proof of identity given or refused (activation, sign-in, second factor, recovery, sign-out).

    No access is decided here, but the trail keeps each one: in the patient's chain when the account is
    known (the patient reads the attempts on their account), in the chain of no record otherwise.
    """
    _append(ctx, actor, event, chain_id, subject, allowed, reason)


def record_missing(ctx: Context, access: Access, action: Action, subject: str) -> None:
    """An item asked for that does not exist: audited as not found, answered like a hidden one."""
    _audit(ctx, access.actor, action, access.patient_id, subject, Decision(False, Reason.NOT_FOUND))


def record_unknown_record(
    ctx: Context, actor: Actor, action: Action, patient_id: uuid.UUID, subject: str | None
) -> None:
    """A record asked for that does not exist: kept in the trail of no record, so probes create no chains."""
    _audit(ctx, actor, action, NO_RECORD, subject or f"record:{patient_id}", Decision(False, Reason.NOT_FOUND))


def visible(access: Access, action: Action, item: ItemFacts) -> bool:
    """Whether a listed item may be shown: the list filter already applied in SQL, checked once more here."""
    return shows(access.actor, action, access.facts, access.standing, item, access.matrix)


def filter_for(access: Access) -> ListFilter:
    return list_filter(access.actor, access.standing, access.matrix)


def _refusal(decision: Decision, standing: Standing) -> CarnetError:
    reason = decision.reason
    if standing.relation is Relation.NONE:
        return NotFound(NO_SUCH_RECORD, code="not-found")
    if reason is Reason.RECORD_DESTROYED:
        if standing.relation is Relation.PROFESSIONAL:
            return NotFound(NO_SUCH_RECORD, code="not-found")
        return Gone("This record was destroyed; nothing in it can be read or changed.", code=reason)
    if reason is Reason.RECORD_CLOSED:
        if standing.relation is Relation.PROFESSIONAL:
            return NotFound(NO_SUCH_RECORD, code="not-found")  # a closed record answers only to its patient
        return Conflict("This record is closed: it can be read by its patient and reopened, not changed.", code=reason)
    if reason is Reason.BLOCKED:
        # The patient's choice is kept in the audit trail; the professional is told no more than "not authorised".
        return Forbidden(_MESSAGES[Reason.NOT_AUTHORISED], code=Reason.NOT_AUTHORISED)
    return Forbidden(_MESSAGES.get(reason, _MESSAGES[Reason.NO_RULE]), code=reason)
