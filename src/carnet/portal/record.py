"""The patient's whole record: download it (FHIR Bundle, printable PDF), close it, reopen it, ask its destruction.

Closing, reopening and asking destruction need the password again (accounts.reauthenticate, then the same
`require_recent` check the JSON API makes) and say first, in plain words, what is kept and for how long.
The password is checked in its own unit of work, so a wrong one counts against the throttle even though the
action is refused; the action itself then runs in the next, with the session just confirmed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from carnet.api.deps import SESSION_COOKIE, address, unit
from carnet.feeds.service import list_reimbursements
from carnet.fhir.codes import FHIR_JSON
from carnet.fhir.everything import record_bundle
from carnet.fhir.wire import checked, dumps
from carnet.identity import accounts, sessions
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.summary_pdf import summary_pdf
from carnet.portal.web import (
    SignInRequired,
    checked_form,
    field,
    gettext,
    known_message,
    language,
    page,
    patient_unit,
    redirect,
)
from carnet.records.documents import list_documents
from carnet.records.profile import list_profile
from carnet.records.profile_types import PROFILE_KINDS
from carnet.records.schemas import DocumentQuery
from carnet.records.service import (
    cancel_destruction,
    close_record,
    destruction_date,
    record_summary,
    reopen_record,
    request_destruction,
)

router = APIRouter(include_in_schema=False)
Step = Literal["close", "reopen", "destruction"]
WRONG_PASSWORD = N_("The password is wrong.")  # accounts.reauthenticate's refusal, in the catalogue
DONE = {
    "close": N_("Your record is closed. Only you can read it now; you can reopen it at any time."),
    "reopen": N_("Your record is open again: the professionals you authorise can read it and add to it."),
    "destruction": N_("Your request is recorded: your record is closed now."),
    "cancelled": N_("Your request is cancelled: your record will not be destroyed. It stays closed."),
}
ALLOWED_WHEN = {"close": ("open",), "reopen": ("closed",), "destruction": ("open", "closed")}
PER_PAGE = 100


@router.get("/patient/record")
def record(request: Request, done: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    with patient_unit(request) as (ctx, patient):
        summary = record_summary(ctx, patient.actor, patient.patient_id)
    _ = gettext(request).gettext
    requested = summary.destruction_requested_at
    return page(
        request,
        "patient/record/index.html",
        {
            "state": summary.state,
            "destruction_asked": requested is not None,
            "destroyed_from": destruction_date(requested, _cooling_off(request)) if requested else None,
            "notice": _(DONE[done]) if done in DONE else None,
            "signed_in": True,
        },
    )


def _cooling_off(request: Request) -> timedelta:
    return timedelta(days=request.app.state.web.runtime.settings.destruction_cooling_off_days)


@router.post("/patient/record/destruction/cancel")
async def cancel(request: Request) -> Response:
    """The patient changes their mind before the destruction (no password asked: nothing is lost by it)."""
    await checked_form(request)
    with patient_unit(request) as (ctx, patient):
        cancel_destruction(ctx, patient.actor, patient.patient_id)
    return redirect("/patient/record?done=cancelled")


@router.get("/patient/record/bundle")
def bundle(request: Request) -> Response:
    """The whole record as a FHIR Bundle, a file to keep (its name says nothing about its patient)."""
    base = f"{str(request.base_url).rstrip('/')}/fhir"
    with patient_unit(request) as (ctx, patient):
        whole = record_bundle(ctx, patient.actor, patient.patient_id, base)
    return Response(
        dumps(checked(whole)).encode("utf-8"),
        media_type=FHIR_JSON,
        headers={"Content-Disposition": 'attachment; filename="carnet-record.json"'},
    )


@router.get("/patient/record/summary.pdf")
def summary(request: Request) -> Response:
    lang = language(request)
    with patient_unit(request) as (ctx, patient):
        actor, patient_id = patient.actor, patient.patient_id
        record_state = record_summary(ctx, actor, patient_id)
        entries = list_profile(ctx, actor, patient_id, kinds=PROFILE_KINDS)
        documents = list_documents(ctx, actor, patient_id, DocumentQuery(limit=PER_PAGE)).items
        lines = list_reimbursements(ctx, actor, patient_id)
    pdf = summary_pdf(
        lang,
        gettext(request).gettext,
        summary=record_state,
        entries=entries,
        documents=documents,
        reimbursements=lines,
        made_at=clock.now(),
    )
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="carnet-summary.pdf"'}
    )


def _confirm_page(request: Request, step: Step, errors: FieldErrors, status: int = 200) -> Response:
    context = {
        "step": step,
        "errors": errors.items,
        "field_errors": errors.by_field,
        "signed_in": True,
        "cooling_off_days": _cooling_off(request).days,
    }
    return page(request, f"patient/record/{step}.html", context, status=status)


@router.get("/patient/record/{step}")
def confirm_form(request: Request, step: Annotated[Step, Path()]) -> Response:
    with patient_unit(request) as (ctx, patient):
        state = record_summary(ctx, patient.actor, patient.patient_id).state
    if state not in ALLOWED_WHEN[step]:
        return redirect("/patient/record")
    return _confirm_page(request, step, FieldErrors())


@router.post("/patient/record/{step}")
async def confirm(request: Request, step: Annotated[Step, Path()]) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    password = field(form, "password", 1024)
    errors = FieldErrors()
    if not password:
        errors.add("password", _("Enter your password."))
        return _confirm_page(request, step, errors, 422)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired(ended=False)
    try:
        with unit(request) as ctx:
            checked_password = accounts.reauthenticate(ctx, token=token, password=password, address=address(request))
        if checked_password.refusal is not None:
            raise checked_password.refusal
    except Unauthenticated as exc:
        if exc.code == "session-ended":
            raise SignInRequired(ended=True) from None
        errors.add("password", known_message(request, exc))
        return _confirm_page(request, step, errors, 401)
    except CarnetError as exc:  # too many attempts
        errors.add("password", known_message(request, exc))
        return _confirm_page(request, step, errors, exc.status)
    with patient_unit(request) as (ctx, patient):
        sessions.require_recent(patient.session)
        action = {"close": close_record, "reopen": reopen_record, "destruction": request_destruction}[step]
        action(ctx, patient.actor, patient.patient_id)
    return redirect(f"/patient/record?done={step}")
