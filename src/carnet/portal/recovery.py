"""Account recovery in the portal: a forgotten password, a link sent to the patient's own address, a new one.

The request answers the same whether or not the login exists (identity.accounts.request_recovery). The link
carries its token after `#`, so it never reaches a server's log or a Referer: a small script copies it into
the form, and without JavaScript the patient pastes the end of the link into a field shown instead. A refused
new password keeps the token in the form (the token is only spent when the new password is accepted).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carnet.api.deps import address, unit, web
from carnet.identity import accounts
from carnet.kit.errors import CarnetError
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors, _form_page, _raise, _rules
from carnet.portal.web import checked_form, field, gettext, known_message, page

router = APIRouter(include_in_schema=False)
LINK_PATH = "/patient/recovery/new"
TOKEN_LIMIT = 128

SERVICE_MESSAGES = (
    N_("Give your login."),
    N_("This reset link is unknown, expired or already used."),
)


@router.get("/patient/recovery")
def recovery_form(request: Request) -> Response:
    return _form_page(request, "patient/recovery/ask.html", FieldErrors(), {"login": ""}, 200)


@router.post("/patient/recovery")
async def ask_recovery(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    login = field(form, "login")
    errors = FieldErrors()
    if not login.strip():
        errors.add("login", _("Enter your login."))
        return _form_page(request, "patient/recovery/ask.html", errors, {"login": login}, 422)
    link = web(request).runtime.settings.public_url.rstrip("/") + LINK_PATH
    try:
        with unit(request) as ctx:
            accounts.request_recovery(ctx, login=login, address=address(request), link_base=link)
    except CarnetError as exc:
        errors.add("login", known_message(request, exc))
        return _form_page(request, "patient/recovery/ask.html", errors, {"login": login}, exc.status)
    return page(request, "patient/recovery/sent.html")


@router.get(LINK_PATH)
def new_password_form(request: Request) -> Response:
    return _form_page(request, "patient/recovery/new.html", FieldErrors(), {}, 200, token="", **_rules())


@router.post(LINK_PATH)
async def set_new_password(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    token = "".join(field(form, "token", TOKEN_LIMIT).split()).split("#")[-1]
    password = field(form, "password", 1024)
    errors = FieldErrors()
    if not token:
        errors.add("token", _("Paste the end of the link you received, after the # sign."))
    if not password:
        errors.add("password", _("Choose a password."))
    if errors:
        return _form_page(request, "patient/recovery/new.html", errors, {}, 422, token=token, **_rules())
    try:
        with unit(request) as ctx:
            step = accounts.complete_recovery(ctx, token=token, password=password, address=address(request))
        _raise(step)
    except CarnetError as exc:
        if exc.code == "bad-token":
            return page(request, "patient/recovery/expired.html", {"message": known_message(request, exc)}, status=401)
        errors.add("password", known_message(request, exc))
        return _form_page(request, "patient/recovery/new.html", errors, {}, exc.status, token=token, **_rules())
    return page(request, "patient/recovery/done.html")
