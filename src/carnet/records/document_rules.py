"""The rules of a document's metadata that need no data access (pure): whose document it is, the content
checked against its format, and the visibility flags' own constraints. The services (records/documents) call
them once the gate has allowed the action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from carnet.access.actor import Actor, ActorKind
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Invalid
from carnet.records.codes import PATIENT_CLASS, DocumentFormat, parse_format
from carnet.records.content import check_content
from carnet.records.document_types import DR, DocumentFacts
from carnet.records.models import Document

MAX_HIDDEN_FROM_PATIENT = timedelta(days=365)


def author_of(actor: Actor, facts: DocumentFacts) -> tuple[str, str, str | None, str | None]:
    """(kind, ref, name, organisation) of the author; patients author class 90 only, and only they do.

    The author as written is kept in the resource; these columns say whose document it is for the rules.
    """
    category, author = f"{DR}.category", f"{DR}.author"
    if actor.kind is ActorKind.PATIENT:
        if facts.class_code != PATIENT_CLASS:
            raise Invalid(
                f"A document a patient deposits is of class {PATIENT_CLASS} (Déposé par le patient).",
                code="invalid-class",
                expression=category,
            )
        if facts.authors_rpps:
            raise Invalid("A patient deposits documents in their own name.", code="invalid-author", expression=author)
        return "patient", actor.ref, None, None
    if facts.class_code == PATIENT_CLASS:
        raise Invalid(
            f"Class {PATIENT_CLASS} is reserved for documents the patient deposits.",
            code="invalid-class",
            expression=category,
        )
    if actor.kind is ActorKind.PROFESSIONAL:
        if facts.authors_rpps and actor.ref not in facts.authors_rpps:
            raise Invalid(
                "A professional deposits documents they author: the RPPS of the token is not among the authors.",
                code="invalid-author",
                expression=author,
            )
        name = facts.author_name if facts.authors_rpps and facts.authors_rpps[0] == actor.ref else None
        return "professional", actor.ref, name, actor.organisation or facts.organisation
    if not facts.authors_rpps:
        raise Invalid(
            "An imported document names its professional author by RPPS.", code="invalid-author", expression=author
        )
    return "professional", facts.authors_rpps[0], facts.author_name, facts.organisation


def checked_content(ctx: Context, facts: DocumentFacts, content: bytes) -> tuple[DocumentFormat, str]:
    where = f"{DR}.content[0].attachment"
    try:
        fmt = parse_format(facts.format)
    except CarnetError as exc:
        raise type(exc)(exc.message, code=exc.code, expression=f"{where}.contentType") from None
    try:
        return fmt, check_content(content, fmt, max_bytes=ctx.max_document_bytes)
    except CarnetError as exc:
        raise type(exc)(exc.message, code=exc.code, expression=exc.expression or f"{where}.data") from None


def mask(document: Document, masked: bool) -> None:
    document.masked = masked
    if masked:
        document.hidden_from_patient_until = None  # only an expired delay can remain here: it is over


def flag(document: Document, hidden_from_patient_until: datetime | None, hidden_from_representatives: bool) -> None:
    now = clock.now()
    if hidden_from_patient_until is not None:
        if (
            hidden_from_patient_until.tzinfo is None
            or not now < hidden_from_patient_until <= now + MAX_HIDDEN_FROM_PATIENT
        ):
            raise Invalid(
                "A document is hidden from its patient until a date with a time zone, within the coming year.",
                code="invalid-delay",
                expression=f"{DR}.extension",
            )
        if document.masked:
            raise Invalid(
                "The patient has masked this document: it cannot also be hidden from the patient.",
                code="masked-and-hidden",
                expression=f"{DR}.meta.security",
            )
    document.hidden_from_patient_until = hidden_from_patient_until
    document.hidden_from_representatives = hidden_from_representatives


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """What an update asks to change; None leaves a property as it is."""

    withdraw: bool = False
    masked: bool | None = None
    hidden_from_patient_until: datetime | None = None
    hidden_from_representatives: bool | None = None
    # Whether the author's flags are part of the change (a delay may be set to None: shown again).
    flags: bool = False
