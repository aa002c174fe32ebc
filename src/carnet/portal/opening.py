"""The journeys around the account itself: the authenticator app confirmed by its first code.

After an activation with TOTP the page shows the QR code and asks for the code the app then shows
(identity.accounts.activate explains why): the activation's half-done session carries it, so the first code
confirms the app and signs the patient in at once. A wrong code shows the QR code again, to that session
only and only until a code confirmed it; once that session has expired, the sign-in page does the same.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carnet.api.deps import PENDING_COOKIE, address, unit
from carnet.identity import accounts
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.portal.patient import FieldErrors, _form_page, _raise, _restart, _signed_in, _totp
from carnet.portal.web import checked_form, field, gettext, known_message

router = APIRouter(include_in_schema=False)


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
