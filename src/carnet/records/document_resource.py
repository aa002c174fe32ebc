"""A stored DocumentReference as read, and as a FHIR update changes it (pure).

A read returns the resource as written with only what Carnet sets (docs/fhir-documents.md):
`id`; `meta.versionId` and `meta.lastUpdated`; `status`, which follows the document's life (superseded once
replaced, entered-in-error once withdrawn); Carnet's labels in `meta.security` and the extension
hidden-from-patient-until, which follow the visibility flags of the version read (a mask set by the patient,
a delay that has passed); the extension depositor (who deposited it, from the token); `date`, the deposit
time, when the writer gave none; and the attachment's `url` (the Binary), `size` and `hash`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carnet.fhir.codes import (
    CONFIDENTIALITY_SYSTEM,
    EXT_HIDDEN_UNTIL,
    INVISIBLE_TO_PATIENT,
    INVISIBLE_TO_REPRESENTATIVES,
    MASKED,
    RPPS_SYSTEM,
    STATUS_TO_FHIR,
)
from carnet.fhir.ids import item_id
from carnet.fhir.wire import dumps
from carnet.kit.errors import Invalid
from carnet.records.document_types import DMP_LABELS, DR, EXT_DEPOSITOR, instant_of

Resource = dict[str, Any]
# What a FHIR update may change: the status and Carnet's visibility labels (with their delay), nothing else.
MUTABLE = ("id", "meta", "status", "extension")


def resource_aad(document_id: uuid.UUID) -> str:
    return f"documents.resource:{document_id}"


def version_aad(document_id: uuid.UUID, version: int) -> str:
    return f"document_versions.resource:{document_id}:{version}"


def encoded(resource: Mapping[str, Any]) -> str:
    """The stored text: numbers as their writer wrote them (fhir.wire), so 66.90 stays 66.90."""
    return dumps(resource)


def instant(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class ReadState:
    """What Carnet sets on a read of one version of a document."""

    patient_id: uuid.UUID
    document_id: uuid.UUID
    version: int
    updated_at: datetime
    deposited_at: datetime
    status: str  # Carnet's: current, deprecated, withdrawn
    masked: bool
    hidden_from_patient_until: datetime | None  # only while it holds
    hidden_from_representatives: bool
    author_kind: str
    author_ref: str


def depositor(state: ReadState) -> Resource:
    if state.author_kind == "patient":
        value: Resource = {"reference": f"Patient/{state.patient_id}"}
    else:
        value = {"identifier": {"system": RPPS_SYSTEM, "value": state.author_ref}}
    return {"url": EXT_DEPOSITOR, "valueReference": value}


def _labels(written: list[Any], state: ReadState) -> list[Any]:
    """Carnet's labels as the flags are: as written while they agree, else rebuilt after the writer's others."""
    flags = [
        code
        for code, on in (
            (MASKED, state.masked),
            (INVISIBLE_TO_PATIENT, state.hidden_from_patient_until is not None),
            (INVISIBLE_TO_REPRESENTATIVES, state.hidden_from_representatives),
        )
        if on
    ]
    ours = [c for c in written if isinstance(c, Mapping) and c.get("system") == CONFIDENTIALITY_SYSTEM]
    if {c.get("code") for c in ours} == set(flags) and len(ours) == len(flags):
        return written
    others = [c for c in written if c not in ours]
    return [*others, *({"system": CONFIDENTIALITY_SYSTEM, "code": code} for code in flags)]


def _extensions(written: list[Any], state: ReadState) -> list[Any]:
    until = state.hidden_from_patient_until
    kept: list[Any] = []
    for extension in written:
        url = extension.get("url") if isinstance(extension, Mapping) else None
        if url == EXT_DEPOSITOR:
            continue
        if url == EXT_HIDDEN_UNTIL and (until is None or instant_of(extension.get("valueDateTime")) != until):
            continue
        kept.append(extension)
    if until is not None and not any(isinstance(e, Mapping) and e.get("url") == EXT_HIDDEN_UNTIL for e in kept):
        kept.append({"url": EXT_HIDDEN_UNTIL, "valueDateTime": instant(until)})
    return [*kept, depositor(state)]


def as_read(stored: Mapping[str, Any], state: ReadState) -> Resource:
    """The resource a reader gets: the stored one with the elements Carnet sets."""
    rid = item_id(state.patient_id, state.document_id)
    written_meta = {k: v for k, v in (stored.get("meta") or {}).items() if k not in ("versionId", "lastUpdated")}
    meta: Resource = {"versionId": str(state.version), "lastUpdated": instant(state.updated_at), **written_meta}
    security = _labels(list(written_meta.get("security") or []), state)
    if security:
        meta["security"] = security
    else:
        meta.pop("security", None)
    resource: Resource = {"resourceType": DR, "id": rid, "meta": meta}
    resource.update((k, v) for k, v in stored.items() if k not in resource)
    resource["status"] = STATUS_TO_FHIR[state.status]
    resource.setdefault("date", instant(state.deposited_at))
    resource["extension"] = _extensions(list(stored.get("extension") or []), state)
    content = dict(resource["content"][0])
    content["attachment"] = {**content["attachment"], "url": f"Binary/{rid}"}
    resource["content"] = [content, *resource["content"][1:]]
    return resource


def updated(stored: Mapping[str, Any], read: Mapping[str, Any], incoming: Mapping[str, Any]) -> Resource:
    """The resource a FHIR update stores: the stored one with the status and Carnet's labels it sends.

    Anything else that differs from what a read returns is refused, naming the element, never ignored: a new
    version of a document's content or metadata is a new DocumentReference that replaces it (relatesTo).
    """
    for key in sorted(set(read) | set(incoming)):
        if key not in MUTABLE and read.get(key) != incoming.get(key):
            raise _immutable(f"{DR}.{key}")
    read_meta, new_meta = dict(read.get("meta") or {}), dict(incoming.get("meta") or {})
    for key in sorted((set(read_meta) | set(new_meta)) - {"versionId", "lastUpdated", "security"}):
        if read_meta.get(key) != new_meta.get(key):
            raise _immutable(f"{DR}.meta.{key}")
    if _not_ours(read_meta.get("security")) != _not_ours(new_meta.get("security")):
        raise _immutable(f"{DR}.meta.security")
    before, after = _other_extensions(read.get("extension")), _other_extensions(incoming.get("extension"))
    sent_depositor = [
        e for e in incoming.get("extension") or [] if isinstance(e, Mapping) and e.get("url") == EXT_DEPOSITOR
    ]
    if before != after or any(e != depositor_of(read) for e in sent_depositor):
        raise _immutable(f"{DR}.extension")
    result = dict(stored)
    result["status"] = incoming.get("status")
    meta = {k: v for k, v in (stored.get("meta") or {}).items() if k != "security"}
    if new_meta.get("security"):
        meta["security"] = new_meta["security"]
    if meta:
        result["meta"] = meta
    else:
        result.pop("meta", None)
    hidden = [e for e in incoming.get("extension") or [] if isinstance(e, Mapping) and e.get("url") == EXT_HIDDEN_UNTIL]
    extensions = [*_other_extensions(stored.get("extension")), *hidden]
    if extensions:
        result["extension"] = extensions
    else:
        result.pop("extension", None)
    return result


def depositor_of(read: Mapping[str, Any]) -> Any:
    return next(
        (e for e in read.get("extension") or [] if isinstance(e, Mapping) and e.get("url") == EXT_DEPOSITOR), None
    )


def _immutable(where: str) -> Invalid:
    return Invalid(
        f"{where} cannot change: an update changes the status and Carnet's labels only; a new version of the "
        "document is a new DocumentReference that replaces this one (relatesTo).",
        code="immutable-element",
        expression=where,
    )


def _not_ours(labels: Any) -> list[Any]:
    return [
        c
        for c in labels or []
        if not (isinstance(c, Mapping) and c.get("system") == CONFIDENTIALITY_SYSTEM and c.get("code") in DMP_LABELS)
    ]


def _other_extensions(extensions: Any) -> list[Any]:
    return [
        e
        for e in extensions or []
        if not (isinstance(e, Mapping) and e.get("url") in (EXT_HIDDEN_UNTIL, EXT_DEPOSITOR))
    ]
