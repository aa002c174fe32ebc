"""The patient's health summary: the medical profile read in plain words, entries added and removed.

The page shows what the profile service returns (entries entered in error or removed are not current, and it
leaves them out). A form builds the FHIR resource (profile_forms) and gives it to the same service the FHIR API
uses; what fails the schema comes back beside its field, and nothing is stored.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from carnet.identity import sessions
from carnet.kit.errors import CarnetError, NotFound
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.profile_builders import values_of
from carnet.portal.profile_display import describe, sections
from carnet.portal.profile_forms import ADD_LINKS, FORMS, IN_THE_FUTURE, INVALID, KindForm, precheck
from carnet.portal.web import SignInRequired, checked_form, field, gettext, known_message, language, page, patient_unit
from carnet.portal.web import redirect as see_other
from carnet.records.profile import (
    add_profile_resource,
    get_profile_entry,
    list_profile,
    replace_profile_entry,
    retire_profile_entry,
)
from carnet.records.profile_types import PROFILE_KINDS
from carnet.records.service import record_summary

router = APIRouter(include_in_schema=False)
# The gate's refusal of a change to a closed record, in the catalogue so that it reads in French too.
CLOSED = N_("This record is closed: it can be read by its patient and reopened, not changed.")
NOTICES = {
    "added": N_("Your entry is saved in your record."),
    "changed": N_("Your change is saved in your record."),
    "removed": N_("The entry is removed."),
}
CHANGE = N_("Change this entry")
# Each page of a form carries a one-time key; the entry it adds claims it, so a form sent twice adds once.
FORM_KEY = "form_key"


def _form_of(kind: str) -> KindForm:
    form = FORMS.get(kind)
    if form is None:
        raise NotFound("This page does not exist.")
    return form


@router.get("/patient/profile")
def profile(request: Request, done: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    _ = gettext(request).gettext
    with patient_unit(request) as (ctx, patient):
        closed = record_summary(ctx, patient.actor, patient.patient_id).state != "open"
        entries = list_profile(ctx, patient.actor, patient.patient_id, kinds=PROFILE_KINDS)
    return page(
        request,
        "patient/profile/index.html",
        {
            "sections": sections(entries, language(request), _),
            "add_links": {key: [(k, FORMS[k].heading) for k in kinds] for key, kinds in ADD_LINKS.items()},
            "closed": closed,
            "changeable": tuple(FORMS),
            "notice": _(NOTICES[done]) if done in NOTICES else None,
            "signed_in": True,
        },
    )


def _add_page(
    request: Request,
    form: KindForm,
    values: dict[str, str],
    errors: FieldErrors,
    status: int = 200,
    *,
    action: str | None = None,
) -> Response:
    context = {
        "form": form,
        "form_key": values.get(FORM_KEY) or str(uuid.uuid4()),
        "values": values,
        "errors": errors.items,
        "field_errors": errors.by_field,
        "action": action or f"/patient/profile/add/{form.kind}",
        "heading": CHANGE if action else form.heading,
    }
    return page(request, "patient/profile/add.html", {**context, "signed_in": True}, status=status)


@router.get("/patient/profile/add/{kind}")
def add_form(request: Request, kind: Annotated[str, Path(max_length=40)]) -> Response:
    form = _form_of(kind)
    with patient_unit(request):
        pass  # the form is for a signed-in patient only
    return _add_page(request, form, {f.name: f.default for f in form.fields}, FieldErrors())


@router.post("/patient/profile/add/{kind}")
async def add_entry(request: Request, kind: Annotated[str, Path(max_length=40)]) -> Response:
    return await _save(request, _form_of(kind), None)


@router.get("/patient/profile/{entry_id}/change")
def change_form(request: Request, entry_id: uuid.UUID) -> Response:
    """The patient's own entry in its form, as they wrote it, to correct it."""
    with patient_unit(request) as (ctx, patient):
        entry = get_profile_entry(ctx, patient.actor, patient.patient_id, entry_id, kinds=PROFILE_KINDS)
    if entry.author_kind != "patient" or entry.kind not in FORMS or entry.status != "active":
        raise NotFound("This page does not exist.")
    form = FORMS[entry.kind]
    values = {f.name: f.default for f in form.fields} | {
        k: v for k, v in values_of(entry.kind, entry.resource).items() if v
    }
    return _add_page(request, form, values, FieldErrors(), action=f"/patient/profile/{entry_id}/change")


@router.post("/patient/profile/{entry_id}/change")
async def change_entry(request: Request, entry_id: uuid.UUID) -> Response:
    await checked_form(request)  # before anything is read
    with patient_unit(request) as (ctx, patient):
        entry = get_profile_entry(ctx, patient.actor, patient.patient_id, entry_id, kinds=tuple(FORMS))
    return await _save(request, FORMS[entry.kind], entry_id)


async def _save(request: Request, form: KindForm, replacing: uuid.UUID | None) -> Response:
    """A new entry, or the correction of one (the old one retired, kept), through the profile service."""
    posted = await checked_form(request)
    _ = gettext(request).gettext
    values = {f.name: field(posted, f.name, 10_000 if f.input == "textarea" else 500).strip() for f in form.fields}
    values[FORM_KEY] = form_key(field(posted, FORM_KEY, 40))
    action = f"/patient/profile/{replacing}/change" if replacing else None
    errors = FieldErrors()
    for name, message in precheck(form, values).items():
        errors.add(name, _(message))
    if errors:
        return _add_page(request, form, values, errors, 422, action=action)
    try:
        with patient_unit(request) as (ctx, patient):
            if not sessions.first_submission(ctx.session, values[FORM_KEY], patient.session.subject_id):
                return see_other("/patient/profile?done=" + ("changed" if replacing else "added"))
            resource = form.build(values, patient.patient_id)
            if replacing is None:
                add_profile_resource(ctx, patient.actor, patient.patient_id, resource, expected_type=form.resource_type)
            else:
                replace_profile_entry(
                    ctx, patient.actor, patient.patient_id, replacing, resource, expected_type=form.resource_type
                )
    except SignInRequired:
        raise
    except CarnetError as exc:
        name = form.field_of(exc.expression)
        errors.add(name, _(refusal(form, name, exc)) if exc.status in (400, 422) else known_message(request, exc))
        return _add_page(request, form, values, errors, exc.status, action=action)
    return see_other(f"/patient/profile?done={'changed' if replacing else 'added'}")


def form_key(sent: str) -> str:
    """The form's key as sent, or a new one for a page that carried none (then this send counts as the first)."""
    try:
        return str(uuid.UUID(sent))
    except ValueError:
        return str(uuid.uuid4())


def refusal(form: KindForm, name: str, exc: CarnetError) -> str:
    """The service's refusal in the patient's words, by what the field holds (its sentence is for software)."""
    if exc.code == "invalid-date":
        return IN_THE_FUTURE
    shown = next(f for f in form.fields if f.name == name)
    return INVALID[shown.input]


def _removable(request: Request, entry_id: uuid.UUID) -> Response:
    """The confirmation page: the entry as the summary shows it, and what removing it does."""
    _ = gettext(request).gettext
    with patient_unit(request) as (ctx, patient):
        entry = get_profile_entry(ctx, patient.actor, patient.patient_id, entry_id, kinds=PROFILE_KINDS)
    if entry.author_kind != "patient" or entry.status != "active":
        raise NotFound("This page does not exist.")
    item = describe(entry, language(request), _)
    return page(request, "patient/profile/remove.html", {"item": item, "signed_in": True})


@router.get("/patient/profile/{entry_id}/remove")
def remove_form(request: Request, entry_id: uuid.UUID) -> Response:
    return _removable(request, entry_id)


@router.post("/patient/profile/{entry_id}/remove")
async def remove_entry(request: Request, entry_id: uuid.UUID) -> Response:
    """An entry the patient wrote and that is no longer true: kept in the record's history, no longer current.

    Only the confirmation page's button removes (it sends `confirm`); a form without it gets that page."""
    form = await checked_form(request)
    if field(form, "confirm", 8) != "yes":
        return _removable(request, entry_id)
    with patient_unit(request) as (ctx, patient):
        retire_profile_entry(ctx, patient.actor, patient.patient_id, entry_id)
    return see_other("/patient/profile?done=removed")
