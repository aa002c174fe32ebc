"""A professional adds an entry to the patient's health summary: an allergy, an illness, a treatment, a measure.

The same forms as the patient's (profile_forms), in the professional's words, build the FHIR resource and give it
to the profile service the FHIR API uses: the gate decides (a professional authorised to write, or in deposit-only
mode, may add; a blocked one may not), the entry is authored by this professional, and what fails the schema
comes back beside its field, with nothing stored. Advance directives, organ donation, the people to notify and
the patient's professionals are the patient's own to write: they have no form here.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from carnet.identity import sessions
from carnet.kit.errors import CarnetError, NotFound
from carnet.portal.labels import CLASSES
from carnet.portal.patient import FieldErrors
from carnet.portal.pro import acting, pro_page, pro_unit, space
from carnet.portal.pro_record import RECORD, record_path
from carnet.portal.profile import FORM_KEY, form_key, refusal
from carnet.portal.profile_forms import FORMS, PRO_FORM_KINDS, PRO_WORDS, KindForm, precheck
from carnet.portal.staff import StaffMember
from carnet.portal.web import SignInRequired, checked_form, field, gettext, redirect
from carnet.records.profile import add_profile_resource

router = APIRouter(include_in_schema=False)
# The kinds of document a professional's entry may come from: its class, which the matrix reads by.
SOURCE_CLASSES = ("10", "11", "42", "43", "44", "45", "52")
DEFAULT_SOURCE = "10"  # a report: what a consultation writes


def _form_of(kind: str) -> KindForm:
    if kind not in PRO_FORM_KINDS:
        raise NotFound("This page does not exist.")
    return FORMS[kind]


def _submitter(member: StaffMember) -> uuid.UUID:
    """Whose one-time form keys these are (a professional has no account id: their RPPS names them)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"carnet:staff:{member.staff.actor.ref}")


def _add_page(
    request: Request,
    shared: dict[str, object],
    patient_id: uuid.UUID,
    form: KindForm,
    values: dict[str, str],
    errors: FieldErrors,
    status: int = 200,
) -> Response:
    _ = gettext(request).gettext
    context = {
        "form": form,
        "heading": PRO_WORDS.get(form.heading, form.heading),
        "words": PRO_WORDS,
        "sources": [(code, _(CLASSES[code])) for code in SOURCE_CLASSES],
        "form_key": values.get(FORM_KEY) or str(uuid.uuid4()),
        "values": values,
        "action": f"{record_path(patient_id)}/profile/add/{form.kind}",
        "cancel": f"{record_path(patient_id)}/profile",
    }
    return pro_page(request, "pro/profile_add.html", shared, context, errors=errors, status=status)


@router.get(f"{RECORD}/profile/add/{{kind}}")
def add_form(request: Request, patient_id: uuid.UUID, kind: Annotated[str, Path(max_length=40)]) -> Response:
    form = _form_of(kind)
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
    values = {f.name: f.default for f in form.fields} | {"source_class": DEFAULT_SOURCE}
    return _add_page(request, shared, patient_id, form, values, FieldErrors())


@router.post(f"{RECORD}/profile/add/{{kind}}")
async def add_entry(request: Request, patient_id: uuid.UUID, kind: Annotated[str, Path(max_length=40)]) -> Response:
    """The entry, authored by this professional, through the profile service; a form sent twice adds once."""
    form = _form_of(kind)
    posted = await checked_form(request)
    _ = gettext(request).gettext
    values = {f.name: field(posted, f.name, 10_000 if f.input == "textarea" else 500).strip() for f in form.fields}
    values[FORM_KEY] = form_key(field(posted, FORM_KEY, 40))
    values["source_class"] = field(posted, "source_class", 2)
    errors = FieldErrors()
    if values["source_class"] not in SOURCE_CLASSES:
        errors.add("source_class", _("Choose the kind of document it comes from."))
    for name, message in precheck(form, values).items():
        errors.add(name, _(PRO_WORDS.get(message, message)))
    done = redirect(f"{record_path(patient_id)}/profile?done=added")
    try:
        with pro_unit(request) as (ctx, member):
            shared = space(ctx, member)
            if not errors:
                if not sessions.first_submission(ctx.session, values[FORM_KEY], _submitter(member)):
                    return done
                actor = acting(ctx, member, patient_id)
                resource = form.build(values, patient_id)
                add_profile_resource(
                    ctx,
                    actor,
                    patient_id,
                    resource,
                    expected_type=form.resource_type,
                    source_class=values["source_class"],
                )
    except SignInRequired:
        raise
    except CarnetError as exc:
        if exc.status not in (400, 422):
            raise  # the gate's refusal (not authorised, a closed record) is a page of its own
        name = form.field_of(exc.expression)
        errors.add(name, _(refusal(form, name, exc)))
        return _add_page(request, shared, patient_id, form, values, errors, exc.status)
    if errors:
        return _add_page(request, shared, patient_id, form, values, errors, 422)
    return done
