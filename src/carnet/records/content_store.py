"""Where encrypted document contents live, behind a small interface (PostgreSQL here, object storage later).

Contents arrive already encrypted and are addressed by (patient, content id), never by a caller's path.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.records.models import DocumentContent


class ContentStore(Protocol):
    def put(self, patient_id: uuid.UUID, content_id: uuid.UUID, ciphertext: bytes) -> None: ...

    def get(self, patient_id: uuid.UUID, content_id: uuid.UUID) -> bytes | None: ...


class PostgresContentStore:
    """Contents in a table of the same database, written in the same transaction as their metadata."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, patient_id: uuid.UUID, content_id: uuid.UUID, ciphertext: bytes) -> None:
        self._session.add(DocumentContent(patient_id=patient_id, id=content_id, content_ct=ciphertext))

    def get(self, patient_id: uuid.UUID, content_id: uuid.UUID) -> bytes | None:
        statement = select(DocumentContent.content_ct).where(
            DocumentContent.patient_id == patient_id, DocumentContent.id == content_id
        )
        return self._session.scalars(statement).one_or_none()
