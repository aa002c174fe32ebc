"""The access rules of SPEC §4 as pure functions. Deny by default: only what a rule names is allowed.

Order: record state, then blocks, then the mode (normal with an authorisation or as regular doctor,
emergency override, centre 15 regulation, deposit only), then the profession x class matrix, then the
document's visibility flags. Every decision carries a reason code for the audit trail and the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from carnet.access.actor import Actor, ActorKind, Mode
from carnet.access.matrix import ADVANCE_DIRECTIVES, Matrix


class Action(StrEnum):
    RECORD_OPEN = "record.open"
    RECORD_READ = "record.read"
    RECORD_CLOSE = "record.close"
    RECORD_REOPEN = "record.reopen"
    RECORD_REQUEST_DESTRUCTION = "record.request-destruction"
    RECORD_DESTROY = "record.destroy"
    RECORD_PURGE = "record.purge"  # a job removes what remains of a destroyed record; its trail stays
    DOCUMENT_DEPOSIT = "document.deposit"
    DOCUMENT_LIST = "document.list"
    DOCUMENT_READ = "document.read"
    DOCUMENT_REPLACE = "document.replace"
    DOCUMENT_WITHDRAW = "document.withdraw"
    DOCUMENT_MASK = "document.mask"  # the patient hides a document from professionals, or shows it again
    DOCUMENT_FLAG = "document.flag"  # the author hides a document from the patient or the representatives
    PROFILE_WRITE = "profile.write"
    PROFILE_READ = "profile.read"
    PROFILE_RETIRE = "profile.retire"
    SETTINGS_CHANGE = "settings.change"  # authorise, revoke, block, regular doctor, opt-outs
    SETTINGS_READ = "settings.read"
    HISTORY_READ = "history.read"  # the patient reads who accessed their record
    EMERGENCY_DECLARE = "emergency.declare"
    CARD_CHALLENGE = "card.challenge"  # a professional's card reader asks for a nonce (no record involved)
    CARD_PRESENCE = "card.presence"  # the patient's carte Vitale, presented to a professional, authorises them
    CARD_READ = "card.read"  # a counter, desk or surgery learns whether the holder has a record (nothing in it)
    CARD_REGISTER = "card.register"
    ACTIVATION_CODE_ISSUE = "account.activation-code"  # a new code for the patient's online account, card shown
    REPRESENTATIVE_LINK = "representative.link"
    REIMBURSEMENT_FEED = "reimbursement.feed"  # the insurer's feed adds reimbursement lines
    REIMBURSEMENT_READ = "reimbursement.read"  # class 60 of the matrix (Données de remboursement)
    REIMBURSEMENT_PRUNE = "reimbursement.prune"  # the retention job removes lines older than 24 months
    TRAIL_READ = "trail.read"  # an operator reads a record's audit trail (who, when, what kind; no content)


class RecordState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DESTROYED = "destroyed"


class Relation(StrEnum):
    """What the actor is to this record, established from stored data by the gate."""

    OWN_PATIENT = "own-patient"
    REPRESENTATIVE = "representative"
    PROFESSIONAL = "professional"
    SYSTEM = "system"
    NONE = "none"


class Reason(StrEnum):
    OWN_RECORD = "own-record"
    REPRESENTATIVE = "representative"
    SYSTEM_JOB = "system-job"
    AUDIT_DUTY = "audit-duty"
    AUTHORISED = "authorised"
    REGULAR_DOCTOR = "regular-doctor"
    CARD_PRESENCE = "card-presence"
    EMERGENCY = "emergency"
    REGULATION = "regulation"
    DEPOSIT_ONLY = "deposit-only"
    RECORD_DESTROYED = "record-destroyed"
    RECORD_CLOSED = "record-closed"
    BLOCKED = "blocked"
    NOT_AUTHORISED = "not-authorised"
    DEPOSIT_ONLY_MODE = "deposit-only-mode"
    EMERGENCY_OPT_OUT = "emergency-opt-out"
    REGULATION_OPT_OUT = "regulation-opt-out"
    NOT_A_REGULATOR = "not-a-regulator"
    NO_EPISODE = "no-episode"
    MATRIX = "matrix"
    MASKED = "masked"
    HIDDEN_FROM_PATIENT = "hidden-from-patient"
    HIDDEN_FROM_REPRESENTATIVES = "hidden-from-representatives"
    NOT_AUTHOR = "not-author"
    NOT_FOUND = "not-found"  # what was asked for does not exist (recorded by the gate, never decided)
    NO_RULE = "no-rule"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason
    # Allowed, but the reader must be warned: the patient has not yet been told of this document.
    warn_hidden_from_patient: bool = False


@dataclass(frozen=True, slots=True)
class RecordFacts:
    state: RecordState
    emergency_opt_out: bool = False
    regulation_opt_out: bool = False
    # The holder's carte Vitale signed a challenge for this actor in this request (checked by identity.cards).
    card_presented: bool = False


@dataclass(frozen=True, slots=True)
class Standing:
    """The actor's standing toward one record, read from stored data, never from the request."""

    relation: Relation
    blocked: bool = False
    authorisation: str | None = None  # "read_write" or "deposit", when one is in force
    regular_doctor: bool = False
    episode: Mode | None = None  # an emergency or regulation episode in force for this professional


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """A document or profile entry; a profile entry has the class of its source and no flags."""

    class_code: str
    advance_directive: bool = False
    authored_by_actor: bool = False
    masked: bool = False
    hidden_from_patient: bool = False  # in force now
    hidden_from_representatives: bool = False


READS = frozenset(
    {Action.RECORD_READ, Action.DOCUMENT_LIST, Action.DOCUMENT_READ, Action.PROFILE_READ, Action.REIMBURSEMENT_READ}
)
ITEM_READS = frozenset({Action.DOCUMENT_READ, Action.PROFILE_READ, Action.REIMBURSEMENT_READ})
REIMBURSEMENT_CLASS = "60"
WRITES = frozenset({Action.DOCUMENT_DEPOSIT, Action.PROFILE_WRITE})
AUTHOR_ACTIONS = frozenset(
    {Action.DOCUMENT_REPLACE, Action.DOCUMENT_WITHDRAW, Action.DOCUMENT_FLAG, Action.PROFILE_RETIRE}
)

_PATIENT_ON_OPEN = READS | {
    Action.RECORD_CLOSE,
    Action.RECORD_REQUEST_DESTRUCTION,
    Action.DOCUMENT_DEPOSIT,
    Action.DOCUMENT_REPLACE,
    Action.DOCUMENT_WITHDRAW,
    Action.DOCUMENT_MASK,
    Action.PROFILE_WRITE,
    Action.PROFILE_RETIRE,
    Action.SETTINGS_CHANGE,
    Action.SETTINGS_READ,
    Action.HISTORY_READ,
}
_PATIENT_ON_CLOSED = READS | {
    Action.RECORD_REOPEN,
    Action.RECORD_REQUEST_DESTRUCTION,
    Action.SETTINGS_READ,
    Action.HISTORY_READ,
}
_PATIENT_AUTHOR_ONLY = frozenset({Action.DOCUMENT_REPLACE, Action.DOCUMENT_WITHDRAW, Action.PROFILE_RETIRE})
# System jobs write (imports, synthetic population), link representatives, and carry out destruction.
# They never read medical content.
_SYSTEM_ON_OPEN = frozenset(
    {
        Action.RECORD_OPEN,
        Action.DOCUMENT_DEPOSIT,
        Action.PROFILE_WRITE,
        Action.REPRESENTATIVE_LINK,
        Action.REIMBURSEMENT_FEED,
        Action.REIMBURSEMENT_PRUNE,
    }
)
# A closed record is kept as it was, but what no one may keep past its time goes on its schedule.
_SYSTEM_ON_CLOSED = frozenset({Action.RECORD_DESTROY, Action.REIMBURSEMENT_PRUNE})
# What a desk agent or a professional does for a patient who presents their carte Vitale, and nothing else.
_WITH_CARD = frozenset({Action.RECORD_OPEN, Action.ACTIVATION_CODE_ISSUE, Action.CARD_READ})
# What only an insurance desk does with the card shown: link a parent to their minor child, both present with the
# papers that prove it (a child the insurer covers on the parent's card is linked without a desk: identity.registry).
_AT_DESK_WITH_CARD = frozenset({Action.REPRESENTATIVE_LINK})


def _deny(reason: Reason) -> Decision:
    return Decision(False, reason)


def decide(
    actor: Actor,
    action: Action,
    record: RecordFacts,
    standing: Standing,
    item: ItemFacts | None = None,
    matrix: Matrix | None = None,
) -> Decision:
    """Whether `actor` may perform `action` on a record (and on one of its items, when given)."""
    if record.state is RecordState.DESTROYED:
        if action is Action.RECORD_PURGE and actor.kind is ActorKind.SYSTEM:
            return Decision(True, Reason.SYSTEM_JOB)  # the only thing done to a destroyed record
        return _deny(Reason.RECORD_DESTROYED)
    if action in _WITH_CARD and actor.kind in (ActorKind.PROFESSIONAL, ActorKind.DESK):
        # At a desk, a counter or a surgery: only for a patient standing there with their card.
        return Decision(True, Reason.CARD_PRESENCE) if record.card_presented else _deny(Reason.NO_RULE)
    if action in _AT_DESK_WITH_CARD and actor.kind is ActorKind.DESK:
        if record.state is not RecordState.OPEN:
            return _deny(Reason.RECORD_CLOSED)
        return Decision(True, Reason.CARD_PRESENCE) if record.card_presented else _deny(Reason.NO_RULE)
    relation = standing.relation
    if relation in (Relation.OWN_PATIENT, Relation.REPRESENTATIVE) and actor.kind is ActorKind.PATIENT:
        return _patient(action, record, relation, item)
    if relation is Relation.SYSTEM and actor.kind is ActorKind.SYSTEM:
        allowed = _SYSTEM_ON_OPEN if record.state is RecordState.OPEN else _SYSTEM_ON_CLOSED
        if action in allowed:
            return Decision(True, Reason.SYSTEM_JOB)
        return _deny(Reason.RECORD_CLOSED if action in _SYSTEM_ON_OPEN else Reason.NO_RULE)
    if relation is Relation.PROFESSIONAL and actor.kind is ActorKind.PROFESSIONAL:
        if record.state is not RecordState.OPEN:
            return _deny(Reason.RECORD_CLOSED)
        return _professional(actor, action, record, standing, item, matrix)
    return _deny(Reason.NO_RULE)


def decide_item(
    actor: Actor,
    action: Action,
    record: RecordFacts,
    standing: Standing,
    item: ItemFacts,
    matrix: Matrix | None,
) -> tuple[Decision, bool]:
    """The decision on an action on one item, and whether the actor may know the item exists at all.

    An item the actor may not read is invisible (an author always sees their own); acting on it is refused
    for the reason it is invisible.
    """
    read = Action.PROFILE_READ if action in (Action.PROFILE_READ, Action.PROFILE_RETIRE) else Action.DOCUMENT_READ
    if not item.authored_by_actor:
        seen = decide(actor, read, record, standing, item, matrix)
        if not seen.allowed or action is read:
            return seen, seen.allowed
    return decide(actor, action, record, standing, item, matrix), True


def shows(
    actor: Actor, action: Action, record: RecordFacts, standing: Standing, item: ItemFacts, matrix: Matrix | None
) -> bool:
    """Whether a list may show an item (the list's own access is the decision that is audited)."""
    return decide(actor, action, record, standing, item, matrix).allowed


def decide_unscoped(actor: Actor, action: Action) -> Decision:
    """Actions that touch no record yet: card readers ask for challenges, the insurer registers cards."""
    if action is Action.CARD_CHALLENGE and actor.kind in (ActorKind.PROFESSIONAL, ActorKind.DESK):
        return Decision(True, Reason.CARD_PRESENCE)
    if action is Action.CARD_REGISTER and actor.kind is ActorKind.SYSTEM:
        return Decision(True, Reason.SYSTEM_JOB)
    if action is Action.TRAIL_READ and actor.kind is ActorKind.OPERATOR:
        return Decision(True, Reason.AUDIT_DUTY)  # the trail says who and when, never what a document says
    return _deny(Reason.NO_RULE)


def _patient(action: Action, record: RecordFacts, relation: Relation, item: ItemFacts | None) -> Decision:
    allowed = _PATIENT_ON_OPEN if record.state is RecordState.OPEN else _PATIENT_ON_CLOSED
    if action not in allowed:
        return _deny(Reason.RECORD_CLOSED if action in _PATIENT_ON_OPEN else Reason.NO_RULE)
    if item is not None:
        if item.hidden_from_patient:
            return _deny(Reason.HIDDEN_FROM_PATIENT)
        if relation is Relation.REPRESENTATIVE and item.hidden_from_representatives:
            return _deny(Reason.HIDDEN_FROM_REPRESENTATIVES)
        if action in _PATIENT_AUTHOR_ONLY and not item.authored_by_actor:
            return _deny(Reason.NOT_AUTHOR)
    return Decision(True, Reason.OWN_RECORD if relation is Relation.OWN_PATIENT else Reason.REPRESENTATIVE)


def _professional(
    actor: Actor,
    action: Action,
    record: RecordFacts,
    standing: Standing,
    item: ItemFacts | None,
    matrix: Matrix | None,
) -> Decision:
    if standing.blocked:
        return _deny(Reason.BLOCKED)
    if action is Action.CARD_PRESENCE:
        return Decision(True, Reason.CARD_PRESENCE)  # the card's signature was checked by the caller
    if action is Action.EMERGENCY_DECLARE:
        return _declare(actor, record)
    basis = _mode_basis(actor, action, record, standing)
    if not basis.allowed:
        return basis
    if action in AUTHOR_ACTIONS:
        # Record level: the mode allows writing; item level: and the item is the actor's own.
        return basis if item is None or item.authored_by_actor else _deny(Reason.NOT_AUTHOR)
    if item is not None and action in ITEM_READS:
        return _item_for_professional(actor, standing, item, matrix, basis)
    return basis


def _declare(actor: Actor, record: RecordFacts) -> Decision:
    if actor.mode is Mode.EMERGENCY:
        return _deny(Reason.EMERGENCY_OPT_OUT) if record.emergency_opt_out else Decision(True, Reason.EMERGENCY)
    if actor.mode is Mode.REGULATION:
        if actor.profession != "10":
            return _deny(Reason.NOT_A_REGULATOR)
        return _deny(Reason.REGULATION_OPT_OUT) if record.regulation_opt_out else Decision(True, Reason.REGULATION)
    return _deny(Reason.NO_RULE)


def _mode_basis(actor: Actor, action: Action, record: RecordFacts, standing: Standing) -> Decision:
    """Whether the actor's declared mode gives a basis for this action on this record."""
    writes = WRITES | AUTHOR_ACTIONS
    if action not in READS | writes:
        return _deny(Reason.NO_RULE)
    if actor.mode is Mode.NORMAL:
        if standing.regular_doctor:
            return Decision(True, Reason.REGULAR_DOCTOR)
        needed = ("read_write",) if action in READS else ("read_write", "deposit")
        return Decision(True, Reason.AUTHORISED) if standing.authorisation in needed else _deny(Reason.NOT_AUTHORISED)
    if actor.mode is Mode.DEPOSIT_ONLY:
        if action not in writes:
            return _deny(Reason.DEPOSIT_ONLY_MODE)
        if standing.regular_doctor or standing.authorisation is not None:
            return Decision(True, Reason.DEPOSIT_ONLY)
        return _deny(Reason.NOT_AUTHORISED)
    if actor.mode is Mode.EMERGENCY:
        if record.emergency_opt_out:
            return _deny(Reason.EMERGENCY_OPT_OUT)
        return Decision(True, Reason.EMERGENCY) if standing.episode is Mode.EMERGENCY else _deny(Reason.NO_EPISODE)
    if actor.mode is Mode.REGULATION:
        if actor.profession != "10":
            return _deny(Reason.NOT_A_REGULATOR)
        if record.regulation_opt_out:
            return _deny(Reason.REGULATION_OPT_OUT)
        if action not in READS:
            return _deny(Reason.NO_RULE)  # the regulating doctor reads to orient the call; they write elsewhere
        return Decision(True, Reason.REGULATION) if standing.episode is Mode.REGULATION else _deny(Reason.NO_EPISODE)
    return _deny(Reason.NO_RULE)


def _item_for_professional(
    actor: Actor, standing: Standing, item: ItemFacts, matrix: Matrix | None, basis: Decision
) -> Decision:
    if not item.authored_by_actor:
        if matrix is None or not _matrix_allows(matrix, actor.profession, item):
            return _deny(Reason.MATRIX)
        # A masked document stays visible to its author and to the regular doctor; emergencies do not lift it.
        if item.masked and not standing.regular_doctor:
            return _deny(Reason.MASKED)
    return Decision(True, basis.reason, warn_hidden_from_patient=item.hidden_from_patient)


def _matrix_allows(matrix: Matrix, profession: str | None, item: ItemFacts) -> bool:
    if profession is None or not matrix.allows(profession, item.class_code):
        return False
    return not item.advance_directive or matrix.allows(profession, ADVANCE_DIRECTIVES)


@dataclass(frozen=True, slots=True)
class ListFilter:
    """Which items of a record a list may return, derived from the same facts as `decide()`.

    The repository turns it into SQL so pages are filtered before they are cut, and nothing is counted
    before filtering. `author_ref` items escape the class and mask conditions (an author sees their own).
    """

    classes: frozenset[str] | None = None  # None: every class
    include_masked: bool = True
    include_hidden_from_patient: bool = True
    include_hidden_from_representatives: bool = True
    include_advance_directives: bool = True
    author_ref: str | None = None


def list_filter(actor: Actor, standing: Standing, matrix: Matrix | None) -> ListFilter:
    """The filter for a list the gate has already allowed (DOCUMENT_LIST or PROFILE_READ)."""
    if standing.relation is Relation.OWN_PATIENT:
        return ListFilter(include_hidden_from_patient=False)
    if standing.relation is Relation.REPRESENTATIVE:
        return ListFilter(include_hidden_from_patient=False, include_hidden_from_representatives=False)
    if standing.relation is not Relation.PROFESSIONAL or matrix is None:
        return ListFilter(classes=frozenset(), include_masked=False, include_advance_directives=False)
    profession = actor.profession or ""
    return ListFilter(
        classes=matrix.classes_for(profession),
        include_masked=standing.regular_doctor,
        include_advance_directives=matrix.allows(profession, ADVANCE_DIRECTIVES),
        author_ref=actor.ref,
    )
