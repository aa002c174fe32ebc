"""All SQL of the statistics: the counting upserts the services call, and the reads of the service.

Why counters moved in the transaction that changes what they count (and not a roll-up with a watermark):
an opening, a deposit or an emergency is counted exactly when it is committed and never when it is rolled
back, with nothing to schedule and no watermark to get wrong under transactions that commit out of order.
The cost is one `INSERT ... ON CONFLICT DO UPDATE SET n = n + ...` per event. PostgreSQL applies it
atomically under READ COMMITTED (a concurrent upsert of the same row waits for the first to commit, then
adds to its value), so no increment is lost; the row lock it takes lasts until the end of that transaction,
so the rows are cut fine enough that few events ever meet on one: a day x channel x département for openings
(a third of an opening a second nationally), a month x class x slot for documents (13 deposits a second),
a slot of the record id for the states. Rows are always locked in the same order (openings, pharmacy,
states; sorted within a statement), so two transactions never wait on each other in a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from carnet.identity.models import OperatorAccount
from carnet.stats.calendar import month_start, paris_day, week_start
from carnet.stats.models import (
    DocumentCount,
    EmergencyCount,
    OpeningCount,
    PharmacyOpeningCount,
    RecordStateCount,
    RemunerationClosing,
    RemunerationMonth,
)

SLOTS = 16
PRICE_PER_OPENING = Decimal("1.00")  # euros paid to a pharmacy for each record it opens


def _add(session: Session, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    statement = insert(model).values(list(rows))
    table = model.__table__
    adding = statement.on_conflict_do_update(index_elements=list(keys), set_={"n": table.c.n + statement.excluded.n})
    session.execute(adding)


def count_opening(
    session: Session, *, at: datetime, channel: str, departement: str, region: str, opened_by: str
) -> None:
    """One more record opened at `at` through `channel` in `departement`; a pharmacy's is one more euro owed."""
    day = paris_day(at)
    where = {"channel": channel, "departement": departement, "region": region, "n": 1}
    grains = [("day", day), ("week", week_start(day)), ("month", month_start(day))]
    rows = [{"grain": grain, "start": start, **where} for grain, start in sorted(grains)]
    _add(session, OpeningCount, rows, ("grain", "start", "channel", "departement"))
    if channel == "pharmacy":
        pharmacy = [{"month": month_start(day), "finess": opened_by, "n": 1}]
        _add(session, PharmacyOpeningCount, pharmacy, ("month", "finess"))


def count_state_change(session: Session, patient_id: uuid.UUID, old: str | None, new: str) -> None:
    """A record moved from state `old` (None: it was just opened) to `new`."""
    if old == new:
        return
    slot = patient_id.int % SLOTS
    moves = {new: 1} if old is None else {old: -1, new: 1}
    rows = [{"state": state, "slot": slot, "n": n} for state, n in sorted(moves.items())]
    _add(session, RecordStateCount, rows, ("state", "slot"))


def count_document(session: Session, document_id: uuid.UUID, *, at: datetime, class_code: str) -> None:
    row = {"month": month_start(paris_day(at)), "class_code": class_code, "slot": document_id.int % SLOTS, "n": 1}
    _add(session, DocumentCount, [row], ("month", "class_code", "slot"))


def count_emergency(session: Session, *, at: datetime, mode: str) -> None:
    _add(session, EmergencyCount, [{"month": month_start(paris_day(at)), "mode": mode, "n": 1}], ("month", "mode"))


# Reads.

GROUPS = {"channel": OpeningCount.channel, "region": OpeningCount.region, "departement": OpeningCount.departement}


def openings(session: Session, grain: str, by: str | None, first: date, last: date) -> list[tuple[Any, ...]]:
    """(start, [by], n) of each period of this grain starting between `first` and `last`, in order."""
    columns: list[Any] = [OpeningCount.start] + ([GROUPS[by]] if by else [])
    query = (
        select(*columns, func.sum(OpeningCount.n))
        .where(OpeningCount.grain == grain, OpeningCount.start.between(first, last))
        .group_by(*columns)
        .order_by(*columns)
    )
    return [tuple(row) for row in session.execute(query)]


def total_openings(session: Session, grain: str, first: date | None = None, last: date | None = None) -> int:
    conditions = [OpeningCount.grain == grain]
    if first is not None:
        conditions.append(OpeningCount.start >= first)
    if last is not None:
        conditions.append(OpeningCount.start <= last)
    return int(session.scalar(select(func.coalesce(func.sum(OpeningCount.n), 0)).where(and_(*conditions))) or 0)


def records_in_state(session: Session, state: str) -> int:
    query = select(func.coalesce(func.sum(RecordStateCount.n), 0)).where(RecordStateCount.state == state)
    return int(session.scalar(query) or 0)


def documents(session: Session, first: date, last: date) -> list[tuple[Any, ...]]:
    query = (
        select(DocumentCount.month, DocumentCount.class_code, func.sum(DocumentCount.n))
        .where(DocumentCount.month.between(first, last))
        .group_by(DocumentCount.month, DocumentCount.class_code)
        .order_by(DocumentCount.month, DocumentCount.class_code)
    )
    return [tuple(row) for row in session.execute(query)]


def emergencies(session: Session, first: date, last: date) -> list[tuple[Any, ...]]:
    query = (
        select(EmergencyCount.month, EmergencyCount.mode, EmergencyCount.n)
        .where(EmergencyCount.month.between(first, last))
        .order_by(EmergencyCount.month, EmergencyCount.mode)
    )
    return [tuple(row) for row in session.execute(query)]


def pharmacy_openings(session: Session, first: date, last: date, finess: str | None) -> list[tuple[Any, ...]]:
    """(month, finess, openings) as counted now."""
    query = select(PharmacyOpeningCount.month, PharmacyOpeningCount.finess, PharmacyOpeningCount.n).where(
        PharmacyOpeningCount.month.between(first, last)
    )
    if finess is not None:
        query = query.where(PharmacyOpeningCount.finess == finess)
    query = query.order_by(PharmacyOpeningCount.month, PharmacyOpeningCount.finess)
    return [tuple(row) for row in session.execute(query)]


def frozen_remuneration(session: Session, first: date, last: date, finess: str | None) -> list[tuple[Any, ...]]:
    """(month, finess, openings, amount) of the closed months."""
    query = select(
        RemunerationMonth.month, RemunerationMonth.finess, RemunerationMonth.openings, RemunerationMonth.amount
    ).where(RemunerationMonth.month.between(first, last))
    if finess is not None:
        query = query.where(RemunerationMonth.finess == finess)
    query = query.order_by(RemunerationMonth.month, RemunerationMonth.finess)
    return [tuple(row) for row in session.execute(query)]


def pharmacy_opening_totals(session: Session, first: date, last: date) -> list[tuple[Any, ...]]:
    """(month, pharmacies, openings) as counted now: every pharmacy's openings of each month, added up."""
    query = (
        select(PharmacyOpeningCount.month, func.count(), func.sum(PharmacyOpeningCount.n))
        .where(PharmacyOpeningCount.month.between(first, last))
        .group_by(PharmacyOpeningCount.month)
        .order_by(PharmacyOpeningCount.month)
    )
    return [tuple(row) for row in session.execute(query)]


def frozen_remuneration_totals(session: Session, first: date, last: date) -> list[tuple[Any, ...]]:
    """(month, pharmacies, openings, amount) of the closed months, every pharmacy added up."""
    query = (
        select(
            RemunerationMonth.month,
            func.count(),
            func.sum(RemunerationMonth.openings),
            func.sum(RemunerationMonth.amount),
        )
        .where(RemunerationMonth.month.between(first, last))
        .group_by(RemunerationMonth.month)
        .order_by(RemunerationMonth.month)
    )
    return [tuple(row) for row in session.execute(query)]


def closed_months(session: Session, first: date, last: date) -> set[date]:
    query = select(RemunerationClosing.month).where(RemunerationClosing.month.between(first, last))
    return set(session.scalars(query))


def last_closed_month(session: Session) -> date | None:
    return session.scalar(select(func.max(RemunerationClosing.month)))


def first_counted_month(session: Session) -> date | None:
    return session.scalar(select(func.min(PharmacyOpeningCount.month)))


def close_month(session: Session, month: date, now: datetime) -> bool:
    """Freeze the remuneration of an ended month; False when it was already frozen (by this or another run).

    The closing row is written first: a second run at the same time waits on it, then finds it and stops.
    """
    marked = session.execute(
        insert(RemunerationClosing)
        .values(month=month, closed_at=now)
        .on_conflict_do_nothing(index_elements=["month"])
        .returning(RemunerationClosing.month)
    ).first()
    if marked is None:
        return False
    counted = select(
        PharmacyOpeningCount.month,
        PharmacyOpeningCount.finess,
        PharmacyOpeningCount.n,
        PharmacyOpeningCount.n * PRICE_PER_OPENING,
    ).where(PharmacyOpeningCount.month == month)
    session.execute(insert(RemunerationMonth).from_select(["month", "finess", "openings", "amount"], counted))
    return True


def operator_roles(session: Session, operator_id: uuid.UUID) -> tuple[str, list[str]] | None:
    """The login and roles of an operator account in service, None for an unknown or disabled one."""
    row = session.execute(
        select(OperatorAccount.login, OperatorAccount.roles).where(
            OperatorAccount.id == operator_id, OperatorAccount.disabled_at.is_(None)
        )
    ).first()
    return None if row is None else (row[0], list(row[1]))
