"""Counter tables. No row names a patient: each holds a count for a period and a few codes.

See stats/repository.py for how and when they move, and the migration 20261204_stats_counters for how
they were filled from the rows that existed before them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Numeric, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class OpeningCount(Base):
    """Records opened in a Paris-local day, week (from Monday) or month, per channel and département.

    The three grains are kept side by side so that any question reads at most a few tens of thousands of
    rows: a day row per day x channel x département (about 500 rows a day at national size), a week row, a
    month row. The region is the département's, kept here so a question by region needs no join.
    """

    __tablename__ = "stats_openings"

    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    start: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    region: Mapped[str] = mapped_column(String(2))
    n: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("grain IN ('day', 'week', 'month')", name="grain"),)


class RecordStateCount(Base):
    """How many records are in each state (open, closed, destroyed), spread over slots.

    Each change of state moves one unit from the old state's row to the new one's in the slot of the
    record's id, so concurrent openings and closings of different records rarely wait on the same row;
    a state's count is the sum of its slots (a slot may be negative: only the sum means something).
    """

    __tablename__ = "stats_record_states"

    state: Mapped[str] = mapped_column(String(10), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class DocumentCount(Base):
    """Documents deposited per Paris month and class, spread over slots (13 deposits a second nationally
    would otherwise all wait on the month's row of laboratory results)."""

    __tablename__ = "stats_documents"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    class_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class EmergencyCount(Base):
    """Emergency accesses and centre 15 regulation accesses declared per Paris month."""

    __tablename__ = "stats_emergencies"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    mode: Mapped[str] = mapped_column(String(12), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class PharmacyOpeningCount(Base):
    """Records opened by each pharmacy (its FINESS) per Paris month: what it is paid for."""

    __tablename__ = "stats_pharmacy_openings"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class RemunerationClosing(Base):
    """A month whose remuneration is frozen: its amounts were copied to remuneration_months once it ended."""

    __tablename__ = "remuneration_closings"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RemunerationMonth(Base):
    """What a pharmacy is owed for an ended month, frozen when the month was closed: no later event moves it."""

    __tablename__ = "remuneration_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    openings: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
