"""What a unit of work carries to the services: its session, the master keys, the limits in force."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from carnet.access.matrix import Matrix
from carnet.kit.crypto import DataKey, KeyProvider


@dataclass
class Context:
    session: Session
    keys: KeyProvider
    max_document_bytes: int
    # Data keys unwrapped during this unit of work only; dropped with it.
    data_keys: dict[uuid.UUID, DataKey] = field(default_factory=dict, repr=False)
    # The access matrix in force, read once per unit of work.
    matrix: Matrix | None = None
