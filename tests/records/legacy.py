"""Profile entries as Carnet stored them before issue 19: a payload of one kind's schema, encrypted."""

from __future__ import annotations

import uuid
from typing import Any

from carnet.context import Context
from carnet.kit import clock
from carnet.records.keys import data_key
from carnet.records.models import ProfileEntry
from carnet.records.profile import payload_aad
from carnet.records.profile_kinds import PROFILE_PAYLOAD


def legacy_entry(ctx: Context, patient_id: uuid.UUID, payload: dict[str, Any], *, status: str = "active") -> uuid.UUID:
    """Store an entry exactly as the old add_profile_entry did (what a database migrated to 20261201 holds)."""
    entry = PROFILE_PAYLOAD.validate_python(payload)
    entry_id = uuid.uuid4()
    ctx.session.add(
        ProfileEntry(
            id=entry_id,
            patient_id=patient_id,
            kind=entry.kind,
            source_class="90",
            author_kind="patient",
            author_ref=str(patient_id),
            recorded_at=clock.now(),
            status=status,
            payload_ct=data_key(ctx, patient_id).encrypt_text(entry.model_dump_json(), aad=payload_aad(entry_id)),
        )
    )
    ctx.session.flush()
    return entry_id
