"""When a professional last read a record before their present session: the cut of "new since your last access"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.audit.news import professional_last_access
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import Forbidden
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from tests.audit.test_history import flush_trail
from tests.factories import open_test_record, rpps


def test_the_last_access_is_the_professionals_own_read_before_the_session_began(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    doctor, colleague = Actor.professional(rpps(61), "10"), Actor.professional(rpps(62), "10")
    for who in (doctor, colleague):
        grant_authorisation(ctx, patient_id, who.ref, scope="read_write", via="card")
    start = clock.now()
    assert professional_last_access(ctx, doctor, patient_id, session_started=start) is None  # never read
    flush_trail(ctx)
    list_documents(ctx, doctor, patient_id, DocumentQuery())
    flush_trail(ctx)
    after = clock.now() + timedelta(seconds=1)
    read = professional_last_access(ctx, doctor, patient_id, session_started=after)
    assert read is not None and read < after
    assert professional_last_access(ctx, doctor, patient_id, session_started=start) is None  # within the session
    flush_trail(ctx)
    assert professional_last_access(ctx, colleague, patient_id, session_started=after) is None  # not theirs


def test_a_professional_who_may_not_read_learns_nothing_of_the_trail(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    with pytest.raises(Forbidden):
        professional_last_access(ctx, Actor.professional(rpps(63), "10"), patient_id, session_started=clock.now())
