"""Writing in a record from the professional's space: deposit a document, replace or withdraw one's own, and
set its author's flags (kept from the patient until a date, kept from the legal representatives).

A deposit is answered with what was stored (records.documents.deposit_described, no read of the record), so a
professional who may deposit but not read learns what they left. The file is checked as the patient's upload
checks it (portal.documents.upload_content), with CDA accepted besides. Each form carries a one-time key: the
same form sent twice deposits once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from carnet.kit import clock
from carnet.kit.errors import CarnetError
from carnet.kit.validation import validate_model
from carnet.portal.documents import _date, _labels, _options, upload_content
from carnet.portal.labels import CLASSES, TYPES
from carnet.portal.patient import FieldErrors
from carnet.portal.pro import acting, pro_page, pro_unit, space
from carnet.portal.pro_record import RECORD, document_context, record_path
from carnet.portal.staff import StaffMember
from carnet.portal.web import PARIS, checked_form, field, gettext, known_message, redirect, with_query
from carnet.records import documents
from carnet.records.codes import PATIENT_CLASS
from carnet.records.schemas import DocumentView, NewDocument

router = APIRouter(include_in_schema=False)
# A professional deposits any class but the patient's own (90) and the insurer's reimbursement data (60).
DEPOSITED_CLASSES = {code: words for code, words in CLASSES.items() if code not in (PATIENT_CLASS, "60")}
KEPT = ("class", "type", "title", "act_date")
MAX_HIDDEN = timedelta(days=365)  # records.document_rules refuses longer


def _deposit_page(
    request: Request,
    patient_id: uuid.UUID,
    errors: FieldErrors,
    values: dict[str, str],
    status: int,
    *,
    replaces: DocumentView | None = None,
) -> Response:
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
    context = {
        "patient_id": patient_id,
        "values": values,
        "replaces": replaces,
        "upload_key": uuid.uuid4().hex,
        "class_options": _options(request, DEPOSITED_CLASSES),
        "type_options": _options(request, TYPES),
        "max_megabytes": max(1, request.app.state.web.runtime.settings.max_document_bytes // (1024 * 1024)),
    }
    return pro_page(request, "pro/deposit.html", shared, context, errors=errors, status=status)


@router.get(f"{RECORD}/deposit")
def deposit_form(request: Request, patient_id: uuid.UUID) -> Response:
    return _deposit_page(request, patient_id, FieldErrors(), dict.fromkeys(KEPT, ""), 200)


def _own_document(request: Request, patient_id: uuid.UUID, document_id: uuid.UUID) -> DocumentView:
    """The document to replace, read through the gate: the form names what it replaces."""
    with pro_unit(request) as (ctx, member):
        return documents.get_document(ctx, acting(ctx, member, patient_id), patient_id, document_id)


@router.get(f"{RECORD}/documents/{{document_id}}/replace")
def replace_form(request: Request, patient_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    old = _own_document(request, patient_id, document_id)
    values = {"class": old.class_code, "type": old.type_code, "title": old.title, "act_date": ""}
    return _deposit_page(request, patient_id, FieldErrors(), values, 200, replaces=old)


def _checked(request: Request, form: FormData, errors: FieldErrors) -> dict[str, str]:
    _ = gettext(request).gettext
    values = {name: field(form, name, 300 if name == "title" else 16) for name in KEPT}
    title = values["title"].strip()
    if not title:
        errors.add("title", _("Give the document a title, for example “Consultation report”."))
    elif "\x00" in title or not title.isprintable():
        errors.add("title", _("The title contains characters that cannot be kept: type it again."))
    if values["class"] not in DEPOSITED_CLASSES:
        errors.add("class", _("Choose a kind of document from the list."))
    if values["type"] not in TYPES:
        errors.add("type", _("Choose what kind of document it is."))
    act = _date(values["act_date"].strip())
    if not values["act_date"].strip():
        errors.add("act_date", _("Enter the date of the act."))
    elif act is None:
        errors.add("act_date", _("Enter a date as day, month and year, for example 14/03/2026."))
    elif act > clock.today():
        errors.add("act_date", _("The date of the document cannot be in the future."))
    return values


def _meta(member: StaffMember, values: dict[str, str], fmt: str, key: str) -> NewDocument:
    identity = member.staff.identity
    author: dict[str, str] = {"rpps": identity.ref, "name": identity.name}
    if identity.organisation:
        author["organisation"] = identity.organisation
    return validate_model(
        NewDocument,
        {
            "class_code": values["class"],
            "type_code": values["type"],
            "title": values["title"].strip(),
            "act_date": _date(values["act_date"].strip()),
            "format": fmt,
            "author": author,
            "master_identifier": f"urn:uuid:{uuid.UUID(key)}",
        },
    )


async def _deposit(request: Request, patient_id: uuid.UUID, replaces: uuid.UUID | None) -> Response:
    form = await checked_form(request)
    errors = FieldErrors()
    values = _checked(request, form, errors)
    content, fmt = await upload_content(request, form, errors, cda=True)
    key = field(form, "upload_key", 64)
    if not (len(key) == 32 and all(c in "0123456789abcdef" for c in key)):
        errors.add("file", gettext(request).gettext("This form has expired or did not come from Carnet."))
    if errors or content is None or fmt is None:
        return _deposit_page(
            request, patient_id, errors, values, 422, replaces=_replaced(request, patient_id, replaces)
        )
    try:
        with pro_unit(request) as (ctx, member):
            actor = acting(ctx, member, patient_id)
            meta = _meta(member, values, fmt.value, key)
            stored = documents.deposit_described(ctx, actor, patient_id, meta, content, replaces=replaces)
            shared = space(ctx, member)
    except CarnetError as exc:
        if exc.status >= 500 or exc.status == 401:
            raise
        # A closed record, a refusal, a file whose whole did not pass: said above the form, nothing typed lost.
        name = next((n for n in ("act_date", "title", "type") if exc.message.startswith(f"{n}:")), "file")
        errors.add(name, known_message(request, exc))
        return _deposit_page(
            request, patient_id, errors, values, exc.status, replaces=_replaced(request, patient_id, replaces)
        )
    context = {"document": stored, "patient_id": patient_id, **_labels()}
    return pro_page(request, "pro/deposited.html", shared, context)


def _replaced(request: Request, patient_id: uuid.UUID, replaces: uuid.UUID | None) -> DocumentView | None:
    return _own_document(request, patient_id, replaces) if replaces is not None else None


@router.post(f"{RECORD}/deposit")
async def deposit(request: Request, patient_id: uuid.UUID) -> Response:
    return await _deposit(request, patient_id, None)


@router.post(f"{RECORD}/documents/{{document_id}}/replace")
async def replace(request: Request, patient_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    return await _deposit(request, patient_id, document_id)


@router.post(f"{RECORD}/documents/{{document_id}}/withdraw")
async def withdraw(request: Request, patient_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """The author withdraws their document: it stays in the record, marked withdrawn, out of the default list."""
    await checked_form(request)
    with pro_unit(request) as (ctx, member):
        documents.withdraw_document(ctx, acting(ctx, member, patient_id), patient_id, document_id)
    return redirect(with_query(f"{record_path(patient_id)}/documents/{document_id}", done="withdrawn"))


def _hidden_until(request: Request, text: str, errors: FieldErrors) -> datetime | None:
    """The end of the day chosen, Paris time: until then the patient does not see the document."""
    _ = gettext(request).gettext
    if not text.strip():
        return None
    day = _date(text.strip())
    if day is None:
        errors.add("hidden_until", _("Enter a date as day, month and year, for example 14/03/2026."))
        return None
    if day <= clock.today():
        errors.add("hidden_until", _("Choose a day after today."))
        return None
    until = datetime.combine(day, time(23, 59), tzinfo=PARIS).astimezone(UTC)
    if until - clock.now() > MAX_HIDDEN:
        errors.add("hidden_until", _("A document is kept from the patient for a year at most."))
        return None
    return until


@router.post(f"{RECORD}/documents/{{document_id}}/flags")
async def set_flags(request: Request, patient_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """The author keeps the document from the patient until a date (the patient is told by the professional
    first), and from the legal representatives."""
    form = await checked_form(request)
    errors = FieldErrors()
    typed = field(form, "hidden_until", 16)
    until = _hidden_until(request, typed, errors)
    from_representatives = field(form, "hidden_from_representatives", 1) == "1"
    if errors:
        return _document_again(request, patient_id, document_id, errors, typed)
    with pro_unit(request) as (ctx, member):
        documents.set_author_flags(
            ctx,
            acting(ctx, member, patient_id),
            patient_id,
            document_id,
            hidden_from_patient_until=until,
            hidden_from_representatives=from_representatives,
        )
    return redirect(with_query(f"{record_path(patient_id)}/documents/{document_id}", done="flagged"))


def _document_again(
    request: Request, patient_id: uuid.UUID, document_id: uuid.UUID, errors: FieldErrors, typed: str
) -> Response:
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        context = document_context(ctx, acting(ctx, member, patient_id), patient_id, document_id)
    context.update(values={"hidden_until": typed}, done="")
    return pro_page(request, "pro/document.html", shared, context, errors=errors, status=422)
