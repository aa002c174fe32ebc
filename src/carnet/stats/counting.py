"""What the services call when something counted happens, in the transaction where it happens.

Each call is one upsert (see repository.py for why in the transaction, and why it loses nothing and
waits little under concurrency); a rolled-back change takes its count with it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from carnet.context import Context
from carnet.stats import repository


def record_opened(
    ctx: Context,
    patient_id: uuid.UUID,
    *,
    at: datetime,
    channel: str,
    opened_by: str,
    departement: str,
    region: str,
) -> None:
    repository.count_opening(
        ctx.session, at=at, channel=channel, departement=departement, region=region, opened_by=opened_by
    )
    repository.count_state_change(ctx.session, patient_id, None, "open")


def record_state_changed(ctx: Context, patient_id: uuid.UUID, old: str, new: str) -> None:
    """A record went from `old` to `new` (open, closed, destroyed); the active records are the open ones."""
    repository.count_state_change(ctx.session, patient_id, old, new)


def document_deposited(ctx: Context, document_id: uuid.UUID, *, at: datetime, class_code: str) -> None:
    """A document was stored: a first deposit or a new version replacing one."""
    repository.count_document(ctx.session, document_id, at=at, class_code=class_code)


def emergency_declared(ctx: Context, *, at: datetime, mode: str) -> None:
    """An emergency ("emergency") or regulation ("regulation") episode was declared."""
    repository.count_emergency(ctx.session, at=at, mode=mode)
