"""Documents stored before issue 19 read as they always did, and `convert` stores that very resource, once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.codes import RPPS_SYSTEM
from carnet.records.document_convert import convert_documents, documents_to_convert
from carnet.records.documents import document_history, list_documents
from carnet.records.keys import shred_data_key
from carnet.records.models import Document, DocumentVersion
from carnet.records.schemas import DocumentQuery
from tests.factories import open_test_record, rpps
from tests.records.legacy_documents import legacy_document


def _read(ctx: Context, actor: Actor) -> dict[str, Any]:
    patient_id = uuid.UUID(actor.ref)
    page = list_documents(ctx, actor, patient_id, DocumentQuery(status="any", limit=100))
    return {
        str(view.id): [v.resource for v in document_history(ctx, actor, patient_id, view.id)] for view in page.items
    }


def test_old_documents_read_the_same_before_and_after_conversion_which_resumes_and_ends(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    for index in range(7):
        legacy_document(
            ctx, patient_id, author_rpps=rpps(3), versions=1 + index % 3, master_identifier=f"urn:x:{index}"
        )
    gone = open_test_record(ctx)
    legacy_document(ctx, gone, author_rpps=rpps(3))
    shred_data_key(ctx, gone)  # a destroyed record: nothing to decrypt, left as it is

    before = _read(ctx, patient)
    first = next(iter(before.values()))[-1]
    assert first["docStatus"] == "final" and first["description"] == "Consultation ancienne"
    assert first["author"] == [{"identifier": {"system": RPPS_SYSTEM, "value": rpps(3)}, "display": "Dr Ancien"}]
    assert documents_to_convert(ctx) == 7
    assert [convert_documents(ctx, limit=3) for _ in range(4)] == [3, 3, 1, 0]

    assert documents_to_convert(ctx) == 0
    assert _read(ctx, patient) == before
    rows = list(ctx.session.scalars(select(Document).where(Document.patient_id == patient_id)))
    assert all(r.resource_ct is not None and r.doc_status == "final" for r in rows)
    versions = ctx.session.scalars(select(DocumentVersion).where(DocumentVersion.patient_id == patient_id))
    assert all(v.resource_ct is not None for v in versions)
    (left,) = ctx.session.scalars(select(Document).where(Document.patient_id == gone))
    assert left.resource_ct is None
