"""All SQL of the insurer feed; every query is scoped to one patient."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from carnet.feeds.models import Reimbursement


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
