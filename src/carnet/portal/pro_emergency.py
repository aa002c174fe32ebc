"""Emergency access ("bris de glace") and centre 15 regulation, from the professional's space.

The professional writes why (access.service.declare_emergency refuses an empty or too short justification, and
an access the patient refused beforehand); the episode then lasts one care episode, and every page of the space
shows a red banner with its end (portal/pro.py). While it runs, the professional's accesses to that record are
made in the episode's mode: the gate reads the episode from the database, never from the form.
"""

from __future__ import annotations

import dataclasses
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from carnet.access.actor import Mode
from carnet.access.service import declare_emergency, declare_emergency_for_ins
from carnet.kit.errors import CarnetError
from carnet.kit.identifiers import parse_ins
from carnet.portal.messages import N_
from carnet.portal.patient import FieldErrors
from carnet.portal.pro import HOME, pro_page, pro_unit, space
from carnet.portal.pro_record import record_path
from carnet.portal.web import checked_form, field, gettext, known_message, redirect, with_query

router = APIRouter(include_in_schema=False)
SERVICE_MESSAGES = (
    N_("An emergency access needs a written justification of at least 15 characters."),
    N_("The patient has refused emergency access to their record."),
    N_("The patient has refused access by the centre 15 regulation."),
    N_("Only a doctor regulating a centre 15 call may use the regulation mode."),
    N_("No record was found for this patient."),
    N_("Declare the emergency access first, with its written justification."),
)
MODES = {"emergency": Mode.EMERGENCY, "regulation": Mode.REGULATION}


def _target(form: FormData) -> tuple[str, uuid.UUID | None]:
    """The patient the emergency is for: the INS searched, or the record already open in the space."""
    try:
        ins = parse_ins(field(form, "ins", 40)).value if field(form, "ins", 40) else ""
    except CarnetError:
        ins = ""
    try:
        patient_id = uuid.UUID(field(form, "patient_id", 40)) if field(form, "patient_id", 40) else None
    except ValueError:
        patient_id = None
    return ins, patient_id


def _form_page(
    request: Request, form: FormData, errors: FieldErrors, values: dict[str, str], status: int = 200
) -> Response:
    ins, patient_id = _target(form)
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
    context = {"ins": ins, "patient_id": patient_id or "", "values": values}
    return pro_page(request, "pro/emergency.html", shared, context, errors=errors, status=status)


@router.post(f"{HOME}/emergency/new")
async def emergency_form(request: Request) -> Response:
    """The justification form (reached by POST from the search or the record: the INS stays out of URLs)."""
    form = await checked_form(request)
    return _form_page(request, form, FieldErrors(), {"justification": "", "mode": "emergency"})


@router.post(f"{HOME}/emergency")
async def declare(request: Request) -> Response:
    form = await checked_form(request)
    _ = gettext(request).gettext
    values = {"justification": field(form, "justification", 2000), "mode": field(form, "mode", 12) or "emergency"}
    ins, patient_id = _target(form)
    errors = FieldErrors()
    if not values["justification"].strip():
        errors.add("justification", _("Write why you need this access: the patient will read it."))
    if values["mode"] not in MODES:
        errors.add("mode", _("Choose an emergency access or the centre 15 regulation."))
    if not ins and patient_id is None:
        errors.add("justification", _("Search for the patient again: this form has lost who it was for."))
    if errors:
        return _form_page(request, form, errors, values, 422)
    try:
        with pro_unit(request) as (ctx, member):
            actor = dataclasses.replace(member.staff.actor, mode=MODES[values["mode"]])
            if patient_id is not None:
                declare_emergency(ctx, actor, patient_id, values["justification"])
            else:
                patient_id, _episode = declare_emergency_for_ins(ctx, actor, ins, values["justification"])
    except CarnetError as exc:
        if exc.status >= 500 or exc.status == 401:
            raise
        name = "mode" if exc.code in ("not-a-regulator", "regulation-opt-out") else "justification"
        errors.add(name, known_message(request, exc))
        return _form_page(request, form, errors, values, exc.status)
    return redirect(with_query(record_path(patient_id), done="emergency"))
