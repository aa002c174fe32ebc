"""The pharmacy counter's and the insurance desk's space: a visitor's carte Vitale, their record, their letter.

The card is read first (identity.visits.read_card): the page says at once whether its holder has a record. With
none, the record opens with the identity and the visitor's agreement, and the activation code is shown once,
with its letter to print (PDF). A typo in the identity is a message beside the field, and the card is not read
again: the visit keeps its reading for fifteen minutes. With a record, the visitor may get a new activation code;
a pharmacist may read it as the matrix allows (the professional's pages, portal/pro_record.py); a desk agent may
link the holder to their minor child, both present with the papers. Nothing of a record's content is shown here.
The visit's id travels in the forms, never in a URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from carnet.context import Context
from carnet.identity import visits
from carnet.identity.cards import CardShown, OpenedRecord
from carnet.identity.opening import canonical_ins
from carnet.identity.staff import Space
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Forbidden, Invalid, NotFound
from carnet.kit.identifiers import parse_ins
from carnet.portal.counter_letter import letter_pdf
from carnet.portal.messages import N_
from carnet.portal.opening import _day
from carnet.portal.patient import FieldErrors
from carnet.portal.pro_card import KEPT_ON_OPENING, card_shown, challenge_context, identity_from_form
from carnet.portal.staff import StaffMember, development, staff_unit
from carnet.portal.web import LOCALES, checked_form, field, gettext, known_message, language, page, redirect
from carnet.stats.service import pharmacy_earnings

router = APIRouter(include_in_schema=False)
HOMES: dict[Space, str] = {"pharmacy": "/counter", "desk": "/desk"}
SERVICE_MESSAGES = (
    N_("This card reading has ended: read the card again."),
    N_("This is not the patient's current activation code: print the letter from the page that showed it."),
    N_("The child's INS is the card holder's own."),
    N_("The parent needs an open record first: open it, then link the child."),
    N_("No child's record matches this INS and date of birth: check them on the papers."),
    N_("This patient is of age: nobody represents them."),
)


def _space(request: Request) -> Space:
    return "desk" if request.url.path.startswith("/desk") else "pharmacy"


@contextmanager
def counter_unit(request: Request) -> Iterator[tuple[Context, StaffMember]]:
    """The request's unit of work with the pharmacist or desk agent signed in to this page's space."""
    with staff_unit(request, _space(request)) as (ctx, member):
        yield ctx, member


def _shared(request: Request, member: StaffMember) -> dict[str, object]:
    identity = member.staff.identity
    return {
        "home": HOMES[identity.space],
        "pharmacy": identity.space == "pharmacy",
        "staff_name": identity.name,
        "organisation": identity.organisation or "",
        "development": development(request),
    }


def _page(
    request: Request,
    member: StaffMember,
    template: str,
    context: Mapping[str, object],
    *,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    found = errors or FieldErrors()
    values = {"errors": found.items, "field_errors": found.by_field, **_shared(request, member), **context}
    return page(request, template, values, status=status)


def _refused(exc: CarnetError) -> bool:
    """A refusal to show beside a field; anything else (a fault, an ended session) goes up to the error pages."""
    return exc.status < 500 and exc.status != 401


def _reader(request: Request, errors: FieldErrors, values: dict[str, str], status: int = 200) -> Response:
    """The card reader's page, with a fresh challenge (the last one may be spent)."""
    with counter_unit(request) as (ctx, member):
        challenge = challenge_context(ctx, member, "")
    return _page(request, member, "counter/home.html", {**challenge, "values": values}, errors=errors, status=status)


def home(request: Request) -> Response:
    notice = request.query_params.get("done") == "next"
    return _reader(request, FieldErrors(), {"next_visitor": "1" if notice else ""})


def _card(request: Request, form: FormData, member: StaffMember, errors: FieldErrors) -> CardShown:
    """What the reader sent; in development, the simulated card of the NIR typed signs the challenge."""
    typed = field(form, "nir", 40)
    ins = ""
    if development(request):
        if not typed.strip():
            errors.add("nir", gettext(request).gettext("Enter the social security number on the simulated card."))
        else:
            try:
                ins = canonical_ins(typed)
            except CarnetError as exc:
                errors.add("nir", known_message(request, exc))
    return card_shown(request, form, member.staff.actor, ins)


def _visit_page(
    request: Request,
    member: StaffMember,
    visit: visits.Visit,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, object] = {
        "visit": visit,
        "visit_id": str(visit.id),
        "open": visit.state == "open",
        "values": values or {},
    }
    return _page(request, member, "counter/visit.html", context, errors=errors, status=status)


async def read(request: Request) -> Response:
    """The card is read: whether its holder has a record, and what can be done next."""
    form = await checked_form(request)
    errors = FieldErrors()
    typed = field(form, "nir", 40)
    try:
        with counter_unit(request) as (ctx, member):
            shown = _card(request, form, member, errors)
            visit = None if errors else visits.read_card(ctx, member.staff.actor, shown)
    except CarnetError as exc:
        if not _refused(exc):
            raise
        errors.add("card", known_message(request, exc))
        return _reader(request, errors, {"nir": typed}, exc.status)
    if visit is None:
        return _reader(request, errors, {"nir": typed}, 422)
    return _visit_page(request, member, visit)


def _visit_id(form: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(field(form, "visit", 40))
    except ValueError:
        raise Forbidden(visits.ENDED, code="visit-ended") from None


def _ended(request: Request, exc: CarnetError) -> Response:
    """The visit is over (or never was this reader's): read the card again."""
    errors = FieldErrors()
    errors.add("card", known_message(request, exc))
    return _reader(request, errors, {}, exc.status)


def _step(
    request: Request, form: FormData, work: Callable[[Context, StaffMember, uuid.UUID], Any]
) -> tuple[StaffMember, Any] | Response:
    """A step of the visit: its result, or the reader's page when the visit has ended."""
    try:
        visit_id = _visit_id(form)
        with counter_unit(request) as (ctx, member):
            return member, work(ctx, member, visit_id)
    except Forbidden as exc:
        if exc.code != "visit-ended":
            raise
        return _ended(request, exc)


async def open_record(request: Request) -> Response:
    """Open the holder's record with their agreement; the activation code once, and its letter."""
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {name: field(form, name, 100) for name in KEPT_ON_OPENING}
    errors = FieldErrors()
    identity = identity_from_form(request, values, errors)
    if field(form, "agreed", 1) != "1":
        errors.add("agreed", _("Confirm that the person agrees to the opening of their record."))

    def again(ctx: Context, member: StaffMember, visit_id: uuid.UUID) -> visits.Visit:
        return visits.current(ctx, member.staff.actor, visit_id)

    if identity is None or errors:
        shown = _step(request, form, again)
        if isinstance(shown, Response):
            return shown
        return _visit_page(request, shown[0], shown[1], errors=errors, values=values, status=422)
    chosen = identity

    def opening(ctx: Context, member: StaffMember, visit_id: uuid.UUID) -> OpenedRecord:
        return visits.open_record(ctx, member.staff.actor, visit_id, chosen)

    try:
        done = _step(request, form, opening)
    except CarnetError as exc:
        if not _refused(exc):
            raise
        errors.add("postcode" if exc.code == "invalid-postcode" else "card", known_message(request, exc))
        shown = _step(request, form, again)
        if isinstance(shown, Response):
            return shown
        return _visit_page(request, shown[0], shown[1], errors=errors, values=values, status=exc.status)
    if isinstance(done, Response):
        return done
    member, opened = done
    context = {
        "visit_id": field(form, "visit", 40),
        "code": opened.activation_code,
        "expires_at": opened.activation_expires_at,
    }
    return _page(request, member, "counter/code.html", {**context, "opened": True})


async def new_code(request: Request) -> Response:
    """A new activation code for a holder who lost their password or second factor."""
    form = await checked_form(request)
    done = _step(
        request, form, lambda ctx, member, visit_id: visits.new_activation_code(ctx, member.staff.actor, visit_id)
    )
    if isinstance(done, Response):
        return done
    member, issued = done
    context = {"visit_id": field(form, "visit", 40), "code": issued.code, "expires_at": issued.expires_at}
    return _page(request, member, "counter/code.html", {**context, "opened": False})


async def letter(request: Request) -> Response:
    """The activation letter, as a PDF to print, for the code this visit just gave."""
    form = await checked_form(request)
    code = field(form, "code", 40)
    done = _step(
        request, form, lambda ctx, member, visit_id: visits.activation_letter(ctx, member.staff.actor, visit_id, code)
    )
    if isinstance(done, Response):
        return done
    _, made = done
    settings = request.app.state.web.runtime.settings
    pdf = letter_pdf(
        language(request), gettext(request).gettext, letter=made, address=settings.public_url, made_at=clock.now()
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="carnet-activation.pdf"', "Cache-Control": "no-store"},
    )


async def end(request: Request) -> Response:
    """The visitor leaves: the next one's card is read afresh."""
    form = await checked_form(request)
    try:
        visit_id = _visit_id(form)
    except Forbidden:
        visit_id = None
    with counter_unit(request) as (ctx, member):
        if visit_id is not None:
            visits.end(ctx, member.staff.actor, visit_id)
    return redirect(f"{HOMES[member.staff.identity.space]}?done=next")


async def read_record(request: Request) -> Response:
    """A pharmacist reads the holder's record, as the matrix allows, authorised by this reading of the card."""
    form = await checked_form(request)
    done = _step(request, form, lambda ctx, member, visit_id: visits.authorise(ctx, member.staff.actor, visit_id)[0])
    if isinstance(done, Response):
        return done
    return redirect(f"/pro/patients/{done[1]}?done=card")


def _child_page(
    request: Request, member: StaffMember, visit_id: str, errors: FieldErrors, values: dict[str, str], status: int
) -> Response:
    context = {"visit_id": visit_id, "values": values}
    return _page(request, member, "counter/child.html", context, errors=errors, status=status)


async def child_form(request: Request) -> Response:
    """The desk's form to link the holder and their minor child."""
    form = await checked_form(request)
    done = _step(request, form, lambda ctx, member, visit_id: visits.current(ctx, member.staff.actor, visit_id))
    if isinstance(done, Response):
        return done
    return _child_page(request, done[0], str(done[1].id), FieldErrors(), {}, 200)


async def link_child(request: Request) -> Response:
    """Link the holder, as legal representative, to the minor child whose papers the agent has seen."""
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {name: field(form, name, 40) for name in ("child_ins", "child_birth_date")}
    errors = FieldErrors()
    child = ""
    if not values["child_ins"].strip():
        errors.add("child_ins", _("Enter the child's INS, as on their papers."))
    else:
        try:
            child = parse_ins(values["child_ins"]).value
        except CarnetError as exc:
            errors.add("child_ins", known_message(request, exc))
    born = _day(values["child_birth_date"])
    if born is None:
        errors.add("child_birth_date", _("Write the date as day/month/year, for example 12/04/1985."))
    if field(form, "papers", 1) != "1":
        errors.add("papers", _("Confirm that you have seen the papers proving that this parent represents this child."))
    visit_id = field(form, "visit", 40)

    def linking(ctx: Context, member: StaffMember, visit: uuid.UUID) -> object:
        return visits.link_child(ctx, member.staff.actor, visit, child, born or clock.today())

    def again(ctx: Context, member: StaffMember, visit: uuid.UUID) -> visits.Visit:
        return visits.current(ctx, member.staff.actor, visit)

    if not errors:
        try:
            done = _step(request, form, linking)
        except (Invalid, NotFound) as exc:
            name = "child_birth_date" if exc.code == "not-a-minor" else "child_ins"
            errors.add(name, known_message(request, exc))
        except CarnetError as exc:
            if not _refused(exc):
                raise
            errors.add("child_ins", known_message(request, exc))
        else:
            if isinstance(done, Response):
                return done
            return _page(request, done[0], "counter/linked.html", {"visit_id": visit_id, "until": done[1]})
    shown = _step(request, form, again)
    if isinstance(shown, Response):
        return shown
    return _child_page(request, shown[0], visit_id, errors, values, 422)


def earnings(request: Request) -> Response:
    """What the pharmacy has earned, month by month: 1 € per record it opened; a closed month never changes."""
    with counter_unit(request) as (ctx, member):
        table = pharmacy_earnings(ctx, member.staff.actor, member.staff.identity.organisation or "")
    locale = LOCALES[language(request)]
    rows: list[dict[str, object]] = [
        {
            "month": format_date(row[0], format="LLLL y", locale=locale),
            "openings": row[2],
            "amount": format_currency(row[3], "EUR", locale=locale),
            "closed": row[4],
        }
        for row in reversed(table.rows)
        if isinstance(row[0], date) and isinstance(row[3], (Decimal, int))
    ]
    return _page(request, member, "counter/earnings.html", {"rows": rows})


for _home in HOMES.values():
    router.add_api_route(_home, home, methods=["GET"])
    router.add_api_route(f"{_home}/card", read, methods=["POST"])
    router.add_api_route(f"{_home}/open", open_record, methods=["POST"])
    router.add_api_route(f"{_home}/code", new_code, methods=["POST"])
    router.add_api_route(f"{_home}/letter", letter, methods=["POST"])
    router.add_api_route(f"{_home}/end", end, methods=["POST"])
router.add_api_route("/counter/read", read_record, methods=["POST"])
router.add_api_route("/counter/earnings", earnings, methods=["GET"])
router.add_api_route("/desk/child", child_form, methods=["POST"])
router.add_api_route("/desk/child/link", link_child, methods=["POST"])
