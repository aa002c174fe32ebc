"""All SQL of the insurer feed; every query is scoped to one patient but the retention job's, which runs over all."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from carnet.feeds.models import Reimbursement
from carnet.records.models import Record


def add_lines(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the lines not already stored (by the insurer's claim reference); return how many were new."""
    if not rows:
        return 0
    statement = insert(Reimbursement).values(rows).on_conflict_do_nothing(index_elements=["patient_id", "claim_ref"])
    return len(list(session.execute(statement.returning(Reimbursement.id))))


def lines(session: Session, patient_id: uuid.UUID, since: date) -> list[Reimbursement]:
    statement = (
        select(Reimbursement)
        .where(Reimbursement.patient_id == patient_id, Reimbursement.service_date >= since)
        .order_by(Reimbursement.service_date.desc(), Reimbursement.claim_ref)
    )
    return list(session.scalars(statement))


def line(session: Session, patient_id: uuid.UUID, line_id: uuid.UUID, since: date) -> Reimbursement | None:
    statement = select(Reimbursement).where(
        Reimbursement.patient_id == patient_id, Reimbursement.id == line_id, Reimbursement.service_date >= since
    )
    return session.scalars(statement).one_or_none()


def stale_lines(session: Session, before: date, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(record, line) of up to `limit` lines of care before `before`, on records not destroyed, locked for removal
    (SKIP LOCKED: two jobs running at once share the work)."""
    statement = (
        select(Reimbursement.patient_id, Reimbursement.id)
        .join(Record, Record.patient_id == Reimbursement.patient_id)
        .where(Reimbursement.service_date < before, Record.state != "destroyed")
        .order_by(Reimbursement.patient_id, Reimbursement.id)
        .limit(limit)
        .with_for_update(of=Reimbursement, skip_locked=True)
    )
    return [(row[0], row[1]) for row in session.execute(statement)]


def delete_lines(session: Session, keys: list[tuple[uuid.UUID, uuid.UUID]]) -> int:
    if not keys:
        return 0
    statement = delete(Reimbursement).where(tuple_(Reimbursement.patient_id, Reimbursement.id).in_(keys))
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def forget_lines(session: Session, patient_id: uuid.UUID) -> int:
    """Every line of a destroyed record (their details were under its shredded key)."""
    return int(session.execute(delete(Reimbursement).where(Reimbursement.patient_id == patient_id)).rowcount)  # type: ignore[attr-defined]
