"""The patient's documents: the list with its filters and pages, one document and its content, masking, and
adding one's own (class 90).

Routes translate forms into the records services' calls (records.documents, behind the gate and the audit
trail) and their answers into pages. A document's title never goes into a URL: links carry its opaque id,
filters carry codes and dates. A document the gate refuses and one that does not exist get the same page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import CarnetError, NotFound
from carnet.kit.validation import validate_model
from carnet.portal.labels import CLASSES, DOC_STATUSES, STATUSES, TYPES
from carnet.portal.patient import FieldErrors
from carnet.portal.web import (
    checked_form,
    field,
    gettext,
    known_message,
    page,
    patient_unit,
    redirect,
    with_query,
)
from carnet.records import documents
from carnet.records.codes import PATIENT_CLASS, DocumentFormat
from carnet.records.narrative import Narrative, cda_narrative
from carnet.records.schemas import DocumentAuthor, DocumentQuery, DocumentView, NewDocument

router = APIRouter(include_in_schema=False)
PER_PAGE = 10
MAX_PAGE = 1000
UPLOAD_PATH = "/patient/documents/new"
# What a patient's file must start with, by format (records.content checks the whole file again at deposit).
SIGNATURES: dict[DocumentFormat, tuple[bytes, ...]] = {
    DocumentFormat.PDF: (b"%PDF-",),
    DocumentFormat.JPEG: (b"\xff\xd8\xff",),
    DocumentFormat.PNG: (b"\x89PNG\r\n\x1a\n",),
    DocumentFormat.CDA: (b"<?xml", b"\xef\xbb\xbf<?xml", b"<ClinicalDocument"),
}
# A safe file name for each format: never the title, which is medical data.
FILE_NAMES = {
    DocumentFormat.PDF: "document.pdf",
    DocumentFormat.CDA: "document.xml",
    DocumentFormat.TEXT: "document.txt",
    DocumentFormat.JPEG: "document.jpg",
    DocumentFormat.PNG: "document.png",
}
# A CDA is downloaded, never shown as it is: the page shows its narrative as text.
MEDIA = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.CDA: "application/xml",
    DocumentFormat.TEXT: "text/plain; charset=utf-8",
    DocumentFormat.JPEG: "image/jpeg",
    DocumentFormat.PNG: "image/png",
}
INLINE = {DocumentFormat.PDF, DocumentFormat.TEXT, DocumentFormat.JPEG, DocumentFormat.PNG}
# The content is the document's bytes, never a page: it runs nothing and loads nothing, and only Carnet's own
# document page may frame it. A PDF is not sandboxed: browsers refuse to show a PDF in a sandboxed document.
CONTENT_POLICY = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
SANDBOXED_POLICY = f"{CONTENT_POLICY}; sandbox"
DONE = {"added", "masked", "unmasked"}
LISTED: dict[str, Literal["current", "deprecated", "withdrawn"]] = {
    "current": "current",
    "deprecated": "deprecated",
    "withdrawn": "withdrawn",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filters as asked (strings, kept to fill the form again) and as the service takes them."""

    values: dict[str, str]
    query: DocumentQuery | None
    page: int


def _date(value: str) -> date | None:
    """A date as a date field sends it (2026-03-14), or as typed where the browser has no date picker (14/03/2026)."""
    day, month, year = [*value.split("/"), "", ""][:3] if "/" in value else ("", "", "")
    try:
        if year:
            return date(int(year), int(month), int(day)) if len(year) == 4 else None
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _filters(request: Request, asked: dict[str, str], authors: list[DocumentAuthor], errors: FieldErrors) -> Filters:
    _ = gettext(request).gettext
    values = {name: value.strip() for name, value in asked.items()}
    if values["class"] and values["class"] not in CLASSES:
        errors.add("class", _("Choose a kind of document from the list."))
    if values["type"] and values["type"] not in TYPES:
        errors.add("type", _("Choose a type of document from the list."))
    if values["status"] and values["status"] not in STATUSES:
        errors.add("status", _("Choose which documents to show from the list."))
    if values["author"] and values["author"] not in {a.ref for a in authors}:
        errors.add("author", _("Choose an author from the list."))
    since, until = _date(values["from"]), _date(values["to"])
    if values["from"] and since is None:
        errors.add("from", _("Enter a date as day, month and year, for example 14/03/2026."))
    if values["to"] and until is None:
        errors.add("to", _("Enter a date as day, month and year, for example 14/03/2026."))
    if since and until and until < since:
        errors.add("to", _("The end of the period cannot come before its start."))
    number = int(values["page"]) if values["page"].isdigit() and len(values["page"]) < 6 else 1
    number = min(max(number, 1), MAX_PAGE)
    if errors:
        return Filters(values, None, number)
    query = DocumentQuery(
        class_code=values["class"] or None,
        type_code=values["type"] or None,
        act_from=since,
        act_to=until,
        status=LISTED[values["status"] or "current"],
        author_ref=values["author"] or None,
        limit=PER_PAGE,
        offset=(number - 1) * PER_PAGE,
    )
    return Filters(values, query, number)


def _page_link(values: dict[str, str], number: int) -> str:
    kept = {name: value for name, value in values.items() if value and name != "page"}
    if number > 1:
        kept["page"] = str(number)
    return with_query("/patient/documents", **kept)


def _author_names(request: Request, authors: list[DocumentAuthor]) -> dict[str, str]:
    _ = gettext(request).gettext
    return {
        a.ref: _("You")
        if a.kind == "patient"
        else ", ".join(part for part in (a.name or _("A health professional"), a.organisation) if part)
        for a in authors
    }


def asked_filters(
    class_code: Annotated[str, Query(alias="class", max_length=8)] = "",
    type_code: Annotated[str, Query(alias="type", max_length=16)] = "",
    since: Annotated[str, Query(alias="from", max_length=16)] = "",
    until: Annotated[str, Query(alias="to", max_length=16)] = "",
    author: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page_number: Annotated[str, Query(alias="page", max_length=8)] = "",
) -> dict[str, str]:
    """A document list's filters as the address asks them, by the names its form gives them (a dependency)."""
    return {
        "class": class_code,
        "type": type_code,
        "from": since,
        "to": until,
        "author": author,
        "status": status,
        "page": page_number,
    }


AskedFilters = Annotated[dict[str, str], Depends(asked_filters)]


@router.get("/patient/documents")
def document_list(request: Request, asked: AskedFilters) -> Response:
    """Newest act first, a page at a time; filters by kind, type, period, author and where a document stands."""
    errors = FieldErrors()
    with patient_unit(request) as (ctx, patient):
        authors = documents.document_authors(ctx, patient.actor, patient.patient_id)
        filters = _filters(request, asked, authors, errors)
        found = (
            documents.list_documents(ctx, patient.actor, patient.patient_id, filters.query)
            if filters.query is not None
            else None
        )
    filtered = any(
        value for name, value in filters.values.items() if name != "page" and (name, value) != ("status", "current")
    )
    context = {
        "errors": errors.items,
        "field_errors": errors.by_field,
        "values": filters.values,
        "documents": found.items if found else [],
        "previous": _page_link(filters.values, filters.page - 1) if found and filters.page > 1 else None,
        "next": _page_link(filters.values, filters.page + 1) if found and found.next_offset is not None else None,
        "page_number": filters.page,
        "filtered": filtered,
        "authors": _author_names(request, authors),
        "class_options": _options(request, CLASSES),
        "type_options": _options(request, TYPES),
        "status_options": [(code, gettext(request).gettext(words)) for code, words in STATUSES.items()],
        **_labels(),
        "signed_in": True,
    }
    return page(request, "patient/documents/list.html", context, status=422 if errors else 200)


def _labels() -> dict[str, object]:
    return {"classes": CLASSES, "types": TYPES, "doc_statuses": DOC_STATUSES, "statuses": STATUSES}


def _options(request: Request, labels: dict[str, str]) -> list[tuple[str, str]]:
    """A select's options in the reader's words, in alphabetical order of those words."""
    _ = gettext(request).gettext
    return sorted(((code, _(words)) for code, words in labels.items()), key=lambda option: option[1].casefold())


def _kind(view: DocumentView) -> Literal["pdf", "image", "text", "cda", "other"]:
    fmt = view.format.split(";")[0].strip().lower()
    if fmt == DocumentFormat.PDF.value:
        return "pdf"
    if fmt in (DocumentFormat.JPEG.value, DocumentFormat.PNG.value):
        return "image"
    if fmt == DocumentFormat.TEXT.value:
        return "text"
    if fmt in (DocumentFormat.CDA.value, "application/hl7-cda+xml"):
        return "cda"
    return "other"


def _author_line(request: Request, view: DocumentView) -> str:
    _ = gettext(request).gettext
    if view.patient_provided:
        return _("Added by you")
    who = view.author_name or _("A health professional")
    return ", ".join(part for part in (who, view.author_organisation) if part)


@router.get("/patient/documents/new")
def upload_form(request: Request) -> Response:
    with patient_unit(request):
        pass  # signed in, or sent to sign in first
    return _upload_page(request, FieldErrors(), {"type": "", "title": "", "act_date": ""}, 200)


def _upload_page(request: Request, errors: FieldErrors, values: dict[str, str], status: int) -> Response:
    context = {
        "errors": errors.items,
        "field_errors": errors.by_field,
        "values": values,
        "upload_key": uuid.uuid4().hex,  # a new one each time the form is shown: one document per form sent
        "type_options": _options(request, TYPES),
        "max_megabytes": max(1, request.app.state.web.runtime.settings.max_document_bytes // (1024 * 1024)),
        "signed_in": True,
    }
    return page(request, "patient/documents/new.html", context, status=status)


def _upload_format(content: bytes, name: str, declared: str, *, cda: bool = False) -> DocumentFormat | None:
    """The file's format, from its first bytes, when they agree with its name and its declared type.

    A CDA (an XML file) is taken from professionals only (`cda`); records.content checks it is one at deposit."""
    lowered = name.lower()
    by_name = {
        ".pdf": DocumentFormat.PDF,
        ".jpg": DocumentFormat.JPEG,
        ".jpeg": DocumentFormat.JPEG,
        ".png": DocumentFormat.PNG,
        ".txt": DocumentFormat.TEXT,
        **({".xml": DocumentFormat.CDA} if cda else {}),
    }
    named = next((fmt for ext, fmt in by_name.items() if lowered.endswith(ext)), None)
    said = declared.split(";")[0].strip().lower()
    if named is None:
        return None
    xml = ("text/xml", "application/hl7-cda+xml") if named is DocumentFormat.CDA else ()
    if said and said not in (named.value, "application/octet-stream", *xml):
        return None
    signatures = SIGNATURES.get(named)
    if signatures is None:  # plain text: records.content checks it is UTF-8 without NUL
        return named
    return named if any(content.startswith(s) for s in signatures) else None


@router.post(UPLOAD_PATH)
async def upload(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {
        "type": field(form, "type", 16),
        "title": field(form, "title", 300),
        "act_date": field(form, "act_date", 16),
    }
    key = field(form, "upload_key", 64)
    errors = FieldErrors()
    title = values["title"].strip()
    if not title:
        errors.add("title", _("Give the document a title, for example “Vaccination certificate”."))
    elif "\x00" in title or not title.isprintable():
        errors.add("title", _("The title contains characters that cannot be kept: type it again."))
    if values["type"] not in TYPES:
        errors.add("type", _("Choose what kind of document it is."))
    act = _date(values["act_date"].strip()) if values["act_date"].strip() else None
    if values["act_date"].strip() and act is None:
        errors.add("act_date", _("Enter a date as day, month and year, for example 14/03/2026."))
    elif act is not None and act > clock.today():
        errors.add("act_date", _("The date of the document cannot be in the future."))
    content, fmt = await upload_content(request, form, errors)
    if not (len(key) == 32 and all(c in "0123456789abcdef" for c in key)):
        errors.add("file", _("This form has expired or did not come from Carnet."))
    if errors or fmt is None or content is None:
        return _upload_page(request, errors, values, 422)
    identifier = f"urn:uuid:{uuid.UUID(key)}"
    try:
        meta = validate_model(
            NewDocument,
            {
                "class_code": PATIENT_CLASS,
                "type_code": values["type"],
                "title": title,
                "act_date": act or clock.today(),
                "format": fmt.value,
                "master_identifier": identifier,
            },
        )
        with patient_unit(request) as (ctx, patient):
            document_id = documents.deposit_document(ctx, patient.actor, patient.patient_id, meta, content)
    except CarnetError as exc:
        if exc.code == "duplicate-document":
            return _already_added(request, identifier)
        if exc.status >= 500 or exc.status in (401, 403, 404, 409, 410):
            raise
        # A file its first bytes passed but the whole of which did not (a PDF cut short), or a field the
        # record's schema refused (a date before any record could hold one): said beside that field.
        name = next((n for n in ("act_date", "title", "type") if exc.message.startswith(f"{n}:")), "file")
        message = mislabelled(request) if exc.code == "mislabelled-content" else known_message(request, exc)
        errors.add(name, message)
        return _upload_page(request, errors, values, exc.status)
    return redirect(with_query(f"/patient/documents/{document_id}", done="added"))


def mislabelled(request: Request, *, cda: bool = False) -> str:
    _ = gettext(request).gettext
    if cda:
        return _("This file is not what its name says: choose a PDF, CDA (XML), JPEG, PNG or text file.")
    return _("This file is not what its name says: choose a PDF, JPEG, PNG or text file.")


async def upload_content(
    request: Request, form: FormData, errors: FieldErrors, *, cda: bool = False
) -> tuple[bytes | None, DocumentFormat | None]:
    """The uploaded file and its format, or the message beside the file field (the patient's and the
    professional's deposit forms check a file the same way)."""
    _ = gettext(request).gettext
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add("file", _("Choose the file to add."))
        return None, None
    limit = request.app.state.web.runtime.settings.max_document_bytes
    content = await upload.read(limit + 1)
    if not content:
        errors.add("file", _("This file is empty: choose another one."))
        return None, None
    if len(content) > limit:
        megabytes = max(1, limit // (1024 * 1024))
        errors.add("file", _("This file is too large: at most %(megabytes)d MB.") % {"megabytes": megabytes})
        return None, None
    fmt = _upload_format(content, upload.filename, upload.content_type or "", cda=cda)
    if fmt is None:
        errors.add("file", mislabelled(request, cda=cda))
        return None, None
    return content, fmt


def _already_added(request: Request, identifier: str) -> Response:
    """The same form sent twice: the document it added, once."""
    with patient_unit(request) as (ctx, patient):
        query = DocumentQuery(status="any", master_identifier=identifier, limit=1)
        found = documents.list_documents(ctx, patient.actor, patient.patient_id, query).items
    if not found:
        raise NotFound(documents.NO_SUCH_DOCUMENT)
    return redirect(with_query(f"/patient/documents/{found[0].id}", done="added"))


@router.get("/patient/documents/{document_id}")
def document_page(
    request: Request, document_id: uuid.UUID, done: Annotated[str, Query(max_length=16)] = ""
) -> Response:
    """One document: what it is, who wrote it, whether it is masked, and its content shown as the format allows."""
    with patient_unit(request) as (ctx, patient):
        view, text, narrative = read_for_page(ctx, patient.actor, patient.patient_id, document_id)
    _ = gettext(request).gettext
    context = {
        "document": view,
        "kind": _kind(view),
        "text": text,
        "narrative": narrative,
        "author": _author_line(request, view),
        "content_url": f"/patient/documents/{view.id}/content",
        "download_url": with_query(f"/patient/documents/{view.id}/content", download="1"),
        "done": done if done in DONE else "",
        **_labels(),
        "signed_in": True,
    }
    return page(request, "patient/documents/document.html", context)


def read_for_page(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID
) -> tuple[DocumentView, str | None, Narrative | None]:
    """The document's metadata; its content too when the page shows it as text (plain text, a CDA's narrative).

    The patient's document page and the professional's both show a document this way."""
    view = documents.get_document(ctx, actor, patient_id, document_id)
    kind = _kind(view)
    if kind not in ("text", "cda"):
        return view, None, None
    _, content = documents.read_content(ctx, actor, patient_id, document_id)
    if kind == "text":
        return view, content.decode("utf-8", errors="replace"), None
    return view, None, cda_narrative(content)


@router.get("/patient/documents/{document_id}/content")
def document_content(
    request: Request, document_id: uuid.UUID, download: Annotated[str, Query(max_length=1)] = ""
) -> Response:
    """The document's bytes through the gate and the audit trail, as their format, under a generic name."""
    with patient_unit(request) as (ctx, patient):
        view, content = documents.read_content(ctx, patient.actor, patient.patient_id, document_id)
    return content_response(view, content, download=download == "1")


def content_response(view: DocumentView, content: bytes, *, download: bool) -> Response:
    """A document's bytes as their format, under a generic name, with the policy that keeps them inert."""
    kind = _kind(view)
    fmt = {"pdf": DocumentFormat.PDF, "text": DocumentFormat.TEXT, "cda": DocumentFormat.CDA}.get(kind)
    if kind == "image":
        fmt = DocumentFormat.PNG if view.format.startswith(DocumentFormat.PNG.value) else DocumentFormat.JPEG
    name = FILE_NAMES[fmt] if fmt is not None else "document.bin"
    inline = fmt in INLINE and not download
    media = MEDIA.get(fmt, "application/octet-stream") if fmt is not None else "application/octet-stream"
    headers = {
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
        "Content-Security-Policy": CONTENT_POLICY if fmt is DocumentFormat.PDF else SANDBOXED_POLICY,
    }
    return Response(content, media_type=media, headers=headers)


@router.post("/patient/documents/{document_id}/mask")
async def mask(request: Request, document_id: uuid.UUID) -> Response:
    """Mask the document from the professionals (its author and the regular doctor still see it), or unmask it."""
    form = await checked_form(request)
    masked = field(form, "masked", 1) == "1"
    with patient_unit(request) as (ctx, patient):
        documents.set_masked(ctx, patient.actor, patient.patient_id, document_id, masked)
    return redirect(with_query(f"/patient/documents/{document_id}", done="masked" if masked else "unmasked"))
