"""The access history in plain words: who (a name and a profession), did what, when, in which mode.

The lines come from `audit.history.access_history`, which passes the gate and leaves out what the record keeps
from its reader; this module only words them through the catalogue. The patient's own doings (their reads,
their sign-ins) are left out unless asked for: they would bury everyone else's. Filters are a GET form: a
professional's public RPPS number, a mode, a period and a page offset are the only things in the address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.audit.history import MODES, HistoryLine, access_history
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.people import Person, people
from carnet.portal.web import PARIS, format_day, gettext, language, page, patient_unit, with_query

router = APIRouter(include_in_schema=False)
PAGE = 20

MODE_WORDS = {
    "normal": N_("Normal"),
    "emergency": N_("Emergency (break-glass)"),
    "regulation": N_("Centre 15 regulation"),
    "deposit-only": N_("Deposit only"),
}
# What was done, said of the record's holder ("your"); the document ones name the document when it may be shown.
DOCUMENT_ACTIONS = {
    "document.read": (N_("Read your document “%(title)s” of %(day)s"), N_("Read a document")),
    "document.deposit": (N_("Added the document “%(title)s” of %(day)s"), N_("Added a document")),
    "document.replace": (N_("Replaced the document “%(title)s” of %(day)s"), N_("Replaced a document")),
    "document.withdraw": (N_("Withdrew the document “%(title)s” of %(day)s"), N_("Withdrew a document")),
    "document.mask": (
        N_("Masked or unmasked the document “%(title)s” of %(day)s"),
        N_("Masked or unmasked a document"),
    ),
    "document.flag": (
        N_("Changed who may see the document “%(title)s” of %(day)s"),
        N_("Changed who may see a document"),
    ),
}
ACTIONS = {
    "record.open": N_("Opened your record"),
    "record.read": N_("Looked at your record's identity and state"),
    "record.close": N_("Closed your record"),
    "record.reopen": N_("Reopened your record"),
    "record.request-destruction": N_("Asked for your record to be destroyed"),
    "document.list": N_("Looked at the list of your documents"),
    "profile.read": N_("Read your medical profile"),
    "profile.write": N_("Added to your medical profile"),
    "profile.retire": N_("Removed an entry from your medical profile"),
    "settings.read": N_("Looked at who may read your record"),
    "history.read": N_("Looked at the access history"),
    "emergency.declare": N_("Declared an emergency access to your record"),
    "card.presence": N_("Was authorised when you presented your carte Vitale"),
    "representative.link": N_("Registered a legal representative"),
    "account.activation-code": N_("Gave out an activation code for your account"),
    "account.activate": N_("Activated your online account"),
    "login.password": N_("Signed in with the password"),
    "login.second-factor": N_("Signed in"),
    "login.reauthenticate": N_("Confirmed who they are for a sensitive action"),
    "logout": N_("Signed out"),
    "logout.everywhere": N_("Ended every session of your account"),
    "recovery.request": N_("Asked for your password to be reset"),
    "recovery.complete": N_("Changed your password through a reset"),
    "reimbursement.read": N_("Read your reimbursements"),
    "reimbursement.feed": N_("Added reimbursement lines"),
}
SETTINGS = {
    "authorise": N_("Authorised %(name)s"),
    "revoke": N_("Revoked the authorisation of %(name)s"),
    "block": N_("Blocked %(name)s"),
    "unblock": N_("Unblocked %(name)s"),
    "regular-doctor": N_("Chose %(name)s as regular doctor"),
}
OTHER_SETTING = N_("Changed who may read your record")
NOTIFICATIONS = N_("Changed the notification preferences")
OTHER_ACTION = N_("Another access to your record")
WHO = {
    "system": N_("Carnet, automatically"),
    "anonymous": N_("Someone not signed in"),
    "desk": N_("An insurance desk agent"),
    "operator": N_("A Carnet operator"),
    "representative": N_("Your legal representative"),
    "you": N_("You"),
}


def _day(value: str, errors: FieldErrors, name: str, message: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(name, message)
        return None


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


class Words:
    """One line of the history in the reader's words."""

    def __init__(self, request: Request, named: dict[str, Person], reader: str) -> None:
        self.words = gettext(request)
        self.named = named
        self.reader = reader
        reading = language(request)
        self.day: Callable[[date], str] = lambda value: format_day(value, reading)

    def who(self, line: HistoryLine) -> str:
        _ = self.words.gettext
        if line.actor_kind == "professional":
            person = self.named.get(line.actor_ref)
            if person is not None and person.name:
                return f"{person.name}, {_(person.profession)}"
            profession = _(person.profession) if person else ""
            return _("A professional (%(profession)s) with RPPS number %(rpps)s") % {
                "profession": profession,
                "rpps": line.actor_ref,
            }
        if line.actor_kind == "patient":
            if line.actor_ref == self.reader:
                return _(WHO["you"])
            return _(WHO["representative"])
        return _(WHO.get(line.actor_kind, WHO["system"]))

    def what(self, line: HistoryLine) -> str:
        _ = self.words.gettext
        if line.action in DOCUMENT_ACTIONS:
            named, unnamed = DOCUMENT_ACTIONS[line.action]
            if line.document_title is not None and line.document_date is not None:
                return _(named) % {"title": line.document_title, "day": self.day(line.document_date)}
            return _(unnamed)
        if line.action == "settings.change":
            if line.detail == "notifications":
                return _(NOTIFICATIONS)
            if line.detail in SETTINGS and line.about:
                person = self.named.get(line.about)
                name = person.name if person and person.name else _("a professional")
                return _(SETTINGS[line.detail]) % {"name": name}
            return _(OTHER_SETTING)
        return _(ACTIONS.get(line.action, OTHER_ACTION))


@router.get("/patient/history")
def history(
    request: Request,
    professional: Annotated[str, Query(max_length=11)] = "",
    mode: Annotated[str, Query(max_length=12)] = "",
    period_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    period_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    own: Annotated[bool, Query()] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    _ = gettext(request).gettext
    errors = FieldErrors()
    start = _day(period_from, errors, "from", _("Enter a date as day, month and year, e.g. 03/03/2026."))
    end = _day(period_to, errors, "to", _("Enter a date as day, month and year, e.g. 03/03/2026."))
    if start and end and end < start:
        errors.add("to", _("The end of the period cannot come before its start."))
    if mode and mode not in MODES["en"]:
        errors.add("mode", _("Choose a mode from the list."))
    if professional and not (professional.isdigit() and len(professional) == 11):
        errors.add("professional", _("Choose a professional from the list."))
    with patient_unit(request) as (ctx, patient):
        result = access_history(
            ctx,
            patient.actor,
            patient.patient_id,
            professional=professional or None if not errors else None,
            mode=mode or None if not errors else None,
            since=_start(start) if start and not errors else None,
            until=_start(end + timedelta(days=1)) if end and not errors else None,
            limit=PAGE,
            offset=offset if not errors else 0,
            hide_own=not own,
            language="en",
        )
        about = [(line.about, None) for line in result.lines if line.about]
        named = people(ctx, [*result.professionals, *about])
    words = Words(request, named, patient.actor.ref)
    lines = [] if errors else [(line, words.who(line), words.what(line)) for line in result.lines]
    chosen = {"professional": professional, "mode": mode, "from": period_from, "to": period_to}
    kept = {k: v for k, v in chosen.items() if v} | ({"own": "true"} if own else {})
    following = None
    if result.next_offset is not None and not errors:
        following = with_query("/patient/history", **kept, offset=str(result.next_offset))
    context = {
        "lines": lines,
        "professionals": sorted(
            (named[rpps] for rpps, _p in result.professionals if rpps in named),
            key=lambda p: (p.name is None, p.name or p.rpps),
        ),
        "modes": MODE_WORDS,
        "values": {**chosen, "own": own},
        "errors": errors.items,
        "field_errors": errors.by_field,
        "next_page": following,
        "first_page": with_query("/patient/history", **kept) if offset else None,
        "signed_in": True,
    }
    return page(request, "patient/history.html", context, status=422 if errors else 200)
