"""The patient's control over who reads the record: authorisations, blocks, the regular doctor, the emergency
modes, and the notification preferences.

Each change is a POST with the CSRF token, calls `access.service` (which passes the gate and audits), and
comes back to the page with a sentence saying what changed (by an opaque code and the professional's public
RPPS number, never a name, in the address). A professional is found in the directory by name or number first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from carnet.access import service
from carnet.access.schemas import SettingsView
from carnet.context import Context
from carnet.identity.directory import entry_of, find
from carnet.kit.errors import CarnetError, Invalid
from carnet.notify.messages import CHANNELS, KINDS
from carnet.notify.service import read_notification_settings, set_notification_settings
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.people import DOCTOR, PROFESSIONS, Person, people
from carnet.portal.web import (
    Patient,
    checked_form,
    field,
    gettext,
    known_message,
    page,
    patient_unit,
    redirect,
    with_query,
)

router = APIRouter(include_in_schema=False)

ACTIONS = ("authorise", "revoke", "block", "unblock", "regular-doctor")
DONE = {
    "authorise": N_("%(name)s can now read your record and add documents to it, for 12 months."),
    "revoke": N_("%(name)s can no longer read your record."),
    "block": N_("%(name)s is blocked: they cannot read your record, not even in an emergency."),
    "unblock": N_("%(name)s is no longer blocked. They need your authorisation again to read your record."),
    "regular-doctor": N_("%(name)s is now your regular doctor: they can read your record."),
    "no-regular-doctor": N_("You no longer have a regular doctor in Carnet."),
    "emergency-refused": N_("From now on, no professional can read your record in an emergency."),
    "emergency-allowed": N_("From now on, a professional can read your record in an emergency."),
    "regulation-refused": N_("From now on, the centre 15 regulating doctor cannot read your record."),
    "regulation-allowed": N_("From now on, the centre 15 regulating doctor can read your record."),
}
VIA = {
    "patient": N_("authorised by you"),
    "card": N_("authorised when you presented your carte Vitale"),
}
REFUSALS_BY_CODE = {
    "invalid-rpps": N_("An RPPS number has 11 digits: copy it from a prescription or the professional's card."),
    "unknown-professional": N_("No professional with this RPPS number is in the directory."),
    "search-too-short": N_("Enter at least 2 letters of the name, or the 11-digit RPPS number."),
    "not-a-doctor": N_("Only a doctor can be your regular doctor."),
}


def _refusal(request: Request, exc: CarnetError) -> str:
    words = gettext(request)
    return words.gettext(REFUSALS_BY_CODE[exc.code]) if exc.code in REFUSALS_BY_CODE else known_message(request, exc)


def _named(request: Request, person: Person) -> str:
    _ = gettext(request).gettext
    if person.name is None:
        return _("The professional with RPPS number %(rpps)s") % {"rpps": person.rpps}
    return f"{person.name} ({_(person.profession)})"


@router.get("/patient/privacy")
def privacy(
    request: Request,
    done: Annotated[str | None, Query(max_length=32)] = None,
    rpps: Annotated[str | None, Query(max_length=11)] = None,
) -> Response:
    with patient_unit(request) as (ctx, patient):
        settings = service.read_settings(ctx, patient.actor, patient.patient_id)
        named = _people_of(ctx, settings, rpps)
    confirmation = None
    if done in DONE:
        person = named.get(rpps or "")
        name = _named(request, person) if person else ""
        confirmation = gettext(request).gettext(DONE[done]) % {"name": name}
    return _privacy_page(request, settings, named, confirmation)


def _people_of(ctx: Context, settings: SettingsView, extra: str | None) -> dict[str, Person]:
    known: list[tuple[str, str | None]] = [(a.professional_rpps, None) for a in settings.authorisations]
    known += [(rpps, None) for rpps in settings.blocked]
    if settings.regular_doctor_rpps:
        known.append((settings.regular_doctor_rpps, DOCTOR))
    if extra and extra.isdigit():
        known.append((extra, None))
    return people(ctx, known)


def _privacy_page(
    request: Request, settings: SettingsView, named: dict[str, Person], confirmation: str | None
) -> Response:
    authorised = [a for a in settings.authorisations if a.professional_rpps != settings.regular_doctor_rpps]
    context = {
        "settings": settings,
        "people": named,
        "authorised": authorised,
        "via": VIA,
        "confirmation": confirmation,
        "signed_in": True,
        "values": {"q": ""},
        "field_errors": {},
    }
    return page(request, "patient/privacy/index.html", context)


def _found_page(
    request: Request, query: str, found: list[Person], settings: SettingsView | None, errors: FieldErrors, status: int
) -> Response:
    context = {
        "found": found,
        "searched": bool(query) and not errors,
        "blocked": set(settings.blocked) if settings else set(),
        "authorised": {a.professional_rpps for a in settings.authorisations} if settings else set(),
        "regular_doctor": settings.regular_doctor_rpps if settings else None,
        "errors": errors.items,
        "field_errors": errors.by_field,
        "values": {"q": query},
        "signed_in": True,
    }
    # htmx asks for the search's part alone (a search replaces it in place); a browser without script, the page.
    partial = request.headers.get("hx-request") == "true"
    return page(request, f"patient/privacy/{'search' if partial else 'find'}.html", context, status=status)


@router.get("/patient/privacy/find")
def find_form(request: Request) -> Response:
    with patient_unit(request) as (ctx, patient):
        settings = service.read_settings(ctx, patient.actor, patient.patient_id)
    return _found_page(request, "", [], settings, FieldErrors(), 200)


@router.post("/patient/privacy/find")
async def find_professional(request: Request) -> Response:
    """A search by name or RPPS number: a POST, so a name searched for never sits in an address or a log."""
    form = await checked_form(request)
    _ = gettext(request).gettext
    query = " ".join(field(form, "q", 120).split())
    errors = FieldErrors()
    found: list[Person] = []
    with patient_unit(request) as (ctx, patient):
        settings = service.read_settings(ctx, patient.actor, patient.patient_id)
        if not query:
            errors.add("q", _("Enter a name or an RPPS number."))
        else:
            try:
                listed = find(ctx.session, query)
            except CarnetError as exc:
                errors.add("q", _refusal(request, exc))
            else:
                named = people(ctx, [(entry.rpps, entry.profession) for entry in listed])
                found = [named[entry.rpps] for entry in listed]
                if not found:
                    errors.add("q", _("No professional matches this search: check the spelling, or use the number."))
    return _found_page(request, query, found, settings, errors, 422 if errors else 200)


def _action_problem(request: Request, action: str, rpps: str, settings: SettingsView) -> str | None:
    """What makes this change meaningless now (a form sent twice, a page left open), said before trying it."""
    _ = gettext(request).gettext
    authorised = {a.professional_rpps for a in settings.authorisations}
    if action == "block" and rpps in settings.blocked:
        return _("This professional is already blocked.")
    if action == "unblock" and rpps not in settings.blocked:
        return _("This professional is not blocked.")
    if action == "revoke" and rpps not in authorised:
        return _("This professional has no authorisation to revoke.")
    if action == "regular-doctor" and rpps == settings.regular_doctor_rpps:
        return _("This doctor is already your regular doctor.")
    return None


@router.post("/patient/privacy/professional")
async def change_professional(request: Request) -> Response:
    form = await checked_form(request)
    action, rpps = field(form, "action", 20), "".join(field(form, "rpps", 20).split())
    errors, status = FieldErrors(), 409
    with patient_unit(request) as (ctx, patient):
        settings = service.read_settings(ctx, patient.actor, patient.patient_id)
        try:
            if action not in ACTIONS:
                raise Invalid("This action is not allowed.", code="unknown-action")
            listed = entry_of(ctx.session, rpps)
            problem = _action_problem(request, action, listed.rpps, settings)
            if problem is not None:
                errors.add("q", problem)
            else:
                _apply(ctx, patient, action, listed.rpps)
        except CarnetError as exc:
            errors.add("q", _refusal(request, exc))
            status = exc.status
    if errors:
        return _found_page(request, rpps, [], settings, errors, status)
    return redirect(with_query("/patient/privacy", done=action, rpps=listed.rpps))


def _apply(ctx: Context, patient: Patient, action: str, rpps: str) -> None:
    actor, patient_id = patient.actor, patient.patient_id
    if action == "authorise":
        service.authorise(ctx, actor, patient_id, rpps)
    elif action == "revoke":
        service.revoke(ctx, actor, patient_id, rpps)
    elif action == "block":
        service.block(ctx, actor, patient_id, rpps)
    elif action == "unblock":
        service.unblock(ctx, actor, patient_id, rpps)
    else:
        service.set_regular_doctor(ctx, actor, patient_id, rpps)


@router.post("/patient/privacy/regular-doctor/remove")
async def remove_regular_doctor(request: Request) -> Response:
    await checked_form(request)
    with patient_unit(request) as (ctx, patient):
        service.set_regular_doctor(ctx, patient.actor, patient.patient_id, None)
    return redirect(with_query("/patient/privacy", done="no-regular-doctor"))


@router.post("/patient/privacy/emergency")
async def emergency_modes(request: Request) -> Response:
    """One mode at a time: refusing emergency access says nothing of the centre 15, and the other way round."""
    form = await checked_form(request)
    mode, choice = field(form, "mode", 12), field(form, "refuse", 3)
    if mode not in ("emergency", "regulation") or choice not in ("yes", "no"):
        raise Invalid("This action is not allowed.", code="unknown-action")
    refuse = choice == "yes"
    with patient_unit(request) as (ctx, patient):
        if mode == "emergency":
            service.set_opt_outs(ctx, patient.actor, patient.patient_id, emergency=refuse)
        else:
            service.set_opt_outs(ctx, patient.actor, patient.patient_id, regulation=refuse)
    return redirect(with_query("/patient/privacy", done=f"{mode}-{'refused' if refuse else 'allowed'}"))


NOTICES = {
    "new-document": N_("A new document is added to your record"),
    "new-accessor": N_("A professional reads your record for the first time"),
    "emergency-access": N_("Someone uses emergency access to your record"),
    "authorisation-change": N_("Who may read your record changes"),
}
CHANNEL_WORDS = {"email": N_("By e-mail"), "sms": N_("By text message (SMS)")}


def _notifications_page(
    request: Request, wanted: set[str], email: str | None, phone: str | None, errors: FieldErrors, **extra: object
) -> Response:
    context = {
        "kinds": [(kind, NOTICES[kind]) for kind in KINDS],
        "channels": [(channel, CHANNEL_WORDS[channel]) for channel in CHANNELS],
        "wanted": wanted,
        "email": email,
        "phone": phone,
        "errors": errors.items,
        "field_errors": errors.by_field,
        "signed_in": True,
        **extra,
    }
    return page(request, "patient/notifications.html", context, status=422 if errors else 200)


@router.get("/patient/notifications")
def notifications(request: Request, done: Annotated[bool, Query()] = False) -> Response:
    with patient_unit(request) as (ctx, patient):
        current = read_notification_settings(ctx, patient.actor, patient.patient_id)
    return _notifications_page(request, set(current.wanted), current.email, current.phone, FieldErrors(), done=done)


def _wanted(form: FormData) -> list[str]:
    return [value for value in form.getlist("wanted") if isinstance(value, str)][:20]


@router.post("/patient/notifications")
async def save_notifications(request: Request) -> Response:
    """The addresses stay as they are (they also receive sign-in codes): only the choice of notices changes."""
    form = await checked_form(request)
    wanted = _wanted(form)
    errors = FieldErrors()
    with patient_unit(request) as (ctx, patient):
        current = read_notification_settings(ctx, patient.actor, patient.patient_id)
        try:
            set_notification_settings(
                ctx, patient.actor, patient.patient_id, email=current.email, phone=current.phone, wanted=wanted
            )
        except CarnetError as exc:
            errors.add("wanted", known_message(request, exc))
    if errors:
        return _notifications_page(request, set(wanted), current.email, current.phone, errors, done=False)
    return redirect("/patient/notifications?done=true")


__all__ = ["PROFESSIONS", "router"]
