"""The record's lifecycle: open, read its summary, close, reopen, request destruction, destroy."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.gate import NO_SUCH_RECORD, Access
from carnet.access.policy import Action, RecordState
from carnet.context import Context
from carnet.fhir.codes import INS_SYSTEM
from carnet.fhir.wire import dumps, loads
from carnet.identity.sessions import forget_patient
from carnet.kit import clock
from carnet.kit.crypto import new_data_key
from carnet.kit.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import parse_ins
from carnet.records import repository
from carnet.records.codes import Channel
from carnet.records.keys import data_key, shred_data_key, store_data_key
from carnet.records.models import Record
from carnet.records.schemas import PatientIdentity, RecordSummary, parse_opener
from carnet.stats import counting

RETENTION_AFTER_CLOSING = timedelta(days=3653)  # ten years, leap days included


def _aad(patient_id: uuid.UUID) -> str:
    return f"records.identity:{patient_id}"


def _patient_aad(patient_id: uuid.UUID) -> str:
    return f"records.patient_resource:{patient_id}"


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A record's summary and the Patient resource its opener sent (None when opened at a desk)."""

    summary: RecordSummary
    written: dict[str, Any] | None


def check_ins_identifiers(resource: Mapping[str, Any], ins: str) -> None:
    """Each INS a Patient resource writes is the card holder's: the card, not the resource, says who it is."""
    identifiers = resource.get("identifier")
    for index, identifier in enumerate(identifiers if isinstance(identifiers, list) else []):
        if not isinstance(identifier, Mapping) or identifier.get("system") != INS_SYSTEM:
            continue
        where = f"Patient.identifier[{index}].value"
        try:
            written = parse_ins(str(identifier.get("value") or "")).value
        except Invalid as exc:
            raise Invalid(exc.message, code="invalid-ins", expression=where) from None
        if written != ins:
            raise Invalid(
                f"{where} is not the INS of the card presented: the record is opened for the card's holder, "
                "whose INS Carnet sets; send the card holder's INS or leave it out.",
                code="ins-mismatch",
                expression=where,
            )


def load_record(
    ctx: Context,
    actor: Actor,
    action: Action,
    patient_id: uuid.UUID,
    *,
    lock: bool = False,
    subject: str | None = None,
    item_follows: bool = False,
    card_presented: bool = False,
) -> tuple[Record, Access]:
    """The record, once the gate has allowed `action` on it; "no such record" otherwise.

    `card_presented` is said only by identity.cards and identity.visits, once a card's signature was checked."""
    record = repository.get_record(ctx.session, patient_id, for_update=lock)
    if record is None:
        gate.record_unknown_record(ctx, actor, action, patient_id, subject)
        raise NotFound(NO_SUCH_RECORD)
    access = gate.authorize(
        ctx,
        actor,
        action,
        patient_id=patient_id,
        state=RecordState(record.state),
        subject=subject,
        item_follows=item_follows,
        card_presented=card_presented,
    )
    return record, access


def open_record(
    ctx: Context,
    actor: Actor,
    *,
    ins: str,
    identity: PatientIdentity,
    channel: Channel,
    opened_by: str,
    card_presented: bool = False,
    patient_resource: Mapping[str, Any] | None = None,
) -> uuid.UUID:
    """Open the record of the patient with this INS; the patient consented through `channel`.

    `card_presented` is said only by identity.cards, once the patient's card signed a challenge.
    `patient_resource` is the Patient resource the opener sent, kept as written (Carnet's elements out).
    """
    canonical = parse_ins(ins).value
    if patient_resource is not None:
        check_ins_identifiers(patient_resource, canonical)
    opener = parse_opener(channel.value, opened_by)
    place = departement_of_postcode(identity.postcode)
    patient_id = uuid.uuid4()
    gate.authorize(
        ctx, actor, Action.RECORD_OPEN, patient_id=patient_id, state=RecordState.OPEN, card_presented=card_presented
    )
    if repository.living_record_for_ins(ctx.session, canonical) is not None:
        raise Conflict("A record is already open for this INS.", code="duplicate-record")
    key = new_data_key()
    opened_at = clock.now()
    ctx.session.add(
        Record(
            patient_id=patient_id,
            ins=canonical,
            state=RecordState.OPEN.value,
            channel=channel.value,
            opened_by=opener,
            opened_at=opened_at,
            departement=place.code,
            region=place.region,
            identity_ct=key.encrypt_text(identity.model_dump_json(), aad=_aad(patient_id)),
            patient_resource_ct=None
            if patient_resource is None
            else key.encrypt_text(dumps(patient_resource), aad=_patient_aad(patient_id)),
        )
    )
    try:
        # The unique index on living INS settles a race between two openings of the same patient.
        ctx.session.flush()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == "uq_records_ins_living":
            raise Conflict("A record is already open for this INS.", code="duplicate-record") from None
        raise
    store_data_key(ctx, patient_id, key)
    counting.record_opened(
        ctx,
        patient_id,
        at=opened_at,
        channel=channel.value,
        opened_by=opener,
        departement=place.code,
        region=place.region,
    )
    return patient_id


def record_identity(ctx: Context, patient_id: uuid.UUID) -> PatientIdentity:
    """The patient's identity, decrypted for a use case that has already passed the gate."""
    record = repository.get_record(ctx.session, patient_id)
    if record is None or record.identity_ct is None:
        raise NotFound(NO_SUCH_RECORD)
    text = data_key(ctx, patient_id).decrypt_text(record.identity_ct, aad=_aad(patient_id))
    return PatientIdentity.model_validate_json(text)


def _ins_of(record: Record) -> str:
    """A living record's INS (a destroyed one has none, and no use case past the gate reaches it)."""
    if record.ins is None:
        raise Gone("This record was destroyed; nothing in it can be read or changed.", code="record-destroyed")
    return record.ins


def record_summary(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> RecordSummary:
    record, _ = load_record(ctx, actor, Action.RECORD_READ, patient_id)
    return _summary(ctx, record)


def patient_record(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> PatientRecord:
    """The record's summary and its Patient resource as written, both from the one row the gate let through."""
    record, _ = load_record(ctx, actor, Action.RECORD_READ, patient_id)
    written = None
    if record.patient_resource_ct is not None:
        text = data_key(ctx, patient_id).decrypt_text(record.patient_resource_ct, aad=_patient_aad(patient_id))
        written = loads(text)
    return PatientRecord(_summary(ctx, record), written)


def _summary(ctx: Context, record: Record) -> RecordSummary:
    patient_id = record.patient_id
    identity = None
    if record.identity_ct is not None:
        text = data_key(ctx, patient_id).decrypt_text(record.identity_ct, aad=_aad(patient_id))
        identity = PatientIdentity.model_validate_json(text)
    return RecordSummary(
        patient_id=record.patient_id,
        ins=_ins_of(record),
        state=record.state,
        channel=record.channel,
        opened_by=record.opened_by,
        opened_at=record.opened_at,
        departement=record.departement,
        region=record.region,
        identity=identity,
        closed_at=record.closed_at,
        destruction_requested_at=record.destruction_requested_at,
    )


def find_by_ins(ctx: Context, actor: Actor, ins: str) -> RecordSummary | None:
    """The living record of this INS, if there is one and the actor may read it; None otherwise, either way."""
    found = find_patient_by_ins(ctx, actor, ins)
    return None if found is None else found.summary


def find_patient_by_ins(ctx: Context, actor: Actor, ins: str) -> PatientRecord | None:
    """find_by_ins, with the Patient resource as written."""
    canonical = parse_ins(ins).value
    record = repository.living_record_for_ins(ctx.session, canonical)
    if record is None:
        gate.record_unknown_record(ctx, actor, Action.RECORD_READ, uuid.UUID(int=0), f"ins-search:{canonical[:2]}")
        return None
    try:
        return patient_record(ctx, actor, record.patient_id)
    except (NotFound, Forbidden, Conflict):
        return None  # the refusal is in the trail; the caller learns no more than for a missing record


def close_record(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> None:
    record, _ = load_record(ctx, actor, Action.RECORD_CLOSE, patient_id, lock=True)
    counting.record_state_changed(ctx, patient_id, record.state, RecordState.CLOSED.value)
    record.state = RecordState.CLOSED.value
    record.closed_at = clock.now()


def reopen_record(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> None:
    """Reopen a closed record; this also withdraws a pending request to destroy it."""
    record, _ = load_record(ctx, actor, Action.RECORD_REOPEN, patient_id, lock=True)
    if repository.living_record_for_ins(ctx.session, _ins_of(record)) not in (None, record):
        raise Conflict("Another record is open for this INS.", code="duplicate-record")
    counting.record_state_changed(ctx, patient_id, record.state, RecordState.OPEN.value)
    record.state = RecordState.OPEN.value
    record.closed_at = None
    record.destruction_requested_at = None


def destruction_date(requested_at: datetime, cooling_off: timedelta) -> datetime:
    """When a requested destruction is carried out at the earliest: once the patient's time to cancel is over."""
    return requested_at + cooling_off


def cancel_destruction(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> None:
    """The patient changes their mind before the destruction: the request ends, the record stays closed."""
    record, _ = load_record(ctx, actor, Action.RECORD_REQUEST_DESTRUCTION, patient_id, lock=True)
    if record.destruction_requested_at is None:
        raise Conflict("No destruction was asked for this record.", code="no-destruction-request")
    record.destruction_requested_at = None


def request_destruction(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> None:
    """The patient asks for destruction: the record closes now and is destroyed by the first destruction run after
    the cooling-off period (`Settings.destruction_cooling_off_days`), during which the patient may cancel."""
    record, _ = load_record(ctx, actor, Action.RECORD_REQUEST_DESTRUCTION, patient_id, lock=True)
    now = clock.now()
    if record.state == RecordState.OPEN.value:
        counting.record_state_changed(ctx, patient_id, record.state, RecordState.CLOSED.value)
        record.state = RecordState.CLOSED.value
        record.closed_at = now
    record.destruction_requested_at = record.destruction_requested_at or now


def destroy_record(ctx: Context, actor: Actor, patient_id: uuid.UUID, *, cooling_off: timedelta = timedelta(0)) -> None:
    """Crypto-shred a closed record whose patient asked for it, once `cooling_off` has passed since the request,
    or whose retention has run out."""
    record, _ = load_record(ctx, actor, Action.RECORD_DESTROY, patient_id, lock=True)
    now = clock.now()
    retention_over = record.closed_at is not None and record.closed_at < now - RETENTION_AFTER_CLOSING
    requested = record.destruction_requested_at
    if requested is None and not retention_over:
        raise Invalid(
            "This record can be destroyed only at its patient's request or ten years after it was closed.",
            code="not-due-for-destruction",
        )
    if requested is not None and destruction_date(requested, cooling_off) > now and not retention_over:
        raise Invalid("The patient may still cancel this destruction.", code="cooling-off")
    counting.record_state_changed(ctx, patient_id, record.state, RecordState.DESTROYED.value)
    shred_data_key(ctx, patient_id)
    forget_patient(ctx.session, patient_id)  # the online account, its sessions and codes go with the record
    record.identity_ct = None
    record.patient_resource_ct = None
    record.ins = None  # nothing left names the patient: the trail is kept under the record's id alone
    record.state = RecordState.DESTROYED.value
    record.destroyed_at = now


def destroy_due_records(ctx: Context, actor: Actor, *, cooling_off: timedelta, limit: int = 1000) -> int:
    """Destroy every record due for destruction (requested more than `cooling_off` ago, or closed ten years ago);
    return how many."""
    now = clock.now()
    due = repository.records_due_for_destruction(
        ctx.session, closed_before=now - RETENTION_AFTER_CLOSING, requested_before=now - cooling_off, limit=limit
    )
    for patient_id in due:
        destroy_record(ctx, actor, patient_id, cooling_off=cooling_off)
    return len(due)
