"""`carnet documents convert`: documents deposited before issue 19 (columns only) get their resource stored.

Each document gets exactly the resource reads have built from its columns (records/document_legacy), so no
reader sees a change: the document and each of its versions not converted yet. Batches are committed one by
one: an interrupted run resumes where it stopped, and a finished one finds nothing to do. Documents of
destroyed records cannot be decrypted any more and are left as they are.

This is a change of storage format by the operator, not an access to the content by anyone: it reads and
writes through the record's data key without the access gate, like the migrations, and is logged by its
count only.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select

from carnet.context import Context
from carnet.records.document_legacy import legacy_resource
from carnet.records.document_resource import encoded, resource_aad, version_aad
from carnet.records.document_store import author_name, title_aad
from carnet.records.keys import data_key
from carnet.records.models import Document, DocumentVersion, RecordKey


def _pending() -> ColumnElement[bool]:
    has_key = select(RecordKey.patient_id).where(RecordKey.patient_id == Document.patient_id).exists()
    old_version = (
        select(DocumentVersion.version)
        .where(
            DocumentVersion.patient_id == Document.patient_id,
            DocumentVersion.document_id == Document.id,
            DocumentVersion.resource_ct.is_(None),
        )
        .exists()
    )
    return and_(or_(Document.resource_ct.is_(None), old_version), has_key)


def documents_to_convert(ctx: Context) -> int:
    """How many documents of living records still lack their resource (or one of their versions does)."""
    return int(ctx.session.scalar(select(func.count()).select_from(Document).where(_pending())) or 0)


def convert_documents(ctx: Context, *, limit: int) -> int:
    """Convert up to `limit` documents (locked, so two runs never take the same); how many were converted."""
    statement = (
        select(Document)
        .where(_pending())
        .order_by(Document.patient_id, Document.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(ctx.session.scalars(statement))
    if not rows:
        return 0
    versions = ctx.session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.document_id.in_([row.id for row in rows]), DocumentVersion.resource_ct.is_(None)
        )
    )
    by_document: dict[object, list[DocumentVersion]] = {}
    for version in versions:
        by_document.setdefault(version.document_id, []).append(version)
    for row in rows:
        key = data_key(ctx, row.patient_id)
        title = key.decrypt_text(row.title_ct, aad=title_aad(row.id))
        text = encoded(legacy_resource(row, title, author_name(key, row)))
        if row.resource_ct is None:
            row.resource_ct = key.encrypt_text(text, aad=resource_aad(row.id))
            row.doc_status = "final"
        for version in by_document.get(row.id, []):
            version.resource_ct = key.encrypt_text(text, aad=version_aad(row.id, version.version))
    ctx.session.flush()
    return len(rows)
