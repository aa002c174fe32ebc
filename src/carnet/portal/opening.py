"""The journeys around the account itself: opening one's record online, and the authenticator app confirmed
by its first code.

Opening online (identity.opening): NIR and carte Vitale serial, then the code sent to the contact the
insurer holds for the card, then the patient's name, birth date and postcode, then the account as on the
activation page, without the activation code (the journey keeps it on the server). The browser holds only
the journey's random token, in a cookie of the opening's pages; nothing of it goes in a URL.

After an activation with TOTP the page shows the QR code and asks for the code the app then shows
(identity.accounts.activate explains why): the activation's half-done session carries it, so the first code
confirms the app and signs the patient in at once. A wrong code shows the QR code again, to that session
only and only until a code confirmed it; once that session has expired, the sign-in page does the same.
"""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from carnet.api.deps import PENDING_COOKIE, address, set_cookie, unit
from carnet.identity import accounts, opening
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.portal.messages import N_
from carnet.portal.patient import (
    ACTIVATION_FIELDS,
    FACTORS,
    FieldErrors,
    _activation_presence,
    _form_page,
    _raise,
    _restart,
    _rules,
    _signed_in,
    _totp,
    activated,
)
from carnet.portal.web import checked_form, field, gettext, known_message, page, redirect

router = APIRouter(include_in_schema=False)
OPENING_COOKIE = "carnet_opening"
OPENING_PATH = "/patient/open"
KEPT_ON_START = ("nir", "card_serial")
KEPT_ON_IDENTITY = ("family_name", "given_names", "birth_date", "postcode")
KEPT_ON_ACCOUNT = ("login", "second_factor", "email", "phone")

SERVICE_MESSAGES = (N_("This opening has expired: start again with your carte Vitale."),)


def _token(request: Request) -> str:
    return request.cookies.get(OPENING_COOKIE, "")[:64]


def _ended(request: Request) -> Response:
    response = page(request, "patient/open/ended.html", status=401)
    response.delete_cookie(OPENING_COOKIE, path=OPENING_PATH)
    return response


@router.get(OPENING_PATH)
def start_form(request: Request) -> Response:
    return _form_page(request, "patient/open/start.html", FieldErrors(), {}, 200)


@router.post(OPENING_PATH)
async def start(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {name: field(form, name, 32) for name in KEPT_ON_START}
    errors = FieldErrors()
    if not values["nir"].strip():
        errors.add("nir", _("Enter your social security number."))
    if not values["card_serial"].strip():
        errors.add("card_serial", _("Enter the serial number of your carte Vitale."))
    if not errors:
        try:
            with unit(request) as ctx:
                token = opening.request_opening(
                    ctx, nir=values["nir"], card_serial=values["card_serial"], address=address(request)
                )
        except CarnetError as exc:
            errors.add("nir", known_message(request, exc))
            return _form_page(request, "patient/open/start.html", errors, values, exc.status)
        else:
            response = redirect(f"{OPENING_PATH}/code")
            lifetime = int(opening.JOURNEY_LIFETIME.total_seconds())
            set_cookie(request, response, OPENING_COOKIE, token, max_age=lifetime, path=OPENING_PATH)
            return response
    return _form_page(request, "patient/open/start.html", errors, values, 422)


@router.get(f"{OPENING_PATH}/code")
def code_form(request: Request) -> Response:
    if not _token(request):
        return redirect(OPENING_PATH)
    return _form_page(request, "patient/open/code.html", FieldErrors(), {}, 200)


@router.post(f"{OPENING_PATH}/code")
async def prove(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    code = field(form, "code", 12)
    errors = FieldErrors()
    if not code.strip():
        errors.add("code", _("Enter the 6-digit code."))
        return _form_page(request, "patient/open/code.html", errors, {}, 422)
    with unit(request) as ctx:
        proof = opening.prove_code(ctx, token=_token(request), code=code, address=address(request))
    if proof.refusal is not None:
        errors.add("code", known_message(request, proof.refusal))
        return _form_page(request, "patient/open/code.html", errors, {}, 401)
    if proof.already_open:
        response = page(request, "patient/open/already.html")
        response.delete_cookie(OPENING_COOKIE, path=OPENING_PATH)
        return response
    return redirect(f"{OPENING_PATH}/identity")


@router.get(f"{OPENING_PATH}/identity")
def identity_form(request: Request) -> Response:
    try:
        with unit(request) as ctx:
            opened = opening.opened_record(ctx, token=_token(request))
    except Unauthenticated:
        return _ended(request)
    if opened is not None:
        return redirect(f"{OPENING_PATH}/account")
    return _form_page(request, "patient/open/identity.html", FieldErrors(), {}, 200)


def _day(text: str) -> date | None:
    """A date as the French write it (12/04/1985, 12.04.1985, 12-04-1985), or as a browser sends it (ISO)."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        found = re.fullmatch(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})", text)
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1))) if found else None
    except ValueError:
        return None


IDENTITY_MESSAGES = {
    "family_name": N_("Enter your family name."),
    "given_names": N_("Enter your first name."),
    "birth_date": N_("Enter your date of birth."),
    "postcode": N_("Enter the postcode of your home in France, 5 digits."),
}


@router.post(f"{OPENING_PATH}/identity")
async def open_record(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {name: field(form, name, 100) for name in KEPT_ON_IDENTITY}
    errors = FieldErrors()
    for name, message in IDENTITY_MESSAGES.items():
        if not values[name].strip():
            errors.add(name, _(message))
    born: date | None = None
    if values["birth_date"].strip():
        born = _day(values["birth_date"])
        if born is None:
            errors.add("birth_date", _("Write the date as day/month/year, for example 12/04/1985."))
    if errors or born is None:
        return _form_page(request, "patient/open/identity.html", errors, values, 422)
    try:
        with unit(request) as ctx:
            opening.open_online(
                ctx,
                token=_token(request),
                family_name=values["family_name"],
                given_names=values["given_names"],
                birth_date=born,
                postcode=values["postcode"],
            )
    except Unauthenticated:
        return _ended(request)
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "family_name"
            if name == "birth_date":
                errors.add(name, _("Your date of birth must be in the past."))
            elif name in IDENTITY_MESSAGES:
                errors.add(name, _(IDENTITY_MESSAGES[name]))
        return _form_page(request, "patient/open/identity.html", errors, values, 422)
    except CarnetError as exc:
        if exc.code == "invalid-postcode":
            errors.add("postcode", _(IDENTITY_MESSAGES["postcode"]))
        else:
            errors.add("family_name", known_message(request, exc))
        return _form_page(request, "patient/open/identity.html", errors, values, exc.status)
    return redirect(f"{OPENING_PATH}/account")


def _account_page(request: Request, errors: FieldErrors, values: dict[str, str], status: int) -> Response:
    return _form_page(request, "patient/activate.html", errors, values, status, opened=True, **_rules())


@router.get(f"{OPENING_PATH}/account")
def account_form(request: Request) -> Response:
    try:
        with unit(request) as ctx:
            opened = opening.opened_record(ctx, token=_token(request))
    except Unauthenticated:
        return _ended(request)
    if opened is None:
        return redirect(f"{OPENING_PATH}/identity")
    return _account_page(request, FieldErrors(), {"second_factor": "totp"}, 200)


@router.post(f"{OPENING_PATH}/account")
async def activate(request: Request) -> Response:
    form = await checked_form(request)
    values = {name: field(form, name) for name in KEPT_ON_ACCOUNT}
    everything = FieldErrors()
    _activation_presence(form, everything, request)
    errors = FieldErrors()
    for name, message in everything.items:
        if name not in ("nir", "card_serial", "activation_code"):  # the journey proved those
            errors.add(name, message)
    if errors:
        return _account_page(request, errors, values, 422)
    factor = next(f for f in FACTORS if f == values["second_factor"])
    try:
        with unit(request) as ctx:
            step = opening.activate_online(
                ctx,
                token=_token(request),
                login=values["login"],
                password=field(form, "password", 1024),
                second_factor=factor,
                email=values["email"].strip() or None,
                phone=values["phone"][:20].strip() or None,
                address=address(request),
            )
        _raise(step)
    except Unauthenticated as exc:
        if exc.code == "opening-ended":
            return _ended(request)
        errors.add("login", known_message(request, exc))
        return _account_page(request, errors, values, exc.status)
    except CarnetError as exc:
        name = ACTIVATION_FIELDS.get(exc.code, "") or "login"
        if exc.code == "missing-contact":
            name = "email" if factor == "email" else "phone"
        errors.add(name, known_message(request, exc))
        return _account_page(request, errors, values, exc.status)
    response = activated(request, step, factor)
    response.delete_cookie(OPENING_COOKIE, path=OPENING_PATH)
    return response


@router.post("/patient/activate/confirm")
async def confirm_app(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    code = field(form, "code", 12)
    pending = request.cookies.get(PENDING_COOKIE)
    if not pending:
        return _restart(request, "/patient")
    errors = FieldErrors()
    if not code.strip():
        errors.add("code", _("Enter the 6-digit code."))
    else:
        try:
            with unit(request) as ctx:
                step = accounts.second_factor(ctx, pending_token=pending, code=code, address=address(request))
            _raise(step)
        except Unauthenticated as exc:
            if exc.code == "sign-in-expired":
                return _restart(request, "/patient")
            errors.add("code", known_message(request, exc))
        except CarnetError as exc:
            errors.add("code", known_message(request, exc))
        else:
            return _signed_in(request, step, "/patient")
    try:
        with unit(request) as ctx:
            uri = accounts.unconfirmed_enrolment(ctx, pending_token=pending)
    except Unauthenticated:
        return _restart(request, "/patient")  # too many wrong codes ended the activation's session
    status = 422 if not code.strip() else 401
    return _form_page(request, "patient/activated.html", errors, {}, status, factor="totp", **_totp(request, uri))
