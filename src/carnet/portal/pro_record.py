"""Reading a record in the professional's space: its documents, one document and its content, the health
summary and the reimbursements, through the services the FHIR API uses (the gate decides and audits).

Current documents come first and alone by default (replaced and withdrawn ones on asking), newest act first;
what was deposited since this professional's previous session on the record is marked new; a document its
author keeps from the patient says so, so that the professional does not mention it. A professional who may
deposit but not read is told so, and offered the deposit.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.access.actor import Actor, Mode
from carnet.audit.news import professional_last_access
from carnet.context import Context
from carnet.feeds.service import list_reimbursements
from carnet.kit.errors import Forbidden
from carnet.portal.documents import (
    AskedFilters,
    _filters,
    _kind,
    _labels,
    _options,
    content_response,
    read_for_page,
)
from carnet.portal.labels import CLASSES, STATUSES, TYPES
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.pro import HOME, acting, pro_page, pro_unit, space
from carnet.portal.profile_display import sections
from carnet.portal.profile_forms import FORMS, PRO_KINDS, PRO_WORDS
from carnet.portal.staff import StaffMember
from carnet.portal.web import checked_form, field, gettext, language, with_query
from carnet.records import documents
from carnet.records.profile import list_profile
from carnet.records.profile_types import PROFILE_KINDS
from carnet.records.schemas import DocumentAuthor, DocumentView, RecordSummary
from carnet.records.service import record_summary

router = APIRouter(include_in_schema=False)
RECORD = f"{HOME}/patients/{{patient_id}}"
# Refusals that mean "you may not read this record" to a professional who is not a stranger to it.
NO_READ = ("not-authorised", "deposit-only-mode", "no-episode")
DONE = ("card", "emergency", "withdrawn", "flagged")
SERVICE_MESSAGES = (
    N_("You are not authorised on this record: ask the patient to authorise you, or present their carte Vitale."),
    N_("In deposit-only mode you can deposit, not read."),
    N_("Only the author of this item can do that."),
)


MAX_WORDS = 100  # a search's words, as records.schemas.DocumentQuery takes them


def record_path(patient_id: uuid.UUID) -> str:
    return f"{HOME}/patients/{patient_id}"


def own(view: DocumentView, actor: Actor) -> bool:
    """Whether this professional wrote the document (only its author replaces, withdraws or flags it)."""
    return view.author_kind == "professional" and view.author_ref == actor.ref


def _header(ctx: Context, member: StaffMember, patient_id: uuid.UUID) -> tuple[Actor, RecordSummary | None, str]:
    """The Actor on this record, the record's summary when they may read it, and else the refusal's code."""
    actor = acting(ctx, member, patient_id)
    try:
        return actor, record_summary(ctx, actor, patient_id), ""
    except Forbidden as exc:
        if exc.code not in NO_READ:
            raise
        return actor, None, exc.code


def _author_names(request: Request, authors: list[DocumentAuthor]) -> dict[str, str]:
    _ = gettext(request).gettext
    return {
        a.ref: _("The patient")
        if a.kind == "patient"
        else ", ".join(part for part in (a.name or _("A health professional"), a.organisation) if part)
        for a in authors
    }


def _page_link(patient_id: uuid.UUID, values: dict[str, str], number: int) -> str:
    kept = {name: value for name, value in values.items() if value and name != "page"}
    if number > 1:
        kept["page"] = str(number)
    return with_query(record_path(patient_id), **kept)


def _no_read(request: Request, shared: dict[str, object], patient_id: uuid.UUID, code: str) -> Response:
    return pro_page(request, "pro/no_read.html", shared, {"patient_id": patient_id, "code": code}, status=403)


@router.get(RECORD)
def record_page(
    request: Request,
    patient_id: uuid.UUID,
    asked: AskedFilters,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """The record's documents, as the gate lets this professional see them, newest act first."""
    return _record_page(request, patient_id, asked, done=done)


@router.post(f"{RECORD}/search")
async def search_page(request: Request, patient_id: uuid.UUID) -> Response:
    """The documents whose title holds the words asked. Sent by POST: the words stay out of URLs and logs."""
    form = await checked_form(request)
    asked = dict.fromkeys(("class", "type", "from", "to", "author", "status"), "")
    asked["page"] = field(form, "page", 8)
    return _record_page(request, patient_id, asked, words=field(form, "words", 200))


def _record_page(
    request: Request, patient_id: uuid.UUID, asked: dict[str, str], *, done: str = "", words: str | None = None
) -> Response:
    errors = FieldErrors()
    _ = gettext(request).gettext
    if words is not None:
        words = " ".join(words.split())
        if not words:
            errors.add("words", _("Enter one or more words of the title."))
        elif len(words) > MAX_WORDS:
            errors.add("words", _("Search with at most 100 characters."))
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        actor, summary, refused = _header(ctx, member, patient_id)
        if summary is not None:
            authors = documents.document_authors(ctx, actor, patient_id)
            filters = _filters(request, asked, authors, errors)
            query = filters.query.model_copy(update={"words": words}) if filters.query and words else filters.query
            found = documents.list_documents(ctx, actor, patient_id, query) if query else None
            last = professional_last_access(ctx, actor, patient_id, session_started=member.staff.started_at)
    if summary is None:
        return _no_read(request, shared, patient_id, refused)
    filtered = bool(words) or any(
        value for name, value in filters.values.items() if name != "page" and (name, value) != ("status", "current")
    )
    searched = bool(words) and not errors
    context = {
        "summary": summary,
        "patient_id": patient_id,
        "mode": actor.mode.value,
        "values": filters.values,
        "documents": found.items if found else [],
        "last_access": last,
        "previous": _page_link(patient_id, filters.values, filters.page - 1) if found and filters.page > 1 else None,
        "next": _page_link(patient_id, filters.values, filters.page + 1)
        if found and found.next_offset is not None
        else None,
        "page_number": filters.page,
        "filtered": filtered,
        "words": words or "",
        "searched": searched,
        "more": bool(found and found.next_offset is not None),
        "authors": _author_names(request, authors),
        "class_options": _options(request, CLASSES),
        "type_options": _options(request, TYPES),
        "status_options": [(code, _(words)) for code, words in STATUSES.items()],
        "done": done if done in DONE else "",
        "tab": "documents",
        **_labels(),
    }
    return pro_page(request, "pro/record.html", shared, context, errors=errors, status=422 if errors else 200)


def document_context(ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID) -> dict[str, object]:
    """What the document page shows, read through the gate (the flags form shows it again with its message)."""
    view, text, narrative = read_for_page(ctx, actor, patient_id, document_id)
    base = f"{record_path(patient_id)}/documents/{view.id}"
    return {
        "document": view,
        "patient_id": patient_id,
        "kind": _kind(view),
        "text": text,
        "narrative": narrative,
        "own": own(view, actor) and actor.mode is not Mode.REGULATION,
        "content_url": f"{base}/content",
        "download_url": with_query(f"{base}/content", download="1"),
        "values": {"hidden_until": ""},
        **_labels(),
    }


@router.get(f"{RECORD}/documents/{{document_id}}")
def document_page(
    request: Request, patient_id: uuid.UUID, document_id: uuid.UUID, done: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    """One document: what it is, who wrote it, whether the patient knows of it, its content; the author's actions."""
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        context = document_context(ctx, acting(ctx, member, patient_id), patient_id, document_id)
    context["done"] = done if done in DONE else ""
    return pro_page(request, "pro/document.html", shared, context)


@router.get(f"{RECORD}/documents/{{document_id}}/content")
def document_content(
    request: Request,
    patient_id: uuid.UUID,
    document_id: uuid.UUID,
    download: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    with pro_unit(request) as (ctx, member):
        view, content = documents.read_content(ctx, acting(ctx, member, patient_id), patient_id, document_id)
    return content_response(view, content, download=download == "1")


@router.get(f"{RECORD}/profile")
def profile_page(
    request: Request, patient_id: uuid.UUID, done: Annotated[str | None, Query(max_length=10)] = None
) -> Response:
    """The health summary, as the gate lets this professional read it (the matrix decides by source class)."""
    _ = gettext(request).gettext
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        actor, summary, refused = _header(ctx, member, patient_id)
        entries = list_profile(ctx, actor, patient_id, kinds=PROFILE_KINDS) if summary is not None else []
    if summary is None:
        return _no_read(request, shared, patient_id, refused)
    context = {
        "summary": summary,
        "patient_id": patient_id,
        "mode": actor.mode.value,
        "sections": sections(entries, language(request), _),
        "tab": "profile",
        "add_links": {
            key: [(k, PRO_WORDS.get(FORMS[k].heading, FORMS[k].heading)) for k in kinds]
            for key, kinds in PRO_KINDS.items()
        },
        "notice": _("The entry is added to the health summary.") if done == "added" else None,
        "words": PRO_WORDS,
    }
    return pro_page(request, "pro/profile.html", shared, context)


@router.get(f"{RECORD}/reimbursements")
def reimbursements_page(request: Request, patient_id: uuid.UUID) -> Response:
    """The reimbursement lines the insurer's feed brought, when the matrix lets this profession read them."""
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        actor, summary, refused = _header(ctx, member, patient_id)
        lines = list_reimbursements(ctx, actor, patient_id) if summary is not None else []
    if summary is None:
        return _no_read(request, shared, patient_id, refused)
    context = {
        "summary": summary,
        "patient_id": patient_id,
        "mode": actor.mode.value,
        "lines": lines,
        "tab": "reimbursements",
    }
    return pro_page(request, "pro/reimbursements.html", shared, context)
