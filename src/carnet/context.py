"""What a unit of work carries to the services: its session, the master keys, the limits in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from carnet.access.matrix import Matrix
from carnet.audit.chain import AuditEvent
from carnet.kit.crypto import DataKey, KeyProvider


@dataclass
class Context:
    session: Session
    keys: KeyProvider
    max_document_bytes: int
    # Data keys unwrapped during this unit of work only; dropped with it.
    data_keys: dict[uuid.UUID, DataKey] = field(default_factory=dict, repr=False)
    # The whole access matrix, for operators' views and changes.
    matrix: Matrix | None = None
    # Where the request came from, for the audit trail.
    source: str | None = None
    request_id: str | None = None
    # The gate's decisions in this unit of work, written to the trail when it ends, committed or not.
    audit: list[AuditEvent] = field(default_factory=list, repr=False)
