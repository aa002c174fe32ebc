"""The medical profile: FHIR resources kept as written, added by the patient or on a professional's behalf.

One place validates and stores (`add_profile_resource`): the FHIR API sends the resource it received; the
JSON paths (`add_profile_entry`, the synthetic population) build the resource from Carnet's entry schemas
first. A read returns the resource as stored; the columns beside it are derived from it (profile_types).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import timedelta
from typing import Any

from carnet.access import gate
from carnet.access.actor import Actor, ActorKind
from carnet.access.policy import Action, ItemFacts
from carnet.context import Context
from carnet.fhir.codes import CLASS_SYSTEM, EXT_SOURCE_CLASS
from carnet.fhir.ids import item_id
from carnet.fhir.wire import dumps, loads
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import Invalid, NotFound
from carnet.kit.validation import validate_with
from carnet.records import repository
from carnet.records.codes import PATIENT_CLASS, parse_class
from carnet.records.keys import data_key
from carnet.records.models import ProfileEntry
from carnet.records.profile_checks import accept_resource
from carnet.records.profile_kinds import PROFILE_PAYLOAD
from carnet.records.profile_legacy import LegacyEntry, legacy_resource
from carnet.records.profile_types import HAPPENED, PROFILE_KINDS, derive
from carnet.records.schemas import ProfileEntryView
from carnet.records.service import load_record

NO_SUCH_ENTRY = gate.NO_SUCH_ITEM  # one answer for missing and for not allowed
DAY = timedelta(days=1)


def payload_aad(entry_id: uuid.UUID) -> str:
    return f"profile_entries.payload:{entry_id}"


def resource_aad(entry_id: uuid.UUID) -> str:
    return f"profile_entries.resource:{entry_id}"


def source_class_of(resource: Mapping[str, Any]) -> tuple[str | None, str] | None:
    """The class the resource names in Carnet's source-class extension, and where."""
    extensions = resource.get("extension")
    for index, extension in enumerate(extensions if isinstance(extensions, list) else []):
        if isinstance(extension, Mapping) and extension.get("url") == EXT_SOURCE_CLASS:
            coding = extension.get("valueCoding")
            where = f"{resource.get('resourceType')}.extension[{index}].valueCoding.code"
            code = coding.get("code") if isinstance(coding, Mapping) else None
            return (str(code) if code is not None else None), where
    return None


def _author(actor: Actor, source_class: str | None, author_rpps: str | None, where: str | None) -> tuple[str, str, str]:
    """The entry's source class and author: what the patient enters is class 90, others name their source."""
    if actor.kind is ActorKind.PATIENT:
        if source_class not in (None, PATIENT_CLASS):
            raise Invalid(f"What a patient enters is of class {PATIENT_CLASS}.", code="invalid-class", expression=where)
        return PATIENT_CLASS, "patient", actor.ref
    if source_class is None or parse_class(source_class) == PATIENT_CLASS:
        raise Invalid(
            "A professional's entry names the class of the document it comes from.",
            code="invalid-class",
            expression=where,
        )
    author = actor.ref if actor.kind is ActorKind.PROFESSIONAL else author_rpps
    if not author:
        raise Invalid("An imported entry names its professional author.", code="invalid-author")
    return source_class, "professional", author


def _written_class(resource: Mapping[str, Any], given: str | None) -> tuple[str | None, str] | None:
    """The source class the resource writes, checked (a known class, the one given if any), and where."""
    written = source_class_of(resource)
    if written is None:
        return None
    code, where = written
    if code is None:
        raise Invalid(
            f"The extension source-class carries the class as valueCoding (system {CLASS_SYSTEM}).",
            code="invalid-class",
            expression=where,
        )
    try:
        parse_class(code)
    except Invalid as exc:
        raise Invalid(exc.message, code=exc.code, expression=where) from None
    if given is not None and given != code:
        raise Invalid("The source class given differs from the resource's.", code="invalid-class")
    return written


def add_profile_resource(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    body: Any,
    *,
    expected_type: str | None = None,
    source_class: str | None = None,
    author_rpps: str | None = None,
) -> uuid.UUID:
    """Keep one FHIR resource as written, once valid and honourable; Carnet sets only id, meta and its class."""
    row = _add(ctx, actor, patient_id, body, expected_type, source_class, author_rpps)
    return row.id


def add_profile_written(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, body: Any, *, expected_type: str, source_class: str | None
) -> ProfileEntryView:
    """Keep one resource as written, and the entry as stored for the writer's answer: what they sent with what
    Carnet set on it, not a read of the record (no second pass through the gate, no read in the trail)."""
    row = _add(ctx, actor, patient_id, body, expected_type, source_class, None)
    return entry_view(data_key(ctx, patient_id), row)


def _add(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    body: Any,
    expected_type: str | None,
    source_class: str | None,
    author_rpps: str | None,
) -> ProfileEntry:
    load_record(ctx, actor, Action.PROFILE_WRITE, patient_id)
    resource = accept_resource(body, patient_id, expected_type)
    derived = derive(resource)
    # A day of slack: a date written in a time zone ahead of Carnet's is not in the future.
    if derived.resource_type in HAPPENED and derived.occurred_on and derived.occurred_on > clock.today() + DAY:
        raise Invalid(f"{derived.occurred_at} is in the future.", code="invalid-date", expression=derived.occurred_at)
    written = _written_class(resource, source_class)
    claimed = source_class or (written[0] if written else None)
    source, author_kind, author_ref = _author(
        actor, claimed, author_rpps or derived.author_rpps, written[1] if written else None
    )
    entry_id, now = uuid.uuid4(), clock.now()
    meta = {**(resource.get("meta") or {}), "versionId": "1", "lastUpdated": now.isoformat(timespec="milliseconds")}
    stored = {"resourceType": resource["resourceType"], "id": item_id(patient_id, entry_id), "meta": meta}
    stored.update((k, v) for k, v in resource.items() if k not in stored)
    if written is None:
        own = {"url": EXT_SOURCE_CLASS, "valueCoding": {"system": CLASS_SYSTEM, "code": source}}
        stored["extension"] = [*(resource.get("extension") or []), own]
    text = dumps(stored)  # decimals keep the digits written (fhir.wire)
    row = ProfileEntry(
        id=entry_id,
        patient_id=patient_id,
        kind=derived.kind,
        source_class=source,
        author_kind=author_kind,
        author_ref=author_ref,
        recorded_at=now,
        status="active",
        resource_ct=data_key(ctx, patient_id).encrypt_text(text, aad=resource_aad(entry_id)),
        resource_type=derived.resource_type,
        resource_status=derived.status,
        verification_status=derived.verification,
        in_error=derived.in_error,
        occurred_on=derived.occurred_on,
        author_rpps=derived.author_rpps,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def add_profile_entry(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    payload: Mapping[str, Any],
    *,
    source_class: str | None = None,
    author_rpps: str | None = None,
) -> uuid.UUID:
    """An entry in one of Carnet's entry schemas (the JSON paths): built into its resource, then stored as one."""
    entry = validate_with(PROFILE_PAYLOAD, payload)
    source, _, _ = _author(actor, source_class, author_rpps, None)
    draft = LegacyEntry(id=uuid.uuid4(), kind=entry.kind, source_class=source, recorded_at=clock.now(), status="active")
    resource = legacy_resource(draft, patient_id, entry.model_dump(mode="json"))
    del resource["id"], resource["meta"]
    return add_profile_resource(ctx, actor, patient_id, resource, source_class=source, author_rpps=author_rpps)


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
    """The entries this actor may see; by default the current ones (not retired, not entered in error)."""
    if kind is not None and kind not in PROFILE_KINDS:
        raise Invalid(f"Unknown profile entry kind '{kind}'; kinds: {', '.join(PROFILE_KINDS)}.", code="invalid-kind")
    _, access = load_record(ctx, actor, Action.PROFILE_READ, patient_id)
    wanted = (kind,) if kind is not None else tuple(kinds) if kinds is not None else None
    rows = repository.list_profile_entries(ctx.session, patient_id, kinds=wanted, include_retired=include_retired)
    rows = [row for row in rows if gate.visible(access, Action.PROFILE_READ, entry_facts(actor, row))]
    if not rows:
        return []
    key = data_key(ctx, patient_id)
    return [entry_view(key, row) for row in rows]


def stored_resource(key: DataKey, row: ProfileEntry) -> dict[str, Any]:
    """The resource of an entry: as stored, or built from an entry not converted yet (see profile_legacy)."""
    if row.resource_ct is not None:
        resource: dict[str, Any] = loads(key.decrypt_text(row.resource_ct, aad=resource_aad(row.id)))
        return resource
    assert row.payload_ct is not None  # noqa: S101 (a check constraint: one of the two)
    payload = PROFILE_PAYLOAD.validate_json(key.decrypt(row.payload_ct, aad=payload_aad(row.id)))
    legacy = LegacyEntry(row.id, row.kind, row.source_class, row.recorded_at, row.status)
    return legacy_resource(legacy, row.patient_id, payload.model_dump(mode="json"))


def entry_view(key: DataKey, row: ProfileEntry) -> ProfileEntryView:
    return ProfileEntryView(
        id=row.id,
        kind=row.kind,
        source_class=row.source_class,
        author_kind=row.author_kind,
        author_ref=row.author_ref,
        recorded_at=row.recorded_at,
        status=row.status,
        resource=stored_resource(key, row),
        resource_status=row.resource_status,
        verification_status=row.verification_status,
        in_error=row.in_error,
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
    return entry_view(data_key(ctx, patient_id), row)


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


def replace_profile_entry(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, entry_id: uuid.UUID, body: Any, *, expected_type: str
) -> uuid.UUID:
    """Its author corrects an entry: the new resource is kept as written, the old one retired (kept, not current).

    Both happen in the caller's one transaction: a new resource that fails its checks leaves the old one current.
    """
    retire_profile_entry(ctx, actor, patient_id, entry_id)
    return add_profile_resource(ctx, actor, patient_id, body, expected_type=expected_type)
