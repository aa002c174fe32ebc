"""The professional's space: its home, finding a patient by INS, and what every page of the space shares.

A professional reads only what the gate lets them: the search answers "no record you can read" alike for a
record that does not exist and for one they are not authorised on (records.service.find_by_ins), and says what
they may do next: present the patient's carte Vitale (portal/pro_card.py) or declare an emergency access
(portal/pro_emergency.py). While an emergency episode runs, every page of the space says so in a red banner,
and the professional's accesses to that record are made in the episode's mode.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from fastapi import APIRouter, Request
from fastapi.responses import Response

from carnet.access.actor import Actor
from carnet.access.service import RunningEpisode, running_episode, running_episodes
from carnet.context import Context
from carnet.kit.errors import CarnetError
from carnet.kit.identifiers import parse_ins
from carnet.portal.patient import FieldErrors
from carnet.portal.people import PROFESSIONS, UNKNOWN_PROFESSION
from carnet.portal.staff import StaffMember, staff_unit
from carnet.portal.web import checked_form, field, gettext, known_message, page, redirect
from carnet.records.service import find_by_ins

router = APIRouter(include_in_schema=False)
HOME = "/pro"
REGULATOR = "10"  # only a doctor regulates centre 15 calls (access.policy checks it again)


@contextmanager
def pro_unit(request: Request) -> Iterator[tuple[Context, StaffMember]]:
    """The request's unit of work with the signed-in professional (or pharmacist reading records)."""
    with staff_unit(request, "professional", "pharmacy") as (ctx, member):
        yield ctx, member


def acting(ctx: Context, member: StaffMember, patient_id: uuid.UUID) -> Actor:
    """The Actor this professional acts as on this record: in the mode of their running episode, if one runs."""
    actor = member.staff.actor
    episode = running_episode(ctx, actor, patient_id)
    return dataclasses.replace(actor, mode=episode.mode) if episode is not None else actor


def space(ctx: Context, member: StaffMember) -> dict[str, object]:
    """What the space's layout shows on every page: who is signed in, and the episodes running."""
    identity = member.staff.identity
    episodes: list[RunningEpisode] = running_episodes(ctx, member.staff.actor)
    return {
        "staff_name": identity.name,
        "staff_profession": PROFESSIONS.get(identity.profession or "", UNKNOWN_PROFESSION),
        "episodes": episodes,
        "regulator": identity.profession == REGULATOR,
        "at_counter": identity.space == "pharmacy",  # a pharmacist reading a record from the counter
    }


def pro_page(
    request: Request,
    template: str,
    shared: Mapping[str, object],
    context: Mapping[str, object] | None = None,
    *,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    found = errors or FieldErrors()
    values: dict[str, object] = {"errors": found.items, "field_errors": found.by_field, **shared, **(context or {})}
    return page(request, template, values, status=status)


@router.get(HOME)
def home(request: Request) -> Response:
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
    return pro_page(request, "pro/home.html", shared, {"values": {"ins": ""}})


@router.post(f"{HOME}/find")
async def find(request: Request) -> Response:
    """A patient by INS: their record when this professional may read it; otherwise what they may do next."""
    form = await checked_form(request)
    _ = gettext(request).gettext
    typed = field(form, "ins", 40)
    errors = FieldErrors()
    ins = ""
    if not typed.strip():
        errors.add("ins", _("Enter the patient's INS: their social security number, 15 digits with its key."))
    else:
        try:
            ins = parse_ins(typed).value
        except CarnetError as exc:
            errors.add("ins", known_message(request, exc))
    with pro_unit(request) as (ctx, member):
        shared = space(ctx, member)
        found = find_by_ins(ctx, member.staff.actor, ins) if ins else None
    if errors:
        return pro_page(request, "pro/home.html", shared, {"values": {"ins": typed}}, errors=errors, status=422)
    if found is not None:
        return redirect(f"{HOME}/patients/{found.patient_id}")
    return pro_page(request, "pro/next.html", shared, {"ins": ins})
