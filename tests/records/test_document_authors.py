"""The authors of a record's documents, as a reader may filter by them; and one document for a form sent twice."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit.errors import Conflict
from carnet.records.documents import deposit_document, document_authors, list_documents
from carnet.records.models import Document
from carnet.records.schemas import DocumentAuthor, DocumentQuery
from carnet.runtime import Runtime
from tests.factories import PDF, SYSTEM, document_meta, open_test_record, patient_meta, rpps


def test_each_author_of_a_current_document_once_by_the_name_last_written(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    martin = {"rpps": rpps(1), "name": "Dr Martin", "organisation": "CHU de Nantes"}
    deposit_document(ctx, SYSTEM, patient_id, document_meta(author={**martin, "name": "Dr J. Martin"}), PDF)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(author=martin), PDF)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(author={"rpps": rpps(2), "name": "Dr Bernard"}), PDF)
    gone = deposit_document(ctx, SYSTEM, patient_id, document_meta(author={"rpps": rpps(3), "name": "Dr Roux"}), PDF)
    ctx.session.get_one(Document, gone).status = "withdrawn"  # as its author's withdrawal leaves it
    deposit_document(ctx, patient, patient_id, patient_meta(), PDF)
    other = open_test_record(ctx)
    deposit_document(ctx, SYSTEM, other, document_meta(author={"rpps": rpps(4), "name": "Dr Petit"}), PDF)

    assert document_authors(ctx, patient, patient_id) == [
        DocumentAuthor("patient", str(patient_id), None, None),
        DocumentAuthor("professional", rpps(2), "Dr Bernard", None),
        DocumentAuthor("professional", rpps(1), "Dr Martin", "CHU de Nantes"),
    ]


def test_a_professional_without_access_learns_no_author(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    with pytest.raises(Exception) as refused:
        document_authors(ctx, Actor.professional(rpps(9), "10"), patient_id)
    assert getattr(refused.value, "status", None) in (403, 404)


def test_two_deposits_of_one_document_at_once_store_it_once(runtime: Runtime) -> None:
    """The second of two simultaneous deposits waits on the unique index, then is told it is a duplicate."""
    with runtime.unit_of_work() as ctx:
        patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    meta = patient_meta(master_identifier=f"urn:uuid:{uuid.uuid4()}")
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with runtime.unit_of_work() as other:
                deposit_document(other, patient, patient_id, meta, PDF)
        except Conflict as exc:
            outcome["refused"] = exc.code

    first = runtime.unit_of_work()
    ctx = first.__enter__()
    deposit_document(ctx, patient, patient_id, meta, PDF)  # stored, not committed yet
    racing = threading.Thread(target=second)
    racing.start()
    time.sleep(0.5)  # the second deposit is waiting on the first's row
    first.__exit__(None, None, None)
    racing.join(10)
    assert outcome == {"refused": "duplicate-document"}
    with runtime.unit_of_work() as ctx:
        found = list_documents(ctx, patient, patient_id, DocumentQuery(master_identifier=meta.master_identifier))
    assert len(found.items) == 1
