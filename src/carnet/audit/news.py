"""What is new in a record since its patient's last visit: documents, new professionals, emergency accesses.

"The last visit" is the patient's previous completed sign-in, which the trail already records
(`login.second-factor`): no marker of its own to keep. The present session's start is the cut, so the page
says the same thing however often it is reloaded within one visit. On a first visit there is no cut: all of it
is new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from carnet.access.actor import Actor
from carnet.access.policy import Action
from carnet.access.service import justifications
from carnet.audit import repository
from carnet.context import Context
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery, DocumentView
from carnet.records.service import load_record

SHOWN = 10  # of each kind; the history and the documents list have the rest


@dataclass(frozen=True, slots=True)
class FirstAccess:
    rpps: str
    profession: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class EmergencyAccess:
    rpps: str
    profession: str | None
    mode: str  # emergency or regulation
    at: datetime
    justification: str | None


@dataclass(frozen=True, slots=True)
class News:
    since: datetime | None  # the previous visit; None on the first one
    documents: list[DocumentView]
    first_accesses: list[FirstAccess]
    emergencies: list[EmergencyAccess]


def _episode(subject: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(subject.removeprefix("episode:")) if subject and subject.startswith("episode:") else None
    except ValueError:
        return None


def news_since_last_visit(ctx: Context, actor: Actor, patient_id: uuid.UUID, *, visit_started: datetime) -> News:
    """What happened in the record since the reader's sign-in before the one that began at `visit_started`.

    It reads the access history, so it passes the gate as the history does; the documents are those the
    gate lets this reader see, deposited by others (the patient knows their own).
    """
    load_record(ctx, actor, Action.HISTORY_READ, patient_id, subject="news")
    since = repository.last_sign_in(ctx.session, patient_id, actor.ref, visit_started)
    query = DocumentQuery(deposited_from=since, order="-deposited", limit=SHOWN)
    documents = [d for d in list_documents(ctx, actor, patient_id, query).items if not d.patient_provided]
    first = [
        FirstAccess(rpps, profession, at)
        for rpps, profession, at in repository.first_accesses(ctx.session, patient_id, since, SHOWN)
    ]
    rows = repository.emergencies(ctx.session, patient_id, since, SHOWN)
    reasons = justifications(ctx, patient_id, [e for e in (_episode(row.subject) for row in rows) if e is not None])
    emergencies = [
        EmergencyAccess(
            row.actor_ref, row.profession, row.mode, row.at, reasons.get(_episode(row.subject) or uuid.UUID(int=0))
        )
        for row in rows
    ]
    return News(since=since, documents=documents, first_accesses=first, emergencies=emergencies)


def professional_last_access(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, *, session_started: datetime
) -> datetime | None:
    """When this professional last read the record before their present session began; None on a first access.

    The cut is the session's start, so what is "new since your last access" stays the same within one session
    however often the page is read. It asks the gate as the documents list does: a reader refused the list
    learns nothing of the trail either.
    """
    load_record(ctx, actor, Action.DOCUMENT_LIST, patient_id, subject="news")
    return repository.last_professional_access(ctx.session, patient_id, actor.ref, session_started)
