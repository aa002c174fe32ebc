"""What is new since the patient's last visit: cut at their previous sign-in, as the trail records it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from carnet.access import gate
from carnet.access.actor import Actor, Mode
from carnet.access.service import authorise, declare_emergency
from carnet.audit.news import news_since_last_visit
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import Forbidden, NotFound
from carnet.records.documents import deposit_document, list_documents
from carnet.records.schemas import DocumentQuery
from tests.audit.test_history import DOCTOR, NURSE, flush_trail
from tests.factories import PDF, SYSTEM, document_meta, open_test_record


def _signed_in(ctx: Context, patient_id: uuid.UUID) -> None:
    gate.trace_authentication(
        ctx, Actor.patient(patient_id), "login.second-factor", patient_id, allowed=True, reason="signed-in"
    )
    flush_trail(ctx)


def test_news_are_what_came_after_the_previous_sign_in(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Ancien bilan"), PDF)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    flush_trail(ctx)
    first = news_since_last_visit(ctx, patient, patient_id, visit_started=clock.now() + timedelta(seconds=1))
    assert first.since is None and [d.title for d in first.documents] == ["Ancien bilan"]
    assert [a.rpps for a in first.first_accesses] == [DOCTOR.ref]

    _signed_in(ctx, patient_id)
    later = clock.now() + timedelta(seconds=1)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Nouveau bilan"), PDF)
    list_documents(ctx, DOCTOR, patient_id, DocumentQuery())  # not new: the doctor read the record before
    declare_emergency(
        ctx, Actor.professional(NURSE.ref, "60", mode=Mode.EMERGENCY), patient_id, "Malaise, patiente inconsciente"
    )
    flush_trail(ctx)
    news = news_since_last_visit(ctx, patient, patient_id, visit_started=later)
    assert news.since is not None and news.since < later
    assert [d.title for d in news.documents] == ["Nouveau bilan"]
    assert [a.rpps for a in news.first_accesses] == [NURSE.ref]
    (emergency,) = news.emergencies
    assert (emergency.rpps, emergency.mode, emergency.justification) == (
        NURSE.ref,
        "emergency",
        "Malaise, patiente inconsciente",
    )


def test_news_pass_the_gate(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    for intruder in (DOCTOR, Actor.patient(uuid.uuid4())):
        with pytest.raises((Forbidden, NotFound)):
            news_since_last_visit(ctx, intruder, patient_id, visit_started=clock.now())
