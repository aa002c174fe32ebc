"""Tables of the access rules: the patient's settings, authorisations, blocks, emergency episodes,
legal representatives, and the versioned profession x class matrix."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


class AccessSettings(Base):
    """The patient's own choices: regular doctor and emergency opt-outs. No row means the defaults."""

    __tablename__ = "access_settings"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    regular_doctor_rpps: Mapped[str | None] = mapped_column(String(11))
    emergency_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    regulation_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Authorisation(Base):
    """A professional allowed by the patient: to read and deposit, or to deposit only. Lasts 12 months."""

    __tablename__ = "authorisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    professional_rpps: Mapped[str] = mapped_column(String(11))
    scope: Mapped[str] = mapped_column(String(12))
    granted_via: Mapped[str] = mapped_column(String(12))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("scope IN ('read_write', 'deposit')", name="scope"),
        CheckConstraint("granted_via IN ('patient', 'card')", name="granted_via"),
        # One living authorisation per professional and record; renewing extends it.
        Index(
            "uq_authorisations_living",
            "patient_id",
            "professional_rpps",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class Block(Base):
    """A professional the patient refuses in every mode, emergencies included."""

    __tablename__ = "blocks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    professional_rpps: Mapped[str] = mapped_column(String(11))
    blocked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unblocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "uq_blocks_living",
            "patient_id",
            "professional_rpps",
            unique=True,
            postgresql_where=text("unblocked_at IS NULL"),
        ),
    )


class EmergencyEpisode(Base):
    """A declared emergency access ("bris de glace") or centre 15 regulation, for one care episode."""

    __tablename__ = "emergency_episodes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    professional_rpps: Mapped[str] = mapped_column(String(11))
    mode: Mapped[str] = mapped_column(String(12))
    justification_ct: Mapped[bytes] = mapped_column(LargeBinary)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("mode IN ('emergency', 'regulation')", name="mode"),
        CheckConstraint("ends_at > started_at AND ends_at <= started_at + interval '24 hours'", name="max_24h"),
        Index("ix_emergency_episodes_patient_rpps", "patient_id", "professional_rpps", "ends_at"),
        # A professional's running episodes on any record, for the banner of their space.
        Index("ix_emergency_episodes_rpps_ends", "professional_rpps", "ends_at"),
    )


class Representative(Base):
    """A legal representative of a minor: a patient of their own, acting for the minor until majority."""

    __tablename__ = "representatives"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    representative_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[date] = mapped_column(Date)


class MatrixVersion(Base):
    __tablename__ = "matrix_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))


class MatrixCell(Base):
    """One allowed (profession, class) pair of a matrix version: what is not listed is refused."""

    __tablename__ = "matrix_cells"

    version: Mapped[int] = mapped_column(ForeignKey("matrix_versions.version"), primary_key=True)
    profession: Mapped[str] = mapped_column(String(2), primary_key=True)
    class_code: Mapped[str] = mapped_column(String(2), primary_key=True)
