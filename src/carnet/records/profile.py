"""The medical profile: structured entries added by the patient or on a professional's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from carnet.access import gate
from carnet.access.actor import Actor, ActorKind
from carnet.access.policy import Action, ItemFacts
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import Invalid, NotFound
from carnet.kit.validation import validate_with
from carnet.records import repository
from carnet.records.codes import PATIENT_CLASS, parse_class
from carnet.records.keys import data_key
from carnet.records.models import ProfileEntry
from carnet.records.profile_kinds import PROFILE_KINDS, PROFILE_PAYLOAD
from carnet.records.schemas import ProfileEntryView
from carnet.records.service import load_record

NO_SUCH_ENTRY = gate.NO_SUCH_ITEM  # one answer for missing and for not allowed


def _aad(entry_id: uuid.UUID) -> str:
    return f"profile_entries.payload:{entry_id}"


def add_profile_entry(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    payload: Mapping[str, Any],
    *,
    source_class: str | None = None,
    author_rpps: str | None = None,
) -> uuid.UUID:
    """Add one entry. What the patient enters is class 90; other entries carry the class of their source."""
    load_record(ctx, actor, Action.PROFILE_WRITE, patient_id)
    entry = validate_with(PROFILE_PAYLOAD, payload)
    if actor.kind is ActorKind.PATIENT:
        if source_class not in (None, PATIENT_CLASS):
            raise Invalid(f"What a patient enters is of class {PATIENT_CLASS}.", code="invalid-class")
        source, author_kind, author_ref = PATIENT_CLASS, "patient", actor.ref
    else:
        if source_class is None or parse_class(source_class) == PATIENT_CLASS:
            raise Invalid("A professional's entry names the class of the document it comes from.", code="invalid-class")
        author = actor.ref if actor.kind is ActorKind.PROFESSIONAL else author_rpps
        if not author:
            raise Invalid("An imported entry names its professional author.", code="invalid-author")
        source, author_kind, author_ref = source_class, "professional", author
    entry_id = uuid.uuid4()
    ctx.session.add(
        ProfileEntry(
            id=entry_id,
            patient_id=patient_id,
            kind=entry.kind,
            source_class=source,
            author_kind=author_kind,
            author_ref=author_ref,
            recorded_at=clock.now(),
            status="active",
            payload_ct=data_key(ctx, patient_id).encrypt_text(entry.model_dump_json(), aad=_aad(entry_id)),
        )
    )
    ctx.session.flush()
    return entry_id


def entry_facts(actor: Actor, row: ProfileEntry) -> ItemFacts:
    """A profile entry follows the access rules of the class of its source (SPEC §4.6)."""
    return ItemFacts(
        class_code=row.source_class,
        advance_directive=row.kind == "advance_directive",
        authored_by_actor=actor.kind.value == row.author_kind and actor.ref == row.author_ref,
    )


def list_profile(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    kind: str | None = None,
    kinds: Collection[str] | None = None,
    include_retired: bool = False,
) -> list[ProfileEntryView]:
    """The entries this actor may see (a profile has tens of entries: they are filtered one by one)."""
    if kind is not None and kind not in PROFILE_KINDS:
        raise Invalid(f"Unknown profile entry kind '{kind}'; kinds: {', '.join(PROFILE_KINDS)}.", code="invalid-kind")
    _, access = load_record(ctx, actor, Action.PROFILE_READ, patient_id)
    wanted = (kind,) if kind is not None else tuple(kinds) if kinds is not None else None
    rows = repository.list_profile_entries(ctx.session, patient_id, kinds=wanted, include_retired=include_retired)
    rows = [row for row in rows if gate.visible(access, Action.PROFILE_READ, entry_facts(actor, row))]
    if not rows:
        return []
    key = data_key(ctx, patient_id)
    return [_entry_view(key, row) for row in rows]


def _entry_view(key: DataKey, row: ProfileEntry) -> ProfileEntryView:
    return ProfileEntryView(
        id=row.id,
        kind=row.kind,
        source_class=row.source_class,
        author_kind=row.author_kind,
        author_ref=row.author_ref,
        recorded_at=row.recorded_at,
        status=row.status,
        payload=PROFILE_PAYLOAD.validate_json(key.decrypt(row.payload_ct, aad=_aad(row.id))),
    )


def get_profile_entry(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, entry_id: uuid.UUID, *, kinds: Collection[str]
) -> ProfileEntryView:
    """One entry of one of these kinds; missing, of another kind, or not visible: the same "not found"."""
    subject = f"profile-entry:{entry_id}"
    _, access = load_record(ctx, actor, Action.PROFILE_READ, patient_id, subject=subject, item_follows=True)
    row = repository.get_profile_entry(ctx.session, patient_id, entry_id)
    if row is None or row.kind not in kinds:
        gate.record_missing(ctx, access, Action.PROFILE_READ, subject)
        raise NotFound(NO_SUCH_ENTRY)
    gate.authorize_item(ctx, access, Action.PROFILE_READ, entry_facts(actor, row), subject)
    return _entry_view(data_key(ctx, patient_id), row)


def retire_profile_entry(ctx: Context, actor: Actor, patient_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    """Its author marks an entry as no longer true; it is kept, never deleted."""
    subject = f"profile-entry:{entry_id}"
    _, access = load_record(ctx, actor, Action.PROFILE_RETIRE, patient_id, subject=subject, item_follows=True)
    row = repository.get_profile_entry(ctx.session, patient_id, entry_id)
    if row is None:
        gate.record_missing(ctx, access, Action.PROFILE_RETIRE, subject)
        raise NotFound(NO_SUCH_ENTRY)
    gate.authorize_item(ctx, access, Action.PROFILE_RETIRE, entry_facts(actor, row), subject)
    row.status = "retired"
