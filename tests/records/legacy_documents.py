"""Documents as Carnet stored them before issue 19: columns only, no DocumentReference kept."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from carnet.context import Context
from carnet.kit import clock
from carnet.records.content_store import PostgresContentStore
from carnet.records.document_store import author_aad, content_aad, title_aad
from carnet.records.keys import data_key
from carnet.records.models import Document, DocumentVersion

CONTENT = b"Compte rendu ancien.\n"


def legacy_document(
    ctx: Context,
    patient_id: uuid.UUID,
    *,
    author_rpps: str,
    versions: int = 1,
    master_identifier: str | None = None,
) -> uuid.UUID:
    """Store a professional's document exactly as the old deposit did (what a database at 20261201 holds)."""
    key, now = data_key(ctx, patient_id), clock.now()
    document_id, content_id = uuid.uuid4(), uuid.uuid4()
    PostgresContentStore(ctx.session).put(
        patient_id, content_id, key.encrypt(CONTENT, aad=content_aad(patient_id, content_id))
    )
    document = Document(
        id=document_id,
        patient_id=patient_id,
        class_code="10",
        type_code="11488-4",
        title_ct=key.encrypt_text("Consultation ancienne", aad=title_aad(document_id)),
        act_date=date(2025, 5, 6),
        author_kind="professional",
        author_ref=author_rpps,
        author_name_ct=key.encrypt_text("Dr Ancien", aad=author_aad(document_id)),
        author_organisation="750000010",
        created_at=now,
        deposited_at=now,
        format="text/plain",
        size=len(CONTENT),
        sha256=hashlib.sha256(CONTENT).hexdigest(),
        status="current",
        content_id=content_id,
        master_identifier=master_identifier,
        version=versions,
        updated_at=now,
    )
    ctx.session.add(document)
    for number in range(1, versions + 1):
        ctx.session.add(
            DocumentVersion(
                patient_id=patient_id,
                document_id=document_id,
                version=number,
                recorded_at=now,
                status="current",
                masked=number > 1 and number % 2 == 0,
                hidden_from_patient_until=None,
                hidden_from_representatives=False,
            )
        )
    document.masked = versions > 1 and versions % 2 == 0
    ctx.session.flush()
    return document_id
