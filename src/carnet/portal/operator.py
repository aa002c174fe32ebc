"""The operator space: sign-in with password and TOTP code, the space's home, sign-out.

Operators run Carnet: statistics, the audit trail, the access matrix, keys. Their roles decide which pages they
get (identity/operators.require_role decides; the menu only leaves out what would be refused). No page of
this space shows any medical content: the services it calls return identifiers, codes, counts and times.
The audit and matrix pages are in operator_audit.py and operator_matrix.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.access.actor import Actor
from carnet.api.deps import OPERATOR_COOKIE, address, set_cookie, unit
from carnet.context import Context
from carnet.identity import operators, sessions
from carnet.identity.accounts import Step
from carnet.identity.operators import OperatorView
from carnet.kit.errors import CarnetError, Unauthenticated
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.web import SignInRequired, checked_form, field, gettext, known_message, local_path, page, redirect

router = APIRouter(include_in_schema=False)
HOME = "/operator"
SIGN_IN = "/operator/sign-in"

# The roles in words, and the refusal each missing one gets (identity/operators.require_role's sentences).
ROLES = {
    "statistics": N_("Statistics"),
    "audit": N_("Audit trail"),
    "accounts": N_("Accounts and the access matrix"),
    "keys": N_("Encryption keys"),
}
MISSING_ROLE = (
    N_("Your account does not have the statistics role."),
    N_("Your account does not have the audit role."),
    N_("Your account does not have the accounts role."),
    N_("Your account does not have the keys role."),
)


@dataclass(frozen=True, slots=True)
class Operator:
    """The signed-in operator, as their session proves them."""

    actor: Actor
    view: OperatorView


@contextmanager
def operator_unit(request: Request, role: str | None = None) -> Iterator[tuple[Context, Operator]]:
    """The request's unit of work with the operator its cookie proves, holding `role` when one is named.

    No session, or an ended one: SignInRequired (the sign-in page, then back here). A missing role: Forbidden,
    a page saying which role the account lacks.
    """
    token = request.cookies.get(OPERATOR_COOKIE)
    if not token:
        raise SignInRequired(ended=False, sign_in=SIGN_IN, home=HOME)
    with unit(request) as ctx:
        try:
            actor, view = operators.operator_of_session(ctx, token)
        except Unauthenticated:
            raise SignInRequired(ended=True, sign_in=SIGN_IN, home=HOME) from None
        if role is not None:
            operators.require_role(view, role)
        yield ctx, Operator(actor, view)


def operator_page(
    request: Request,
    template: str,
    operator: Operator | None,
    context: Mapping[str, object] | None = None,
    *,
    errors: FieldErrors | None = None,
    values: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """A page of the space: its menu shows the pages the operator's roles open."""
    shown = errors or FieldErrors()
    values_shown = dict(values or {})
    return page(
        request,
        template,
        {
            "operator": operator.view if operator else None,
            "roles": operator.view.roles if operator else [],
            "role_names": ROLES,
            "errors": shown.items,
            "field_errors": shown.by_field,
            "values": values_shown,
            **(context or {}),
        },
        status=status,
    )


@router.get("/operator/sign-in")
def sign_in_form(
    request: Request,
    next_page: Annotated[str | None, Query(alias="next", max_length=200)] = None,
    ended: Annotated[bool, Query()] = False,
    out: Annotated[bool, Query()] = False,
) -> Response:
    _ = gettext(request).gettext
    notice = None
    if ended:
        notice = _("Your session has ended: sign in again to go back to your page.")
    elif out:
        notice = _("You are signed out.")
    context = {"next": local_path(next_page, HOME), "notice": notice}
    return operator_page(request, "operator/sign_in.html", None, context, values={"login": ""})


@router.post("/operator/sign-in")
async def sign_in(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    login, password, code = field(form, "login", 64), field(form, "password", 1024), field(form, "code", 12)
    next_page = local_path(field(form, "next"), HOME)
    errors = FieldErrors()
    if not login.strip():
        errors.add("login", _("Enter your login."))
    if not password:
        errors.add("password", _("Enter your password."))
    if not code.strip():
        errors.add("code", _("Enter the 6-digit code."))
    status = 422
    if not errors:
        try:
            with unit(request) as ctx:
                step = operators.sign_in(ctx, login=login, password=password, code=code, address=address(request))
            _raise(step)
        except CarnetError as exc:
            if exc.code == "bad-credentials":
                errors.add("password", _("The login, the password or the code is wrong."))
                status = 401
            else:
                errors.add("login", known_message(request, exc))
                status = exc.status
        else:
            return _signed_in(request, step, next_page)
    context = {"next": next_page, "notice": None}
    return operator_page(
        request, "operator/sign_in.html", None, context, errors=errors, values={"login": login}, status=status
    )


def _raise(step: Step) -> Step:
    if step.refusal is not None:
        raise step.refusal
    return step


def _signed_in(request: Request, step: Step, next_page: str) -> Response:
    response = redirect(next_page if next_page.startswith(HOME) else HOME)
    lifetime = int(sessions.ABSOLUTE_LIFETIME["operator"].total_seconds())
    set_cookie(request, response, OPERATOR_COOKIE, step.session_token or "", max_age=lifetime)
    return response


@router.post("/operator/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    token = request.cookies.get(OPERATOR_COOKIE)
    if token:
        with unit(request) as ctx:
            sessions.end(ctx.session, token)
    response = redirect(f"{SIGN_IN}?out=true")
    response.delete_cookie(OPERATOR_COOKIE)
    return response


@router.get("/operator")
def operator_home(request: Request) -> Response:
    with operator_unit(request) as (_, operator):
        pass
    idle = int(sessions.IDLE_TIMEOUT["operator"].total_seconds() // 60)
    return operator_page(request, "operator/home.html", operator, {"idle_minutes": idle})
