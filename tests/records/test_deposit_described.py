"""A document a portal's form describes, deposited and answered as stored, without a read (deposit-only mode)."""

from __future__ import annotations

import pytest

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.context import Context
from carnet.kit.errors import Forbidden
from carnet.records.documents import deposit_described, get_document, list_documents
from carnet.records.schemas import DocumentQuery
from tests.factories import PDF, document_meta, open_test_record, rpps


def test_a_deposit_only_professional_is_told_what_was_stored_and_still_reads_nothing(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    doctor = Actor.professional(rpps(41), "10")
    grant_authorisation(ctx, patient_id, doctor.ref, scope="deposit", via="patient")
    meta = document_meta(author={"rpps": doctor.ref, "name": "Dr Roux"}, title="Lettre de liaison")
    stored = deposit_described(ctx, doctor, patient_id, meta, PDF)
    assert (stored.title, stored.author_ref, stored.status, stored.version) == (
        "Lettre de liaison",
        doctor.ref,
        "current",
        1,
    )
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, doctor, patient_id, DocumentQuery())
    assert get_document(ctx, Actor.patient(patient_id), patient_id, stored.id).title == "Lettre de liaison"


def test_a_described_replacement_supersedes_the_authors_own_document(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    doctor = Actor.professional(rpps(42), "10")
    grant_authorisation(ctx, patient_id, doctor.ref, scope="read_write", via="card")
    first = deposit_described(ctx, doctor, patient_id, document_meta(author=None, title="v1"), PDF)
    second = deposit_described(ctx, doctor, patient_id, document_meta(author=None, title="v2"), PDF, replaces=first.id)
    assert second.replaces_id == first.id
    assert get_document(ctx, doctor, patient_id, first.id).status == "deprecated"
