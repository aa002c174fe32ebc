"""Signing in to the spaces of the people who work with records: professionals, pharmacy counters, insurance desks.

In development a picker names who you are (a professional or a pharmacist from the directory, a desk agent by
staff id and office); in production the identity provider proves it. Either way identity.staff keeps the
session and every page of these spaces gets its Actor from `staff_unit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.api.deps import address, set_cookie, unit
from carnet.context import Context
from carnet.identity import directory, staff
from carnet.identity.staff import Space, Staff, StaffIdentity
from carnet.kit.errors import CarnetError, NotFound, Unauthenticated
from carnet.portal.patient import FieldErrors
from carnet.portal.people import PROFESSIONS, UNKNOWN_PROFESSION
from carnet.portal.web import SignInRequired, checked_form, field, gettext, known_message, local_path, page, redirect
from carnet.settings import Environment

router = APIRouter(include_in_schema=False)
STAFF_COOKIE = "carnet_staff"
SIGN_IN = "/staff/sign-in"
HOMES: dict[Space, str] = {"professional": "/pro", "pharmacy": "/counter", "desk": "/desk"}
# Which field a refusal is about, by the service's code.
FIELDS = {
    "invalid-rpps": "rpps",
    "unknown-professional": "rpps",
    "not-a-pharmacist": "rpps",
    "invalid-finess": "finess",
    "invalid-staff-id": "staff_id",
    "invalid-office": "office",
}
DIRECTORY_SHOWN = 200


@dataclass(frozen=True, slots=True)
class StaffMember:
    """The signed-in professional, pharmacist or desk agent, and their session's token."""

    staff: Staff
    token: str


def development(request: Request) -> bool:
    return bool(request.app.state.web.runtime.settings.env is not Environment.PRODUCTION)


@contextmanager
def staff_unit(request: Request, *spaces: Space) -> Iterator[tuple[Context, StaffMember]]:
    """The request's unit of work with the person the staff cookie proves, in one of these spaces; otherwise
    SignInRequired, which sends them to sign in and back to the page they asked."""
    token = request.cookies.get(STAFF_COOKIE)
    if not token:
        raise SignInRequired(ended=False, sign_in=SIGN_IN)
    with unit(request) as ctx:
        try:
            member = staff.resolve(ctx, token, spaces or staff.SPACES)
        except Unauthenticated:
            raise SignInRequired(ended=True, sign_in=SIGN_IN) from None
        yield ctx, StaffMember(member, token)


def _sign_in_page(
    request: Request,
    errors: FieldErrors,
    values: dict[str, str],
    *,
    next_page: str,
    space: str | None,
    status: int = 200,
    **extra: object,
) -> Response:
    listed: list[directory.Listed] = []
    settings = request.app.state.web.runtime.settings
    if development(request) and space in ("professional", "pharmacy"):
        with unit(request) as ctx:
            listed = directory.listing(ctx.session, limit=DIRECTORY_SHOWN)
    context = {
        "errors": errors.items,
        "field_errors": errors.by_field,
        "values": values,
        "next": next_page,
        "development": development(request),
        "directory": listed,
        "space": space if space in HOMES else None,
        "professions": PROFESSIONS,
        "unknown_profession": UNKNOWN_PROFESSION,
        "notice": None,
        "oidc": bool(settings.oidc_issuer and settings.oidc_client_id),
        **extra,
    }
    return page(request, "staff/sign_in.html", context, status=status)


@router.get(SIGN_IN)
def sign_in_form(
    request: Request,
    next_page: Annotated[str | None, Query(alias="next", max_length=200)] = None,
    ended: Annotated[bool, Query()] = False,
    space: Annotated[Space | None, Query()] = None,
) -> Response:
    _ = gettext(request).gettext
    notice = _("Your session has ended: sign in again to go back to your page.") if ended else None
    next_page = local_path(next_page, "")
    if space is None and next_page:  # back from an ended session: the space of the page asked
        space = next(iter(s for s, home in HOMES.items() if next_page.split("/")[1] == home[1:]), None)
    return _sign_in_page(request, FieldErrors(), {}, next_page=next_page, space=space, notice=notice)


@router.post(f"{SIGN_IN}/development")
async def sign_in_development(request: Request) -> Response:
    """Development only: sign in as a professional or pharmacist of the directory, or as a desk agent."""
    form = await checked_form(request)
    if not development(request):
        raise NotFound("This page does not exist.")  # production proves identities through the provider
    _ = gettext(request).gettext
    space = field(form, "space", 16)
    values = {name: field(form, name, 40) for name in ("space", "rpps", "finess", "staff_id", "office")}
    next_page = local_path(field(form, "next"), "")
    errors = FieldErrors()
    if space not in HOMES:
        errors.add("space", _("Choose the space you work in."))
    elif space in ("professional", "pharmacy") and not values["rpps"].strip():
        errors.add("rpps", _("Choose who you are in the directory."))
    if not errors:
        try:
            with unit(request) as ctx:
                identity = _identity(ctx, space, values)
                token = staff.start(ctx, identity, via="development", address=address(request))
        except CarnetError as exc:
            errors.add(FIELDS.get(exc.code, "space"), known_message(request, exc))
        else:
            response = redirect(_landing(identity, next_page))
            set_cookie(request, response, STAFF_COOKIE, token, max_age=int(staff.ABSOLUTE_LIFETIME.total_seconds()))
            return response
    return _sign_in_page(request, errors, values, next_page=next_page, space=space, status=422)


def _identity(ctx: Context, space: str, values: dict[str, str]) -> StaffIdentity:
    if space == "desk":
        return staff.desk_identity(values["staff_id"], values["office"])
    if space == "pharmacy":
        return staff.pharmacy_identity(ctx, values["rpps"], values["finess"])
    return staff.professional_identity(ctx, values["rpps"], values["finess"] or None)


def _landing(identity: StaffIdentity, next_page: str) -> str:
    """Back to the page asked when it belongs to the space signed in to, else the space's home."""
    home = HOMES[identity.space]
    return next_page if next_page == home or next_page.startswith(home + "/") else home


@router.post("/staff/sign-out")
async def sign_out(request: Request) -> Response:
    await checked_form(request)
    token = request.cookies.get(STAFF_COOKIE)
    if token:
        with unit(request) as ctx:
            staff.end(ctx, token)
    response = redirect("/staff/signed-out")
    response.delete_cookie(STAFF_COOKIE)
    return response


@router.get("/staff/signed-out")
def signed_out(request: Request) -> Response:
    return page(request, "staff/signed_out.html")
