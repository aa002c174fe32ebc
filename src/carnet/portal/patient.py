"""The patient's space: activation, sign-in with the second factor, the home page, the account, sign-out.

Routes translate forms into service calls and the answers into pages. A refusal is shown beside the field it
concerns and in the summary at the top; what the patient typed comes back, never a password or a code.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.datastructures import FormData

from carnet.access.service import has_represented
from carnet.api.deps import DEVICE_COOKIE, PENDING_COOKIE, SESSION_COOKIE, address, set_cookie, unit
from carnet.audit.news import news_since_last_visit
from carnet.identity import accounts, sessions
from carnet.identity.accounts import Activation, SecondFactor, Step
from carnet.identity.passwords import MAX_LENGTH, MIN_LENGTH
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.portal.labels import CLASSES, DOC_STATUSES
from carnet.portal.people import people
from carnet.portal.web import (
    checked_form,
    field,
    gettext,
    known_message,
    local_path,
    page,
    patient_unit,
    redirect,
    with_query,
)
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from carnet.records.service import record_summary

router = APIRouter(include_in_schema=False)
PATIENT_COOKIE_PATH = "/patient"  # the pending sign-in and the known device stay with the portal's pages
FACTORS: tuple[SecondFactor, ...] = ("totp", "email", "sms")
LATEST = 5

# Which field a service's refusal is about, by its code; the others go to the summary alone.
ACTIVATION_FIELDS = {
    "invalid-ins": "nir",
    "activation-refused": "nir",
    "invalid": "login",
    "invalid-login": "login",
    "login-taken": "login",
    "weak-password": "password",
}
KEPT_ON_ACTIVATION = ("nir", "card_serial", "login", "second_factor", "email", "phone")


class FieldErrors:
    """The messages of one form, in field order, for the summary and for each field."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, name: str, message: str) -> None:
        if name not in self.by_field:
            self.items.append((name, message))

    @property
    def by_field(self) -> dict[str, str]:
        return dict(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def _form_page(
    request: Request, template: str, errors: FieldErrors, values: dict[str, str], status: int, **extra: object
) -> Response:
    context = {"errors": errors.items, "field_errors": errors.by_field, "values": values, **extra}
    return page(request, template, context, status=status)


def _raise(step: Step) -> Step:
    if step.refusal is not None:
        raise step.refusal
    return step


def _rules() -> dict[str, int]:
    return {"min_length": MIN_LENGTH, "max_length": MAX_LENGTH}


@router.get("/patient/activate")
def activation_form(request: Request) -> Response:
    return _form_page(request, "patient/activate.html", FieldErrors(), {"second_factor": "totp"}, 200, **_rules())


def _activation_presence(form: FormData, errors: FieldErrors, request: Request) -> None:
    _ = gettext(request).gettext
    required = {
        "nir": _("Enter your social security number."),
        "card_serial": _("Enter the serial number of your carte Vitale."),
        "activation_code": _("Enter the activation code you were given."),
        "login": _("Choose a login."),
        "password": _("Choose a password."),
    }
    for name, message in required.items():
        if not field(form, name).strip():
            errors.add(name, message)
    factor = field(form, "second_factor", 8)
    if factor not in FACTORS:
        errors.add("second_factor", _("Choose how you will confirm it is you."))
    elif factor == "email" and not field(form, "email").strip():
        errors.add("email", _("Enter the e-mail address that will receive your codes."))
    elif factor == "sms" and not field(form, "phone", 20).strip():
        errors.add("phone", _("Enter the mobile number that will receive your codes."))


@router.post("/patient/activate")
async def activate(request: Request) -> Response:
    form = await checked_form(request)
    values = {name: field(form, name) for name in KEPT_ON_ACTIVATION}
    errors = FieldErrors()
    _activation_presence(form, errors, request)
    if errors:
        return _form_page(request, "patient/activate.html", errors, values, 422, **_rules())
    factor = next(f for f in FACTORS if f == values["second_factor"])
    activation = Activation(
        nir=values["nir"][:32],
        card_serial=values["card_serial"][:20],
        code=field(form, "activation_code", 32),
        login=values["login"],
        password=field(form, "password", 1024),
        second_factor=factor,
        email=values["email"].strip() or None,
        phone=values["phone"][:20].strip() or None,
    )
    try:
        with unit(request) as ctx:
            step = accounts.activate(ctx, activation, address=address(request), confirm_here=True)
        _raise(step)
    except CarnetError as exc:
        name = ACTIVATION_FIELDS.get(exc.code, "")
        if exc.code == "missing-contact":
            name = "email" if factor == "email" else "phone"
        errors.add(name or "nir", known_message(request, exc))
        return _form_page(request, "patient/activate.html", errors, values, exc.status, **_rules())
    return activated(request, step, factor)


def activated(request: Request, step: Step, factor: str) -> Response:
    """The account is active; with TOTP, the page asks the app's first code (portal/opening.py confirms it)."""
    response = _form_page(
        request, "patient/activated.html", FieldErrors(), {}, 200, factor=factor, **_totp(request, step.totp_uri)
    )
    if step.session_token:
        max_age = int(sessions.PENDING_LIFETIME.total_seconds())
        set_cookie(request, response, PENDING_COOKIE, step.session_token, max_age=max_age, path=PATIENT_COOKIE_PATH)
    return response


def _totp(request: Request, uri: str | None) -> dict[str, object]:
    """The authenticator app's QR code, drawn here as SVG, and the same secret in letters for typing it."""
    if uri is None:
        return {"qr": None, "secret": None}
    _ = gettext(request).gettext
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", omitsize=True, title=_("QR code for your authenticator app")
    )
    secret = uri.split("secret=")[1].split("&")[0]
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"qr": Markup(svg.replace("<svg ", '<svg role="img" ', 1)), "secret": grouped}  # noqa: S704 (segno's SVG)


@router.get("/patient/sign-in")
def sign_in_form(
    request: Request,
    next_page: Annotated[str | None, Query(alias="next", max_length=200)] = None,
    ended: Annotated[bool, Query()] = False,
) -> Response:
    _ = gettext(request).gettext
    errors = FieldErrors()
    notice = _("Your session has ended: sign in again to go back to your page.") if ended else None
    return _form_page(
        request, "patient/sign_in.html", errors, {"login": ""}, 200, next=local_path(next_page), notice=notice
    )


@router.post("/patient/sign-in")
async def sign_in(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    login, password, next_page = field(form, "login"), field(form, "password", 1024), local_path(field(form, "next"))
    errors = FieldErrors()
    if not login.strip():
        errors.add("login", _("Enter your login."))
    if not password:
        errors.add("password", _("Enter your password."))
    if not errors:
        try:
            with unit(request) as ctx:
                step = accounts.sign_in(
                    ctx,
                    login=login,
                    password=password,
                    address=address(request),
                    device=request.cookies.get(DEVICE_COOKIE),
                )
            _raise(step)
        except CarnetError as exc:
            errors.add("password" if exc.code == "bad-credentials" else "login", known_message(request, exc))
        else:
            response = redirect(with_query("/patient/sign-in/code", factor=step.second_factor or "", next=next_page))
            max_age = int(sessions.PENDING_LIFETIME.total_seconds())
            token = step.session_token or ""
            set_cookie(request, response, PENDING_COOKIE, token, max_age=max_age, path=PATIENT_COOKIE_PATH)
            return response
    status = 401 if errors.by_field.get("password") and login.strip() and password else 422
    return _form_page(request, "patient/sign_in.html", errors, {"login": login}, status, next=next_page, notice=None)


@router.get("/patient/sign-in/code")
def code_form(
    request: Request,
    factor: Annotated[str, Query(max_length=8)] = "totp",
    next_page: Annotated[str | None, Query(alias="next", max_length=200)] = None,
) -> Response:
    shown = factor if factor in FACTORS else "totp"
    return _form_page(request, "patient/code.html", FieldErrors(), {}, 200, factor=shown, next=local_path(next_page))


@router.post("/patient/sign-in/code")
async def confirm_code(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    code, next_page = field(form, "code", 12), local_path(field(form, "next"))
    factor = field(form, "factor", 8) if field(form, "factor", 8) in FACTORS else "totp"
    errors = FieldErrors()
    pending = request.cookies.get(PENDING_COOKIE)
    if not code.strip():
        errors.add("code", _("Enter the 6-digit code."))
    elif not pending:
        return _restart(request, next_page)
    else:
        try:
            with unit(request) as ctx:
                step = accounts.second_factor(ctx, pending_token=pending, code=code, address=address(request))
            _raise(step)
        except Unauthenticated as exc:
            if exc.code == "sign-in-expired":
                return _restart(request, next_page)
            errors.add("code", known_message(request, exc))
        except CarnetError as exc:
            errors.add("code", known_message(request, exc))
        else:
            return _signed_in(request, step, next_page)
    return _form_page(request, "patient/code.html", errors, {}, 401, factor=factor, next=next_page)


def _restart(request: Request, next_page: str) -> Response:
    """The half-done sign-in expired (or never began): the password page again, saying why."""
    _ = gettext(request).gettext
    errors = FieldErrors()
    errors.add("login", _("This sign-in has expired: start again with your password."))
    return _form_page(request, "patient/sign_in.html", errors, {"login": ""}, 401, next=next_page, notice=None)


def _signed_in(request: Request, step: Step, next_page: str) -> Response:
    response = redirect(next_page)
    response.delete_cookie(PENDING_COOKIE, path=PATIENT_COOKIE_PATH)
    lifetime = int(sessions.ABSOLUTE_LIFETIME["patient"].total_seconds())
    set_cookie(request, response, SESSION_COOKIE, step.session_token or "", max_age=lifetime)
    device_age = int(sessions.DEVICE_LIFETIME.total_seconds())
    set_cookie(request, response, DEVICE_COOKIE, step.device_token or "", max_age=device_age, path=PATIENT_COOKIE_PATH)
    return response


@router.get("/patient")
def patient_home(request: Request) -> Response:
    """A calm first page: a greeting and the latest documents, as the gate lets the patient see them."""
    with patient_unit(request) as (ctx, patient):
        summary = record_summary(ctx, patient.actor, patient.patient_id)
        latest = list_documents(
            ctx, patient.actor, patient.patient_id, DocumentQuery(order="-deposited", limit=LATEST)
        ).items
        news = news_since_last_visit(ctx, patient.actor, patient.patient_id, visit_started=patient.session.started_at)
        named = people(
            ctx,
            [(a.rpps, a.profession) for a in news.first_accesses] + [(e.rpps, e.profession) for e in news.emergencies],
        )
        looks_after = not patient.representing and has_represented(ctx, patient.actor)
    name = summary.identity.given_names.split()[0] if summary.identity and summary.identity.given_names else ""
    shown_as_new = {document.id for document in news.documents}
    return page(
        request,
        "patient/home.html",
        {
            "name": name,
            "representing": patient.representing,
            "looks_after": looks_after,
            "documents": [document for document in latest if document.id not in shown_as_new],
            "any_document": bool(latest),
            "classes": CLASSES,
            "doc_statuses": DOC_STATUSES,
            "closed": summary.state != "open",
            "news": news,
            "people": named,
            "signed_in": True,
        },
    )


@router.get("/patient/account")
def account(request: Request) -> Response:
    with patient_unit(request) as (_, patient):
        session = patient.session
    idle = int(sessions.IDLE_TIMEOUT["patient"].total_seconds() // 60)
    return page(request, "patient/account.html", {"session": session, "idle_minutes": idle, "signed_in": True})


@router.post("/patient/sign-out")
async def sign_out(request: Request) -> Response:
    return await _sign_out(request, everywhere=False)


@router.post("/patient/sign-out-everywhere")
async def sign_out_everywhere(request: Request) -> Response:
    return await _sign_out(request, everywhere=True)


async def _sign_out(request: Request, *, everywhere: bool) -> Response:
    await checked_form(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            with unit(request) as ctx:
                accounts.sign_out(ctx, token=token, everywhere=everywhere)
        except Unauthenticated:
            pass  # already ended: signing out again is what the patient wants, and done
    response = redirect("/patient/signed-out?everywhere=1" if everywhere else "/patient/signed-out")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/patient/signed-out")
def signed_out(request: Request, everywhere: Annotated[bool, Query()] = False) -> Response:
    return page(request, "patient/signed_out.html", {"everywhere": everywhere})
