"""A legal representative switches between their own record and those of the minors they represent.

The switch changes which record the session's pages show; the actor stays the representative, so the gate
decides every access as for a representative (documents hidden from representatives stay hidden) and the
minor's trail names them. The links come from the insurer's registry (identity.registry.link_family).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carnet.access.service import represented, represents
from carnet.identity import sessions
from carnet.kit.errors import NotFound
from carnet.portal.web import checked_form, field, page, patient_unit, redirect

router = APIRouter(include_in_schema=False)
OWN = "own"


@router.get("/patient/representing")
def records_to_show(request: Request) -> Response:
    """The patient's own record and those of the minors they represent, to choose which one the pages show."""
    with patient_unit(request) as (ctx, patient):
        minors = represented(ctx, patient.actor)
    return page(
        request,
        "patient/representing.html",
        {"minors": minors, "shown": patient.patient_id, "own": patient.own_id, "signed_in": True},
    )


@router.post("/patient/representing")
async def show_record(request: Request) -> Response:
    form = await checked_form(request)
    chosen = field(form, "record", 40)
    with patient_unit(request) as (ctx, patient):
        if chosen == OWN:
            sessions.act_for(ctx.session, patient.token, None)
        else:
            try:
                minor_id = uuid.UUID(chosen)
            except ValueError:
                minor_id = None
            if minor_id is None or not represents(ctx, patient.actor, minor_id):
                raise NotFound("This page does not exist.")  # a record they do not represent: nothing to say
            sessions.act_for(ctx.session, patient.token, minor_id)
    return redirect("/patient")
