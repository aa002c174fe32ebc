"""The patient's carte Vitale at the professional's desk: it proves the patient is there, and authorises the
professional on their record (identity.cards.present_card), or opens it with their agreement
(identity.cards.open_record_with_card).

The practice's card reader asks Carnet for a challenge, the card signs it, and the reader sends the signature
back. In development the patient's simulated card (identity.cards.development_card) signs on the server when
the professional presses "the card signs". Each presentation spends its challenge: a refusal shows the page
again with a fresh one, and what was typed stays.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.identity import cards
from carnet.identity.cards import CardShown, Challenge
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Invalid, NotFound
from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import parse_ins
from carnet.portal.messages import N_
from carnet.portal.opening import _day
from carnet.portal.patient import FieldErrors
from carnet.portal.pro import HOME, pro_page, pro_unit, space
from carnet.portal.staff import StaffMember, development
from carnet.portal.web import checked_form, field, gettext, known_message, redirect
from carnet.records.schemas import PatientIdentity

router = APIRouter(include_in_schema=False)
KEPT_ON_OPENING = ("family_name", "given_names", "birth_date", "sex", "postcode")
IDENTITY_MESSAGES = {
    "family_name": N_("Enter the patient's family name, as on their carte Vitale."),
    "given_names": N_("Enter the patient's first names."),
    "birth_date": N_("Enter the patient's date of birth."),
    "sex": N_("Choose the patient's sex, as on their carte Vitale."),
    "postcode": N_("Enter the postcode of the patient's home in France, 5 digits."),
}
SERVICE_MESSAGES = (
    N_("This card challenge is unknown, expired or already used: ask for a new one."),
    N_("This card is not a valid carte Vitale."),
    N_("The card's signature does not match: present the card again."),
    N_("This patient has no record yet: it can be opened with their agreement."),
    N_("A record is already open for this INS."),
)


def _ins(form: FormData) -> str:
    """The INS the professional searched, carried by the card's forms (never in a URL)."""
    try:
        return parse_ins(field(form, "ins", 40)).value
    except CarnetError:
        return ""


def challenge_context(ctx: Context, member: StaffMember, ins: str) -> dict[str, object]:
    challenge = cards.issue_challenge(ctx, member.staff.actor)
    return {
        "ins": ins,
        "challenge_id": str(challenge.id),
        "nonce": base64.b64encode(challenge.nonce).decode(),
        "expires_at": challenge.expires_at,
    }


def _card_page(
    request: Request, template: str, ins: str, errors: FieldErrors, values: dict[str, str], status: int
) -> Response:
    """The page again with a fresh challenge (the last one may be spent), the message, and what was typed."""
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        challenge = challenge_context(ctx, member, ins)
    context = {**challenge, "values": values, "development": development(request)}
    return pro_page(request, template, shared, context, errors=errors, status=status)


@router.post(f"{HOME}/card")
async def card_form(request: Request) -> Response:
    """The card reader's challenge, ready for the patient's card (a form sent by POST: the INS stays out of URLs)."""
    form = await checked_form(request)
    return _card_page(request, "pro/card.html", _ins(form), FieldErrors(), {}, 200)


def card_shown(request: Request, form: FormData, actor: Actor, ins: str) -> CardShown:
    """What the card reader sent back; in development, the patient's simulated card signs the challenge here."""
    try:
        challenge_id = uuid.UUID(field(form, "challenge_id", 40))
        nonce = base64.b64decode(field(form, "nonce", 64), validate=True)
    except (ValueError, binascii.Error):
        raise Invalid("This card challenge is unknown, expired or already used: ask for a new one.") from None
    if field(form, "simulate", 1) == "1" and development(request) and ins:
        card = cards.development_card(request.app.state.web.runtime.settings.data_dir, ins)
        challenge = Challenge(challenge_id, nonce, expires_at=clock.now())  # the card signs what the reader shows
        return CardShown(challenge_id, card.serial, card.sign(challenge, cards.reader_of(actor)))
    try:
        signature = base64.b64decode(field(form, "signature", 200), validate=True)
    except (ValueError, binascii.Error):
        signature = b""
    return CardShown(challenge_id, field(form, "serial", 20).strip().upper(), signature)


@router.post(f"{HOME}/card/present")
async def present(request: Request) -> Response:
    """The card signed: the professional is authorised on the holder's record, or asked to open one."""
    form = await checked_form(request)
    ins = _ins(form)
    errors = FieldErrors()
    try:
        with pro_unit(request) as (ctx, member):
            actor = member.staff.actor
            patient_id, _ = cards.present_card(ctx, actor, *_fields(card_shown(request, form, actor, ins)))
    except NotFound as exc:
        if exc.code != "no-record":
            raise
        return _card_page(request, "pro/open.html", ins, FieldErrors(), {}, 200)
    except CarnetError as exc:
        if exc.status >= 500 or exc.status == 401:
            raise
        errors.add("card", known_message(request, exc))
        return _card_page(request, "pro/card.html", ins, errors, {}, exc.status)
    return redirect(f"{HOME}/patients/{patient_id}?done=card")


def _fields(shown: CardShown) -> tuple[uuid.UUID, str, bytes]:
    return shown.challenge_id, shown.serial, shown.signature


def identity_from_form(request: Request, values: dict[str, str], errors: FieldErrors) -> PatientIdentity | None:
    _ = gettext(request).gettext
    for name, message in IDENTITY_MESSAGES.items():
        if not values[name].strip():
            errors.add(name, _(message))
    born = _day(values["birth_date"]) if values["birth_date"].strip() else None
    if values["birth_date"].strip() and born is None:
        errors.add("birth_date", _("Write the date as day/month/year, for example 12/04/1985."))
    elif born is not None and born >= clock.today():
        errors.add("birth_date", _("The date of birth must be in the past."))
    if values["sex"] and values["sex"] not in ("F", "M", "U"):
        errors.add("sex", _(IDENTITY_MESSAGES["sex"]))
    if values["postcode"].strip():
        try:
            departement_of_postcode(values["postcode"])
        except CarnetError:
            errors.add("postcode", _(IDENTITY_MESSAGES["postcode"]))
    if errors:
        return None
    try:
        return PatientIdentity.model_validate(
            {
                "family_name": values["family_name"],
                "given_names": values["given_names"],
                "birth_date": born,
                "sex": values["sex"],
                "postcode": values["postcode"].strip(),
            }
        )
    except CarnetError as exc:  # a postcode no département has
        if exc.code != "invalid-postcode":
            raise
        errors.add("postcode", _(IDENTITY_MESSAGES["postcode"]))
        return None
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "family_name"
            errors.add(name if name in IDENTITY_MESSAGES else "family_name", _(IDENTITY_MESSAGES.get(name, "")))
        return None


@router.post(f"{HOME}/card/open")
async def open_with_card(request: Request) -> Response:
    """Open the record of the patient whose card is read, with their agreement; their activation code once."""
    form = await checked_form(request)
    _ = gettext(request).gettext
    ins = _ins(form)
    values = {name: field(form, name, 100) for name in KEPT_ON_OPENING}
    errors = FieldErrors()
    identity = identity_from_form(request, values, errors)
    if field(form, "agreed", 1) != "1":
        errors.add("agreed", _("Confirm that the patient agrees to the opening of their record."))
    if identity is None or errors:
        return _card_page(request, "pro/open.html", ins, errors, values, 422)
    try:
        with pro_unit(request) as (ctx, member):
            actor = member.staff.actor
            opened = cards.open_record_with_card(ctx, actor, card_shown(request, form, actor, ins), identity)
            shared = space(ctx, member)
    except CarnetError as exc:
        if exc.status >= 500 or exc.status == 401:
            raise
        name = "postcode" if exc.code == "invalid-postcode" else "card"
        errors.add(name, known_message(request, exc))
        return _card_page(request, "pro/open.html", ins, errors, values, exc.status)
    context = {"opened": opened}
    return pro_page(request, "pro/opened.html", shared, context)
