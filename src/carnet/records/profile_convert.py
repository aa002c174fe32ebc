"""`carnet profile convert`: entries stored before issue 19 (a payload of Carnet's schemas) become resources.

Each entry becomes exactly the resource reads have built from it (records/profile_legacy), so no reader
sees a change; its derived columns are filled from it and the payload is dropped in the same transaction.
Batches are committed one by one: an interrupted run resumes where it stopped, and a finished one finds
nothing to do. Entries of destroyed records cannot be decrypted any more and are left as they are.

This is a change of storage format by the operator, not an access to the content by anyone: it reads
and writes through the record's data key without the access gate, like the migrations, and is logged
by its count only.
"""

from __future__ import annotations

import json

from sqlalchemy import ColumnElement, and_, func, select

from carnet.context import Context
from carnet.records.keys import data_key
from carnet.records.models import ProfileEntry, RecordKey
from carnet.records.profile import resource_aad, stored_resource
from carnet.records.profile_types import derive


def _pending() -> ColumnElement[bool]:
    has_key = select(RecordKey.patient_id).where(RecordKey.patient_id == ProfileEntry.patient_id).exists()
    return and_(ProfileEntry.resource_ct.is_(None), has_key)


def entries_to_convert(ctx: Context) -> int:
    """How many entries of living records are still stored as payloads."""
    return int(ctx.session.scalar(select(func.count()).select_from(ProfileEntry).where(_pending())) or 0)


def convert_entries(ctx: Context, *, limit: int) -> int:
    """Convert up to `limit` entries (locked, so two runs never take the same); how many were converted."""
    statement = (
        select(ProfileEntry)
        .where(_pending())
        .order_by(ProfileEntry.patient_id, ProfileEntry.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(ctx.session.scalars(statement))
    for row in rows:
        key = data_key(ctx, row.patient_id)
        resource = stored_resource(key, row)
        derived = derive(resource)
        text = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        row.resource_ct = key.encrypt_text(text, aad=resource_aad(row.id))
        row.payload_ct = None
        row.resource_type = derived.resource_type
        row.resource_status = derived.status
        row.verification_status = derived.verification
        row.in_error = derived.in_error
        row.occurred_on = derived.occurred_on
        row.author_rpps = derived.author_rpps
    ctx.session.flush()
    return len(rows)
